# Everything runs from the virtualenv this file builds; `make run` works on a fresh clone with Python 3.11.
VENV ?= .venv
PYTHON_SYSTEM := $(shell command -v python3.11 2>/dev/null || command -v python3)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STATE_DIR ?= .local

.PHONY: install run token test test-unit test-integration test-e2e bench clean distclean

install: $(STAMP)

# The stamp is newer than both requirements files once they are installed: edits re-run pip, nothing else does.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON_SYSTEM) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(STAMP)
	$(PY) -m local run --state-dir $(STATE_DIR)

# `make token USER=bob`; only a USER given on the command line counts (the environment's is the login name).
token: $(STAMP)
	@$(PY) -m local token $(if $(filter command line,$(origin USER)),$(USER),alice) --state-dir $(STATE_DIR)

test: $(STAMP)
	VENV=$(VENV) scripts/test.sh tests

test-unit: $(STAMP)
	VENV=$(VENV) scripts/test.sh tests/unit

test-integration: $(STAMP)
	VENV=$(VENV) scripts/test.sh tests/integration

test-e2e: $(STAMP)
	VENV=$(VENV) scripts/test.sh tests/e2e

bench: $(STAMP)
	@set -e; for f in $(sort $(wildcard bench/*.py)); do echo "== $$f"; $(PY) $$f; done

clean:
	rm -rf $(STATE_DIR) .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)

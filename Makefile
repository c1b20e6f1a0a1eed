# Everything runs from the virtualenv this file builds; `make run` works on a fresh clone with Python 3.11.
VENV ?= .venv
PYTHON_SYSTEM := $(shell command -v python3.11 2>/dev/null || command -v python3)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STATE_DIR ?= .local

.PHONY: install run token lint test test-unit test-integration test-e2e test-browser screenshots bench package check clean distclean

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

# ruff (pyproject.toml: rules and line length) and mypy (strict on chalicelib/domain and chalicelib/services).
lint: $(STAMP)
	@status=0; $(VENV)/bin/ruff check . || status=1; $(VENV)/bin/mypy || status=1; exit $$status

test: $(STAMP) lint check
	VENV=$(VENV) scripts/test.sh tests

test-unit: $(STAMP)
	VENV=$(VENV) scripts/test.sh tests/unit

test-integration: $(STAMP)
	VENV=$(VENV) scripts/test.sh tests/integration

test-e2e: $(STAMP)
	VENV=$(VENV) scripts/test.sh tests/e2e

test-browser: $(STAMP)
	VENV=$(VENV) scripts/test.sh tests/browser

# Re-takes the README's pictures of the web console (docs/screenshots/*.png) while the browser tests run.
screenshots: $(STAMP)
	SCREENSHOTS_DIR=docs/screenshots VENV=$(VENV) scripts/test.sh tests/browser

bench: $(STAMP)
	@set -e; for f in $(sort $(wildcard bench/*.py)); do echo "== $$f"; $(PY) $$f; done

# Deploying to AWS (README): one CloudFormation template (build/sam.yaml) and build/deployment.zip.
# `chalice package` works offline once the wheels are cached; it only needs a region name.
STAGE ?= dev
BUILD ?= build
CHECK_VENV ?= .venv-check
CHECK_STAMP := $(CHECK_VENV)/.installed
ASL_VALIDATOR := deploy/asl-validator/node_modules/.bin/asl-validator

# The zip gets bytecode compiled by the template's Lambda runtime version (PACKAGE_PYTHON must be that version).
PACKAGE_PYTHON ?= $(PY)

package: $(STAMP)
	rm -rf $(BUILD)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(VENV)/bin/chalice package --pkg-format cloudformation \
		--merge-template deploy/template.yml --stage $(STAGE) $(BUILD)
	$(PY) deploy/finalize.py $(BUILD)/sam.yaml
	$(PACKAGE_PYTHON) deploy/precompile.py $(BUILD)/deployment.zip $(BUILD)/sam.yaml

check: package $(CHECK_STAMP) $(ASL_VALIDATOR)
	VENV=$(VENV) CHECK_VENV=$(CHECK_VENV) deploy/check.sh $(BUILD)/sam.yaml

$(CHECK_STAMP): requirements-check.txt
	test -x $(CHECK_VENV)/bin/python || $(PYTHON_SYSTEM) -m venv $(CHECK_VENV)
	$(CHECK_VENV)/bin/python -m pip install --quiet -r requirements-check.txt
	touch $@

$(ASL_VALIDATOR): deploy/asl-validator/package-lock.json
	npm ci --prefix deploy/asl-validator --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(STATE_DIR) .pytest_cache $(BUILD)
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(CHECK_VENV) deploy/asl-validator/node_modules

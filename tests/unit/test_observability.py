"""Observability through the app's middleware: the business metrics each invocation writes (one EMF line on
stdout, as CloudWatch reads them), and the correlation ids on every log line of an invocation."""
from __future__ import annotations

import io
import json
import logging
from types import SimpleNamespace
from typing import Any, cast

import pytest

from chalicelib import metrics as business
from chalicelib.metrics import metrics
from chalicelib.observability import logger, observe
from chalicelib.services.workflow import Stage
from tests.unit.test_approvals_api import PAYMENT_TOKEN, api  # noqa: F401  (the in-process API harness)


@pytest.fixture(autouse=True)
def fresh_metrics(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def emitted(output: str) -> list[dict[str, Any]]:
    """{metric name: total, ..., "_meta": the whole line} of every EMF line in `output`."""
    blobs = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            emf = json.loads(line)
            (directive,) = emf["_aws"]["CloudWatchMetrics"]
            assert directive["Namespace"] == business.NAMESPACE and emf["service"] == business.SERVICE
            names = [m["Name"] for m in directive["Metrics"]]
            # A metric counted more than once in an invocation is a list of its values: their sum is the count.
            values = {name: sum(emf[name]) if isinstance(emf[name], list) else emf[name] for name in names}
            blobs.append({**values, "_meta": emf})
    return blobs


def log_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"_aws"' not in line]


def test_creating_a_case_counts_it_once_per_request(api, capsys):  # noqa: F811
    api.call("POST", "/cases", "alice",
             {"title": "Leak", "caseType": "GENERAL", "priority": "LOW", "customerId": "CUST-1"})
    api.call("GET", "/cases", "alice")
    assert [{k: v for k, v in blob.items() if k != "_meta"} for blob in emitted(capsys.readouterr().out)] == [
        {business.CASES_CREATED: 1.0},
    ]


def test_an_approval_a_payment_and_the_closing_are_counted(api, capsys):  # noqa: F811
    case_id = api.awaiting_approval()
    capsys.readouterr()
    assert api.call("POST", f"/approvals/{case_id}-a1/decision", "ava", {"decision": "APPROVE"})[0] == 200
    api.client.lambda_.invoke("wf_compensate", {"caseId": case_id})
    api.workflow.wait(case_id, Stage.PAYMENT, PAYMENT_TOKEN, "exec-1")
    assert api.call("POST", f"/cases/{case_id}/compensation/payment", "fay", {"reference": "SEPA-1"})[0] == 200
    closed = api.client.lambda_.invoke("wf_complete", {"caseId": case_id, "executionId": "exec-1"})
    assert closed.payload == {"status": "CLOSED"}
    blobs = emitted(capsys.readouterr().out)
    assert [{k: v for k, v in blob.items() if k != "_meta"} for blob in blobs] == [
        {business.APPROVALS_APPROVED: 1.0},
        {business.COMPENSATION_PAID: 1.0, business.COMPENSATION_PAID_AMOUNT: 800.0},
        {business.CASES_CLOSED: 1.0},
    ]
    # A workflow task's metrics name the case and the execution, to find its logs and trace by.
    assert blobs[-1]["_meta"]["case_id"] == case_id and blobs[-1]["_meta"]["execution_id"] == "exec-1"


def test_a_rejection_is_counted_as_one(api, capsys):  # noqa: F811
    case_id = api.awaiting_approval()
    capsys.readouterr()
    assert api.call("POST", f"/approvals/{case_id}-a1/decision", "ava", {"decision": "REJECT"})[0] == 200
    assert [{k: v for k, v in b.items() if k != "_meta"} for b in emitted(capsys.readouterr().out)] == [
        {business.APPROVALS_REJECTED: 1.0},
    ]


@pytest.fixture
def log_output() -> Any:
    """What the app's log handler writes (it holds the stdout of its import time, not the test's)."""
    buffer = io.StringIO()
    handler = cast(logging.StreamHandler, logger.registered_handler)  # Powertools logs to a stream
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def test_every_log_line_of_an_invocation_carries_its_correlation_ids(log_output):
    context = SimpleNamespace(function_name="wf_escalate", aws_request_id="req-7")
    event = SimpleNamespace(event={"caseId": "case-9", "executionId": "arn:exec:9", "stage": "APPROVAL"},
                            context=context)

    def handler(_: Any) -> str:
        logger.info("from the Powertools logger")
        logging.getLogger("chalicelib.services.example").warning("from a service's own logger")
        return "done"

    assert observe(event, handler) == "done"
    lines = log_lines(log_output.getvalue())
    assert [line["message"] for line in lines] == ["from the Powertools logger", "from a service's own logger"]
    for line in lines:
        assert (line["case_id"], line["execution_id"], line["stage"]) == ("case-9", "arn:exec:9", "APPROVAL")
        assert (line["function_name"], line["function_request_id"]) == ("wf_escalate", "req-7")
    logger.info("after the invocation")
    assert "case_id" not in log_lines(log_output.getvalue())[-1]  # nothing leaks into the next invocation


def test_with_metrics_turned_off_nothing_is_written_and_nothing_piles_up(monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")  # what the local system sets
    event = SimpleNamespace(event={}, context=None)
    observe(event, lambda _: business.count(business.CASES_CREATED))
    assert emitted(capsys.readouterr().out) == [] and not metrics.metric_set

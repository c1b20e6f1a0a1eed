"""local/costs.py: CPU counted once, under what used it, and nothing left patched after it."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import boto3
from chalice import Chalice
from chalice.local import ChaliceRequestHandler
from moto import mock_aws
from moto.core.responses import BaseResponse

from local.costs import CostAccounting


def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_a_nested_call_is_counted_under_its_own_name_only(tmp_path: Path) -> None:
    costs = CostAccounting(tmp_path / "costs.jsonl")

    def outer() -> str:
        _spin(0.05)
        costs.timed(lambda: "inner", lambda: _spin(0.1))
        return "done"

    assert costs.timed(lambda: "outer", outer) == "done"
    totals = costs.figures()["totals"]
    assert totals["inner"][0] == totals["outer"][0] == 1
    assert totals["outer"][1] < 0.1 <= totals["inner"][1]  # the outer's 0.05 s, without the inner call's 0.1 s
    assert "| inner | 1 |" in costs.table()


def test_moto_actions_handlers_and_threads_are_counted_then_unpatched(tmp_path: Path) -> None:
    app = Chalice("costs")

    @app.lambda_function(name="work")
    def work(event: dict[str, int], context: object) -> int:
        return event["n"] * 2

    originals = (BaseResponse.__dict__["call_action"], threading.Thread.__dict__["run"],
                 ChaliceRequestHandler.__dict__["_generic_handle"], dict(app.handler_map))
    path = tmp_path / "costs.jsonl"
    costs = CostAccounting(path, interval=3600)
    costs.install(app)
    try:
        with mock_aws():
            boto3.client("sqs", region_name="us-east-1").list_queues()
        assert app.handler_map["work"]({"n": 21}, None) == 42
        thread = threading.Thread(target=_spin, args=(0.01,))
        thread.start()
        thread.join()
    finally:
        costs.uninstall()
    totals = json.loads(path.read_text().splitlines()[-1])["totals"]
    assert totals["moto sqs.ListQueues"][0] == 1
    assert totals["lambda work"][0] == 1
    assert totals["thread _spin"][0] == 1
    assert originals == (BaseResponse.__dict__["call_action"], threading.Thread.__dict__["run"],
                         ChaliceRequestHandler.__dict__["_generic_handle"], dict(app.handler_map))

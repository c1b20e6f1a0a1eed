"""Per-user request budgets (issue 12, item 13) on a running local system with a Redis of the test's own and a
small download budget, over HTTP with real tokens: an insider hammering a document's downloads is refused with
429 and Retry-After (each refused request records nothing), another user is unaffected, and with Redis killed
every request passes."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from local.redis_server import RedisServer, redis_server_binary
from tests.e2e.test_documents import post_form, upload_body, wait_for_versions

pytestmark = pytest.mark.skipif(not redis_server_binary(), reason="needs redis-server on PATH")

DOWNLOADS_PER_MINUTE, DOWNLOAD_BURST = 6, 3
NOTES = b"Meter reading, 4 March: 01234.\n"


@pytest.fixture(scope="module")
def system(redis_server: RedisServer, local_system_with: Callable[..., Any]) -> Any:
    return local_system_with(
        {"REDIS_URL": redis_server.url, "REDIS_BREAKER_RESET_SECONDS": "0.5",
         "DOWNLOAD_BUDGET_PER_MINUTE": str(DOWNLOADS_PER_MINUTE), "DOWNLOAD_BUDGET_BURST": str(DOWNLOAD_BURST)},
        seed=False,
    )


def test_hammered_downloads_are_refused_others_unaffected_and_a_dead_redis_lets_them_pass(
    system: Any, redis_server: RedisServer,
) -> None:
    alice, sam = system.api("alice"), system.api("sam")
    case = alice.post("/cases", json={"title": "Meter dispute", "caseType": "GENERAL", "priority": "LOW",
                                      "customerId": "CUST-1003"}).json()
    documents = f"/cases/{case['id']}/documents"
    ticket = alice.post(documents, json=upload_body(NOTES, "meter.txt")).json()
    assert post_form(ticket, NOTES).status_code in (200, 201, 204)
    document = f"{documents}/{ticket['documentId']}"
    wait_for_versions(alice, document, 1, timeout=60, status="READY")

    answers = [alice.get(f"{document}/download") for _ in range(DOWNLOAD_BURST + 2)]
    assert [a.status_code for a in answers] == [200] * DOWNLOAD_BURST + [429, 429]
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "TOO_MANY_REQUESTS"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60 // DOWNLOADS_PER_MINUTE
    assert alice.get(document).status_code == 200  # her other requests have their own budget
    assert sam.get(f"{document}/download").status_code == 200  # so does everyone else's downloads
    history = alice.get(f"/cases/{case['id']}/history").json()["items"]
    recorded = [e for e in history if e["type"] == "DOCUMENT_DOWNLOADED"]
    assert len(recorded) == DOWNLOAD_BURST + 1  # alice's three and sam's one: a refused download left no trace

    redis_server.kill()  # fail open: the budgets are not enforced while Redis is away
    assert [alice.get(f"{document}/download").status_code for _ in range(4)] == [200] * 4

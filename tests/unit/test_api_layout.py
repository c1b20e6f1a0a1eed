"""The app's composition: blueprints by area keep every operation, every Lambda function's name and entry
point, and the observability middleware; a route's errors come from what it declares."""
from __future__ import annotations

import importlib

from chalice.test import Client

from app import app
from chalicelib.errors import Conflict, Forbidden
from chalicelib.web import answers

# Every operation app.py served before the routes moved into blueprints (method, path, operationId).
OPERATIONS = {
    ("GET", "/approvals", "list_approvals"),
    ("GET", "/approvals/{approval_id}", "get_approval"),
    ("POST", "/approvals/{approval_id}/decision", "decide_approval"),
    ("GET", "/case-types", "list_case_types"),
    ("POST", "/case-types", "create_case_type"),
    ("GET", "/case-types/{case_type_id}", "get_case_type"),
    ("PUT", "/case-types/{case_type_id}", "publish_case_type"),
    ("GET", "/case-types/{case_type_id}/versions/{version}", "get_case_type_version"),
    ("POST", "/case-types/{case_type_id}/retire", "retire_case_type"),
    ("GET", "/case-types/{case_type_id}/schema", "case_type_schema"),
    ("POST", "/cases", "create_case"),
    ("GET", "/cases", "list_cases"),
    ("GET", "/cases/{case_id}", "get_case"),
    ("PATCH", "/cases/{case_id}", "update_case"),
    ("POST", "/cases/{case_id}/comments", "add_comment"),
    ("GET", "/cases/{case_id}/comments", "list_comments"),
    ("GET", "/cases/{case_id}/compensation", "get_compensation"),
    ("POST", "/cases/{case_id}/compensation/payment", "confirm_payment"),
    ("POST", "/cases/{case_id}/compensation/hold/resolve", "resolve_payment_hold"),
    ("GET", "/cases/{case_id}/documents", "list_documents"),
    ("POST", "/cases/{case_id}/documents", "request_document_upload"),
    ("DELETE", "/cases/{case_id}/documents/{document_id}", "delete_document"),
    ("GET", "/cases/{case_id}/documents/{document_id}", "get_document"),
    ("GET", "/cases/{case_id}/documents/{document_id}/download", "download_document"),
    ("POST", "/cases/{case_id}/documents/{document_id}/versions", "request_document_version"),
    ("POST", "/cases/{case_id}/exports", "export_documents"),
    ("GET", "/cases/{case_id}/history", "case_history"),
    ("GET", "/cases/{case_id}/history/verify", "verify_history"),
    ("GET", "/cases/{case_id}/legal-hold", "get_legal_hold"),
    ("PUT", "/cases/{case_id}/legal-hold", "put_legal_hold"),
    ("POST", "/cases/{case_id}/reopen", "reopen_case"),
    ("GET", "/cases/{case_id}/workflow", "case_workflow"),
    ("POST", "/cases/{case_id}/workflow/resume", "resume_workflow"),
    ("GET", "/customers/{customer_id}", "get_customer"),
    ("GET", "/data-products/cases", "case_data_product"),
    ("GET", "/health", "health"),
    ("GET", "/openapi.json", "openapi"),
    ("GET", "/personnel", "list_personnel"),
    ("GET", "/personnel/{username}", "get_person"),
    ("PUT", "/personnel/{username}", "put_person"),
    ("PUT", "/personnel/{username}/delegation", "put_delegation"),
    ("GET", "/personnel/{username}/delegation", "get_delegation"),
    ("DELETE", "/personnel/{username}/delegation", "revoke_delegation"),
    ("GET", "/tasks", "list_tasks"),
    ("POST", "/tasks/reassign", "reassign_tasks"),
    ("GET", "/tasks/{task_id}", "get_task"),
    ("POST", "/tasks/{task_id}/claim", "claim_task"),
    ("POST", "/tasks/{task_id}/complete", "complete_task"),
    ("POST", "/tasks/{task_id}/reassign", "reassign_task"),
    ("POST", "/webhooks", "register_webhook"),
    ("GET", "/webhooks", "list_webhooks"),
    ("DELETE", "/webhooks/{webhook_id}", "delete_webhook"),
    ("GET", "/webhooks/{webhook_id}/deliveries", "list_webhook_deliveries"),
    # notifications for people (issue 16)
    ("GET", "/notifications", "list_notifications"),
    ("GET", "/notifications/unread-count", "count_unread_notifications"),
    ("POST", "/notifications/{notification_id}/read", "read_notification"),
    ("POST", "/notifications/read-all", "read_all_notifications"),
    ("GET", "/me/preferences", "get_preferences"),
    ("PUT", "/me/preferences", "put_preferences"),
    # business calendars (issue 15)
    ("PUT", "/calendars/{calendar_id}", "put_calendar"),
    ("GET", "/calendars", "list_calendars"),
    ("GET", "/calendars/{calendar_id}", "get_calendar"),
}
# The Lambda functions the local system, the merged template, .chalice/ policy files and Step Functions name.
LAMBDA_FUNCTIONS = {
    "on_case_stream", "publish_case_data", "publish_integration_events", "notify_people", "escalate_overdue_tasks",
    "on_document_uploaded", "deliver_webhooks",
    "wf_initiate", "wf_assign", "wf_wait", "wf_escalate", "wf_complete", "wf_rollback", "wf_compensate",
    "doc_process_start", "doc_process_finish", "doc_process_failed",
}


def test_the_openapi_document_keeps_every_operation():
    with Client(app) as client:
        doc = client.http.get("/openapi.json").json_body
    served = {
        (method.upper(), path, operation["operationId"])
        for path, operations in doc["paths"].items() for method, operation in operations.items()
    }
    assert served == OPERATIONS


def _lambda_functions():
    return [*app.event_sources, *app.pure_lambda_functions]


def test_lambda_functions_keep_their_names():
    assert {function.name for function in _lambda_functions()} == LAMBDA_FUNCTIONS


def test_lambda_runs_each_function_through_app_so_its_middleware_is_attached():
    # Only importing app.py registers the blueprints with the middleware (test_observability sees it run).
    for function in _lambda_functions():
        module, attribute = function.handler_string.rsplit(".", 1)
        assert module == "app", function.handler_string
        assert getattr(importlib.import_module(module), attribute) is app.handler_map[function.name]


def test_a_routes_errors_follow_from_its_declaration_and_the_domain_errors_it_raises():
    implied = dict(public=False, query=(), headers=(), validated_params=(), raises=())
    # Every authenticated route may answer 429 (the caller's request budget) and 401.
    assert answers("/cases", body=True, **implied) == (400, 401, 413, 415, 429)
    assert answers("/cases/{case_id}", body=False, **{**implied, "headers": ("If-Match",)}) == (
        400, 401, 404, 412, 429,
    )
    assert answers("/tasks", body=False, **{**implied, "query": ("status",), "raises": (Forbidden, Conflict)}) == (
        400, 401, 403, 409, 429,
    )
    assert answers("/health", body=False, **{**implied, "public": True}) == ()

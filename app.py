"""Case Management System: the Chalice app. It only composes: observability, the authorizer, and the blueprints
of chalicelib/api/, one module per area (routes) or per kind of Lambda handler. Every route is declared in its
area's module; everything else the handlers run lives in chalicelib/."""
from __future__ import annotations

import os

from chalice import Chalice, CognitoUserPoolAuthorizer

from chalicelib import bootstrap, observability
from chalicelib.api import (
    approvals, case_types, cases, customers, data_products, document_tasks, documents, meta, notifications, personnel,
    schedule, streams, tasks, webhook_delivery, webhooks, workflow_tasks,
)
from chalicelib.api import calendars
from chalicelib.web import Api

# Lambda runs each function below as `app.<name>` (see chalicelib/api/__init__.py), so this module must name them.
from chalicelib.api.document_tasks import (  # noqa: F401
    doc_process_failed, doc_process_finish, doc_process_start, on_document_uploaded,
)
from chalicelib.api.schedule import escalate_overdue_tasks  # noqa: F401
from chalicelib.api.streams import (  # noqa: F401
    notify_people, on_case_stream, publish_case_data, publish_integration_events,
)
from chalicelib.api.webhook_delivery import deliver_webhooks  # noqa: F401
from chalicelib.api.workflow_tasks import (  # noqa: F401
    wf_assign, wf_compensate, wf_complete, wf_escalate, wf_initiate, wf_rollback, wf_wait,
)

app = Chalice(app_name=meta.APP_NAME)
# Before any blueprint: a Lambda handler takes the middleware registered when its blueprint is.
observability.attach(app)  # logs with correlation ids, traces and metrics for every function

# On AWS (stages with AUTH_MODE=apigateway, set while `chalice package` loads the app) API Gateway's
# Cognito authorizer checks tokens before Lambda runs. Locally the app verifies tokens itself:
# chalice local's imitation of that authorizer trusts any token and crashes on malformed ones.
# The pool ARN is only known per account; the merged CloudFormation template sets it on AWS.
authorizer = (
    CognitoUserPoolAuthorizer(
        "cognito",
        provider_arns=[
            os.environ.get("COGNITO_USER_POOL_ARN", "arn:aws:cognito-idp:us-east-1:000000000000:userpool/cms"),
        ],
    )
    if os.environ.get("AUTH_MODE") == "apigateway"
    else None
)
api = Api(
    app, authorizer, authenticate=lambda request: bootstrap.container().authenticate(request),
    spend=lambda principal, budget: bootstrap.container().budgets.spend(principal.username, budget),
)
api.register(
    meta.routes(documented=api), case_types.routes, cases.routes, tasks.routes, approvals.routes, documents.routes,
    customers.routes, personnel.routes, data_products.routes, webhooks.routes, notifications.routes,
    calendars.routes,
)
for lambda_handlers in (
    workflow_tasks.handlers, document_tasks.handlers, streams.handlers, schedule.handlers, webhook_delivery.handlers,
):
    app.register_blueprint(lambda_handlers)

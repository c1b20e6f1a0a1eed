"""The app's entry points by area: each module holds one Chalice blueprint. The HTTP areas (cases, tasks,
approvals, documents, customers, personnel, data products, meta) declare routes through `chalicelib.web.Routes`;
the others hold the Lambda functions Step Functions calls (workflow_tasks, document_tasks), the table's stream
consumers (streams) and the schedule. app.py registers them all."""
from __future__ import annotations

from chalice import Blueprint

# Chalice deploys a blueprint's Lambda function as `<blueprint's import name>.<function>`. Naming every blueprint
# after the app module makes Lambda import app.py first, which attaches the middleware (observability) before
# registering the blueprints; under the module's own name it would skip both (aws/chalice#1566). app.py
# therefore re-exports each Lambda handler.
ENTRY_MODULE = "app"


def blueprint() -> Blueprint:
    return Blueprint(ENTRY_MODULE)

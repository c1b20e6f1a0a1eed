"""Business metrics (CloudWatch embedded metric format through Powertools Metrics), counted by the services
where the thing happens. The observability middleware writes them out once per invocation; locally the
local system turns the output off (POWERTOOLS_METRICS_DISABLED) and tests read `metrics.metric_set`."""
from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = "CaseManagement"
SERVICE = "case-management"

CASES_CREATED = "CasesCreated"
CASES_CLOSED = "CasesClosed"
APPROVALS_APPROVED = "ApprovalsApproved"
APPROVALS_REJECTED = "ApprovalsRejected"
COMPENSATION_PAID = "CompensationPaid"
COMPENSATION_PAID_AMOUNT = "CompensationPaidAmount"  # in the case's currency units, summed over payments
DOCUMENTS_PROCESSED = "DocumentsProcessed"
DOCUMENTS_QUARANTINED = "DocumentsQuarantined"
SLA_BREACHES = "SlaBreaches"  # tasks escalated because they were past their due time
WORKFLOW_ESCALATIONS = "WorkflowEscalations"  # workflow stages that waited too long

metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def count(name: str, value: float = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def amount(name: str, value: float) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.NoUnit, value=value)

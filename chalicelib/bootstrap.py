"""The composition root: builds adapters and services from settings on first use (never at import), once
per Lambda container, each with its collaborators passed to its constructor. Tests swap the whole container
with `override`. Implementations are imported inside the builders to keep cold starts short; their types only
for the checker."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional, Sequence, cast

from .settings import Settings

if TYPE_CHECKING:
    from chalice.app import Request

    from .auth import Authenticator
    from .cache import Cache
    from .domain.access import Principal
    from .domain.custom_fields import FieldDefinition
    from .ratelimit import NoBudgets, RequestBudgets
    from .integration import Integration
    from .ports import CalendarStore
    from .ports import (
        CaseRepository, CaseTypeStore, DecisionStore, DelegationStore, DocumentStore, LastKnownStore, Mailer,
        NotificationStore, ObjectStorage, ObjectStore, ProcessingResults, TokenStore, UserDirectory, WorkflowEngine,
        WorkRepository,
    )
    from .services.approvals import ApprovalService
    from .services.case_types import CaseTypeCatalog
    from .services.case_data_product import CaseDataProduct
    from .services.calendars import CalendarService
    from .services.sla import SlaViews
    from .services.cases import CaseService
    from .services.compensation import CompensationService
    from .services.customers import CustomerDirectory, CustomerViews
    from .services.delegations import DelegationService
    from .services.document_processing import DocumentProcessing
    from .services.documents import DocumentService
    from .services.migrations import CaseMigrations
    from .services.notifications import NotificationFanOut, NotificationService
    from .services.personnel import PersonnelService
    from .services.tasks import TaskService
    from .services.workflow import WorkflowService

EngineFactory = Callable[[], "WorkflowEngine"]


@dataclass
class Container:
    settings: Settings
    cases: CaseService
    case_types: CaseTypeCatalog
    authenticator: Authenticator
    tasks: TaskService
    personnel: PersonnelService
    delegations: DelegationService
    approvals: ApprovalService
    compensation: CompensationService
    workflow: WorkflowService
    processing: DocumentProcessing
    documents: DocumentService
    cache: Cache  # read-through data for the services, shared by them
    customers: CustomerDirectory
    customer_views: CustomerViews  # the directory's views, for the people who may see each customer
    case_data: CaseDataProduct
    budgets: RequestBudgets | NoBudgets  # per-user request budgets, in the cache's Redis
    integration: Integration  # integration events and webhooks (integration.py)
    notifications: NotificationService  # a person's own notifications and preferences
    notify: NotificationFanOut  # the stream consumer that writes them
    calendars: CalendarService  # business calendars, and the one lookup of a calendar by id
    migrations: CaseMigrations  # running cases moved between versions of their type
    sla: SlaViews  # a case as the API shows it: with its SLA clock as of the request

    def authenticate(self, request: Request) -> Principal:
        return self.authenticator.authenticate(request.headers, request.context or {})


_lock = threading.Lock()
_container: Optional[Container] = None


def container() -> Container:
    global _container
    with _lock:
        if _container is None:
            _container = build(Settings.from_env())
        return _container


@contextmanager
def override(replacement: Container) -> Iterator[Container]:
    global _container
    with _lock:
        previous, _container = _container, replacement
    try:
        yield replacement
    finally:
        with _lock:
            _container = previous


@dataclass(frozen=True)
class Stores:
    """One backend's stores: the table's (DynamoDB, or its in-memory twin) and the buckets'."""

    cases: CaseRepository
    work: WorkRepository
    decisions: DecisionStore
    delegations: DelegationStore
    documents: DocumentStore
    storage: ObjectStorage
    tokens: TokenStore
    results: ProcessingResults
    last_known: LastKnownStore
    data_product: ObjectStore
    notifications: NotificationStore
    calendars: CalendarStore
    case_types: CaseTypeStore


def build(
    settings: Settings, repository: Optional[CaseRepository] = None, engine: Optional[EngineFactory] = None,
    customers: Optional[CustomerDirectory] = None, users: Optional[UserDirectory] = None,
    mailer: Optional[Mailer] = None,
) -> Container:
    """Wire every service. With an in-memory case repository (tests) every store is in memory too: a task,
    decision, payment or document moves the case's audit head in the same write as its own change.
    `engine`: a factory of the workflow engine (default: Step Functions from settings); `customers`: a
    customer directory (default: over the catalog the settings name); `users`, `mailer`: the user directory
    and the mailer notifications use (default: the settings' user pool, and SES when a sender is set)."""
    from .auth import authenticator_for
    from .cache.invalidation import CASE_WRITES, WORK_WRITES, InvalidatingStore
    from .integration import build_integration
    from .domain.documents import MAX_DOCUMENT_BYTES
    from .ratelimit import budgets_for
    from .services.approvals import ApprovalService
    from .services.calendars import CalendarService
    from .services.sla import SlaViews
    from .services.case_types import CaseTypeCatalog
    from .services.case_data_product import CaseDataProduct
    from .services.cases import CaseNumbers, CaseService, case_read_cache
    from .services.compensation import CompensationService
    from .services.customers import CustomerViews
    from .services.delegations import DelegationService
    from .services.document_processing import DocumentProcessing, start_processing
    from .services.documents import DocumentService
    from .services.migrations import CaseMigrations
    from .services.notifications import NotificationFanOut, NotificationService
    from .services.personnel import PersonnelService
    from .services.tasks import TaskService
    from .services.workflow import Stage, WorkflowResumer, WorkflowService

    stores = _memory_stores(settings, repository) if _in_memory(repository) else _dynamo_stores(settings, repository)
    # Reads of cases and people go through the cache; every write to them deletes what it made stale.
    cache = build_cache(settings)
    cases = cast("CaseRepository", InvalidatingStore(stores.cases, cache, CASE_WRITES))
    work = cast("WorkRepository", InvalidatingStore(stores.work, cache, WORK_WRITES))

    # Case types: every service reads a case's rules from the version it was opened under.
    calendars = CalendarService(stores.calendars, cache)
    case_types = CaseTypeCatalog(
        stores.case_types, work.list_teams, cache=cache,
        calendar_exists=lambda calendar_id: calendars.calendar(calendar_id) is not None,
    )

    # The services a wait stage waits on resume it through the workflow, which is built after them.
    resumer = WorkflowResumer()

    def resume(stage: str) -> Callable[[str], None]:
        def resume_case(case_id: str) -> None:
            resumer.resume_if_ready(case_id, stage)

        return resume_case

    tasks = TaskService(
        cases, work, work, case_types, on_task_completed=resume(Stage.TASKS), calendars=calendars.calendar,
    )

    def task_people(case_id: str) -> list[str]:  # four-eyes: whoever was given or did the case's tasks
        return [name for t in tasks.case_tasks(case_id) for name in (t.assignee, t.completed_by) if name]

    def open_tasks(case_id: str) -> list[str]:  # what a rejection would cancel
        return [f"cancel open task {t.id} ({t.title})" for t in tasks.case_tasks(case_id) if t.status == "OPEN"]

    delegations = DelegationService(stores.delegations)
    approvals = ApprovalService(
        cases, stores.decisions, case_types, resume=resumer.resume_if_ready, task_assignees=task_people,
        on_reject=open_tasks, delegation_of=delegations.current,
    )
    compensation = CompensationService(
        cases, stores.decisions, case_types, approved_amount=approvals.approved_amount, approvers=approvals.approvers,
        resume=resumer.resume_if_ready,
    )
    document_engine = _engine_factory(settings, "document_workflow_arn") if settings.document_workflow_arn else None
    documents = DocumentService(
        cases, stores.documents, stores.storage, on_version_registered=partial(start_processing, document_engine),
        on_version_processed=resume(Stage.DOCUMENTS),
    )
    workflow = WorkflowService(
        cases, engine or _engine_factory(settings, "case_workflow_arn"), stores.tokens, tasks, case_types,
        settings.wait_seconds,
        conditions={
            Stage.APPROVAL: approvals.decision_if_final,
            Stage.PAYMENT: compensation.payment_if_confirmed,
            Stage.DOCUMENTS: lambda case: {} if documents.required_documents_ready(case) else None,
        },
        undo_steps=[approvals.expire_pending, compensation.hold_unpaid],  # in the order the stages run
        resumer=resumer,
        calendars=calendars.calendar,
    )
    customers = customers or _customer_directory(settings, stores.last_known, cache)
    personnel = PersonnelService(work, cache=cache, cache_ttl=settings.personnel_cache_ttl)
    return Container(
        settings=settings,
        cache=cache,
        case_types=case_types,
        cases=CaseService(
            cases, case_types, CaseNumbers(cases, settings.case_number_block),
            read_cache=case_read_cache(cache, settings.case_cache_ttl), customer_snapshot=customers.snapshot,
            calendars=calendars.calendar,
        ),
        sla=SlaViews(case_types, calendars.calendar),
        authenticator=authenticator_for(settings, personnel),
        tasks=tasks,
        personnel=personnel,
        delegations=delegations,
        approvals=approvals,
        compensation=compensation,
        workflow=workflow,
        documents=documents,
        processing=DocumentProcessing(documents, document_engine, stores.results, MAX_DOCUMENT_BYTES),
        customers=customers,
        customer_views=CustomerViews(customers, cases),
        case_data=CaseDataProduct(
            stores.data_product, settings.data_product_bucket, _pseudonym_key(settings), stores.cases.get_event,
            field_definitions=partial(_field_definitions, case_types),
        ),
        budgets=budgets_for(settings),
        integration=build_integration(settings, _in_memory(repository)),
        notifications=NotificationService(stores.notifications),
        notify=NotificationFanOut(
            stores.cases, stores.work, stores.decisions, stores.work, stores.notifications,
            users or _user_directory(settings), mailer or _mailer(settings),
        ),
        calendars=calendars,
        migrations=CaseMigrations(cases, case_types, tasks, calendars=calendars.calendar),
    )


def _user_directory(settings: Settings) -> UserDirectory:
    """The user pool's users; without a pool (tests' in-memory containers), nobody."""
    if not settings.user_pool_id:
        from .adapters.memory.users import InMemoryUserDirectory

        return InMemoryUserDirectory()
    from .adapters.cognito_users import CognitoUserDirectory

    def cognito() -> Any:
        import boto3

        return boto3.client("cognito-idp", region_name=settings.region, endpoint_url=settings.endpoint_url)

    return CognitoUserDirectory(settings.user_pool_id, cognito)


def _mailer(settings: Settings) -> Optional[Mailer]:
    """SES from the configured sender; None (no e-mail) without one."""
    if not settings.notification_sender:
        return None
    from .adapters.ses import SesMailer

    def ses() -> Any:
        import boto3

        return boto3.client("ses", region_name=settings.region, endpoint_url=settings.endpoint_url)

    return SesMailer(settings.notification_sender, ses)


def customer_directory(
    settings: Settings, repository: CaseRepository, cache: Optional[Cache] = None,
) -> CustomerDirectory:
    """The customer directory over the configured catalog, with last known records kept next to the cases
    (in memory for a memory repository)."""
    if _in_memory(repository):
        from .adapters.memory.last_known import InMemoryLastKnownStore

        return _customer_directory(settings, InMemoryLastKnownStore(), cache)
    from .adapters.dynamo.last_known import DynamoLastKnownStore
    from .adapters.dynamo.models import table_models

    models = table_models(settings.table_name, settings.region, settings.endpoint_url)
    return _customer_directory(settings, DynamoLastKnownStore(models), cache)


def _field_definitions(
    case_types: CaseTypeCatalog, case_type_id: str, version: Optional[int],
) -> Sequence[FieldDefinition]:
    """A type version's custom fields for the data product's rows (a case opened before versions: version 1).
    Versions never change, so the stream function reads each once; an unknown one has no fields to publish."""
    found = case_types.version(case_type_id, version or 1)
    return found.fields if found is not None else ()


def _customer_directory(settings: Settings, last_known: LastKnownStore, cache: Optional[Cache]) -> CustomerDirectory:
    """Over a Glue database, else a folder of descriptor files, else no catalog; products' answers are cached
    for CUSTOMER_CACHE_TTL_SECONDS when a cache is given."""
    from .adapters.catalog import EmptyCatalog, FileCatalog, GlueCatalog
    from .adapters.customer_sources import mesh_s3_client_factory, source_for
    from .services.customers import CustomerDirectory, utc_now

    catalog: Any
    if settings.data_catalog_database:
        import boto3

        catalog = GlueCatalog(
            settings.data_catalog_database,
            lambda: boto3.client("glue", region_name=settings.region, endpoint_url=settings.endpoint_url),
            cache=cache, cache_ttl=settings.customer_cache_ttl,
        )
    elif settings.data_catalog_dir:
        catalog = FileCatalog(settings.data_catalog_dir)
    else:
        catalog = EmptyCatalog()
    timeout = settings.mesh_timeout_seconds
    s3 = mesh_s3_client_factory(settings.region, settings.endpoint_url, timeout)
    return CustomerDirectory(
        catalog, lambda product: source_for(product, timeout, s3, utc_now), last_known, timeout,
        cache=cache, cache_ttl=settings.customer_cache_ttl,
    )


def _in_memory(repository: Optional[CaseRepository]) -> bool:
    from .adapters.memory.cases import InMemoryCaseRepository

    return isinstance(repository, InMemoryCaseRepository)


def _memory_stores(settings: Settings, repository: Any) -> Stores:
    from .adapters.memory.calendars import InMemoryCalendarStore
    from .adapters.memory.case_types import InMemoryCaseTypeStore
    from .adapters.memory.decisions import InMemoryDecisionStore
    from .adapters.memory.delegations import InMemoryDelegationStore
    from .adapters.memory.documents import InMemoryDocumentStore
    from .adapters.memory.last_known import InMemoryLastKnownStore
    from .adapters.memory.notifications import InMemoryNotificationStore
    from .adapters.memory.results import InMemoryProcessingResults
    from .adapters.memory.storage import InMemoryObjectStorage
    from .adapters.memory.tokens import InMemoryTokenStore
    from .adapters.memory.work import InMemoryWorkRepository
    from .adapters.object_store import InMemoryObjectStore

    return Stores(
        cases=repository, work=InMemoryWorkRepository(repository), decisions=InMemoryDecisionStore(repository),
        delegations=InMemoryDelegationStore(), documents=InMemoryDocumentStore(repository),
        storage=InMemoryObjectStorage(settings.bucket_name),
        tokens=InMemoryTokenStore(), results=InMemoryProcessingResults(), last_known=InMemoryLastKnownStore(),
        data_product=InMemoryObjectStore(), notifications=InMemoryNotificationStore(),
        calendars=InMemoryCalendarStore(),
        case_types=InMemoryCaseTypeStore(),
    )


def _dynamo_stores(settings: Settings, repository: Optional[CaseRepository]) -> Stores:
    from .adapters.dynamo.calendars import DynamoCalendarStore
    from .adapters.dynamo.case_types import DynamoCaseTypeStore
    from .adapters.dynamo.cases import DynamoCaseRepository
    from .adapters.dynamo.decisions import DynamoDecisionStore
    from .adapters.dynamo.delegations import DynamoDelegationStore
    from .adapters.dynamo.documents import DynamoDocumentStore
    from .adapters.dynamo.last_known import DynamoLastKnownStore
    from .adapters.dynamo.models import table_models
    from .adapters.dynamo.notifications import DynamoNotificationStore
    from .adapters.dynamo.results import DynamoProcessingResults
    from .adapters.dynamo.tokens import DynamoTokenStore
    from .adapters.dynamo.work import DynamoWorkRepository
    from .adapters.object_store import S3ObjectStore
    from .adapters.s3 import S3DocumentStorage, s3_client_factory

    models = table_models(settings.table_name, settings.region, settings.endpoint_url)
    s3 = s3_client_factory(settings.region, settings.endpoint_url)  # each store builds its client on first use
    return Stores(
        cases=repository or DynamoCaseRepository(models), work=DynamoWorkRepository(models),
        decisions=DynamoDecisionStore(models), delegations=DynamoDelegationStore(models),
        documents=DynamoDocumentStore(models),
        storage=S3DocumentStorage(settings.bucket_name, s3), tokens=DynamoTokenStore(models),
        results=DynamoProcessingResults(models), last_known=DynamoLastKnownStore(models),
        data_product=S3ObjectStore(settings.data_product_bucket, s3), notifications=DynamoNotificationStore(models),
        calendars=DynamoCalendarStore(models),
        case_types=DynamoCaseTypeStore(models),
    )


def _pseudonym_key(settings: Settings) -> Callable[[], bytes]:
    from .adapters.secrets import pseudonym_key

    def secrets_client() -> Any:
        import boto3

        return boto3.client("secretsmanager", region_name=settings.region, endpoint_url=settings.endpoint_url)

    return pseudonym_key(settings.pseudonym_key, settings.pseudonym_key_secret_arn, secrets_client)


def _engine_factory(settings: Settings, arn_setting: str) -> EngineFactory:
    """A Step Functions engine for the state machine named by a setting, its client built on first use."""
    from .adapters.stepfunctions import StepFunctionsEngine
    from .errors import DependencyUnavailable

    def engine() -> WorkflowEngine:
        arn = getattr(settings, arn_setting)
        if not arn:
            raise DependencyUnavailable(f"no state machine is configured ({arn_setting.upper()})")
        if "engine" not in cache:
            import boto3

            cache["engine"] = StepFunctionsEngine(
                arn,
                lambda: boto3.client("stepfunctions", region_name=settings.region, endpoint_url=settings.endpoint_url),
            )
        return cache["engine"]

    cache: dict[str, WorkflowEngine] = {}
    return engine


def build_cache(settings: Settings) -> Cache:
    """Redis when REDIS_URL is set; else an in-process cache in the local stage (one process serves
    every reader and writer there); else none, since each Lambda container would hold its own copy
    that other containers' writes never invalidate."""
    if settings.redis_url:
        from .cache.breaker import CircuitBreaker
        from .cache.redis_cache import RedisCache, redis_client_factory

        return RedisCache(
            redis_client_factory(settings.redis_url, settings.redis_connect_timeout, settings.redis_socket_timeout),
            CircuitBreaker(settings.redis_breaker_failures, settings.redis_breaker_reset_seconds),
            key_prefix=settings.cache_key_prefix or f"{settings.table_name}:",  # stages may share a Redis
            delete_hold_seconds=settings.cache_delete_hold,
        )
    if settings.stage == "local":
        from .cache.memory import InProcessCache

        return InProcessCache(delete_hold_seconds=settings.cache_delete_hold)
    from .cache import NoCache

    return NoCache()


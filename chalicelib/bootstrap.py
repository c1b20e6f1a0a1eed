"""The composition root: builds adapters and services from settings on first use (never at
import), once per Lambda container. Tests swap the whole container with `override`."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from .settings import Settings


@dataclass
class Container:
    settings: Settings
    cases: Any
    authenticator: Any  # auth.Authenticator
    # The services are imported lazily to keep cold starts short, hence Any.
    tasks: Any = None
    personnel: Any = None
    approvals: Any = None
    compensation: Any = None
    workflow: Any = None
    processing: Any = None
    documents: Any = None
    cache: Any = None  # chalicelib.cache.Cache: read-through data for the services, shared by them
    customers: Any = None  # services.customers.CustomerDirectory
    case_data: Any = None  # services.case_data_product.CaseDataProduct

    def authenticate(self, request: Any) -> Any:
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


def build(settings: Settings, repository: Any = None, engine: Any = None, customers: Any = None) -> Container:
    """Wire every service. With an in-memory case repository (tests) every store is in memory too:
    a task, decision or payment moves the case's audit head in the same write as its own change.
    `engine`: a factory of the workflow engine (default: Step Functions from settings); `customers`: a
    customer directory (default: over the catalog the settings name)."""
    from .adapters.memory import InMemoryCaseRepository
    from .auth import authenticator_for
    from .cache.invalidation import CASE_WRITES, DECISION_WRITES, WORK_WRITES, InvalidatingStore
    from .domain.case_types import DEFAULT_CASE_TYPES as TYPES
    from .services.approvals import ApprovalService
    from .services.cases import CaseNumbers, CaseService, case_read_cache
    from .services.compensation import CompensationService
    from .services.personnel import PersonnelService
    from .services.tasks import TaskService
    from .services.workflow import Stage, WorkflowService

    if repository is None or not isinstance(repository, InMemoryCaseRepository):
        repository, work, decisions, tokens = _dynamo_stores(settings, repository)
    else:
        repository, work, decisions, tokens = _memory_stores(repository)
    # Reads of cases and people go through the cache; every write to them deletes what it made stale.
    cache = build_cache(settings)
    store = repository  # unwrapped: its type tells which kind of store the document stores must be
    repository = InvalidatingStore(repository, cache, CASE_WRITES)
    work = InvalidatingStore(work, cache, WORK_WRITES)
    decisions = InvalidatingStore(decisions, cache, DECISION_WRITES)

    # The services below resume the workflow, which needs them to exist first: bind it late.
    late: dict[str, WorkflowService] = {}

    def resume(case_id: str, stage: str) -> bool:
        return late["workflow"].resume_if_ready(case_id, stage)

    tasks = TaskService(repository, work, work, TYPES, on_task_completed=lambda case_id: resume(case_id, Stage.TASKS))

    def task_people(case_id: str) -> list[str]:  # four-eyes: whoever was given or did the case's tasks
        return [name for t in tasks.case_tasks(case_id) for name in (t.assignee, t.completed_by) if name]

    def open_tasks(case_id: str) -> list[str]:  # what a rejection would cancel
        return [f"cancel open task {t.id} ({t.title})" for t in tasks.case_tasks(case_id) if t.status == "OPEN"]

    approvals = ApprovalService(repository, decisions, TYPES, resume=resume, task_assignees=task_people, on_reject=open_tasks)
    compensation = CompensationService(repository, decisions, TYPES, approved_amount=approvals.approved_amount, resume=resume)
    workflow = WorkflowService(repository, engine or _engine_factory(settings, "case_workflow_arn"), tokens, tasks, TYPES, settings.wait_seconds)
    approvals.register(workflow)
    compensation.register(workflow)
    workflow.undo_steps = [approvals.expire_pending, compensation.void_unpaid]  # in the order the stages run
    late["workflow"] = workflow
    documents = _documents(settings, store, cache)
    processing = _document_processing(settings, store, documents)
    documents.on_version_registered = processing.start
    documents.on_version_processed = lambda case_id: resume(case_id, Stage.DOCUMENTS)
    workflow.conditions[Stage.DOCUMENTS] = lambda case: {} if documents.required_documents_ready(case) else None
    customers = customers or customer_directory(settings, store, cache)
    return Container(
        settings=settings,
        cache=cache,
        cases=CaseService(
            repository, TYPES, CaseNumbers(repository, settings.case_number_block),
            read_cache=case_read_cache(cache, settings.case_cache_ttl), customer_snapshot=customers.snapshot,
        ),
        authenticator=authenticator_for(settings, work, cache),
        tasks=tasks,
        personnel=PersonnelService(work, cache=cache, cache_ttl=settings.personnel_cache_ttl),
        approvals=approvals,
        compensation=compensation,
        workflow=workflow,
        documents=documents,
        processing=processing,
        customers=customers,
        case_data=_case_data_product(settings, store),
    )


def customer_directory(settings: Settings, repository: Any, cache: Any = None) -> Any:
    """The customer directory over the configured catalog (a Glue database, else a folder of descriptor
    files, else none), with last known records kept next to the cases (in memory for a memory repository);
    products' answers are cached for CUSTOMER_CACHE_TTL_SECONDS when a cache is given."""
    from .adapters.catalog import EmptyCatalog, FileCatalog, GlueCatalog
    from .adapters.customer_sources import mesh_s3_client_factory, source_for
    from .adapters.memory import InMemoryCaseRepository
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
    if isinstance(repository, InMemoryCaseRepository):
        from .adapters.last_known import InMemoryLastKnownStore

        last_known: Any = InMemoryLastKnownStore()
    else:
        from .adapters.dynamodb import table_models
        from .adapters.last_known import DynamoLastKnownStore

        last_known = DynamoLastKnownStore(table_models(settings.table_name, settings.region, settings.endpoint_url))
    timeout = settings.mesh_timeout_seconds
    s3 = mesh_s3_client_factory(settings.region, settings.endpoint_url, timeout)
    return CustomerDirectory(
        catalog, lambda product: source_for(product, timeout, s3, utc_now), last_known, timeout,
        cache=cache, cache_ttl=settings.customer_cache_ttl,
    )


def _case_data_product(settings: Settings, repository: Any) -> Any:
    from .adapters.memory import InMemoryCaseRepository
    from .adapters.secrets import pseudonym_key
    from .services.case_data_product import CaseDataProduct

    if isinstance(repository, InMemoryCaseRepository):
        from .adapters.object_store import InMemoryObjectStore

        store: Any = InMemoryObjectStore()
    else:
        from .adapters.object_store import S3ObjectStore
        from .adapters.s3 import s3_client_factory

        store = S3ObjectStore(settings.data_product_bucket, s3_client_factory(settings.region, settings.endpoint_url))

    def secrets_client() -> Any:
        import boto3

        return boto3.client("secretsmanager", region_name=settings.region, endpoint_url=settings.endpoint_url)

    key = pseudonym_key(settings.pseudonym_key, settings.pseudonym_key_secret_arn, secrets_client)
    return CaseDataProduct(store, settings.data_product_bucket, key, repository.get_event)


def _dynamo_stores(settings: Settings, repository: Any) -> tuple[Any, Any, Any, Any]:
    from .adapters.dynamodb import DynamoCaseRepository, table_models
    from .adapters.dynamodb_decisions import DynamoDecisionStore
    from .adapters.dynamodb_work import DynamoWorkRepository
    from .adapters.tokens import DynamoTokenStore

    models = table_models(settings.table_name, settings.region, settings.endpoint_url)
    return (
        repository or DynamoCaseRepository(models), DynamoWorkRepository(models), DynamoDecisionStore(models),
        DynamoTokenStore(models),
    )


def _memory_stores(repository: Any) -> tuple[Any, Any, Any, Any]:
    from .adapters.memory_decisions import InMemoryDecisionStore
    from .adapters.memory_work import InMemoryWorkRepository
    from .adapters.tokens import InMemoryTokenStore

    return repository, InMemoryWorkRepository(repository), InMemoryDecisionStore(repository), InMemoryTokenStore()


def _document_processing(settings: Settings, repository: Any, documents: Any) -> Any:
    from .adapters.memory import InMemoryCaseRepository
    from .domain.documents import MAX_DOCUMENT_BYTES
    from .services.document_processing import DocumentProcessing

    if isinstance(repository, InMemoryCaseRepository):
        from .adapters.document_results import InMemoryProcessingResults

        results: Any = InMemoryProcessingResults()
    else:
        from .adapters.document_results import DynamoProcessingResults
        from .adapters.dynamodb import table_models

        results = DynamoProcessingResults(table_models(settings.table_name, settings.region, settings.endpoint_url))
    engine = _engine_factory(settings, "document_workflow_arn") if settings.document_workflow_arn else None
    return DocumentProcessing(documents, engine, results, MAX_DOCUMENT_BYTES)


def _documents(settings: Settings, repository: Any, cache: Any) -> Any:
    """The document service over the case repository's kind of store: in memory (with an in-memory object
    storage) for an in-memory repository, else the table and the documents bucket (S3 client built lazily)."""
    from .adapters.memory import InMemoryCaseRepository
    from .cache.invalidation import DOCUMENT_WRITES, InvalidatingStore
    from .services.documents import DocumentService

    if isinstance(repository, InMemoryCaseRepository):
        from .adapters.memory_documents import InMemoryDocumentStore, InMemoryObjectStorage

        store: Any = InMemoryDocumentStore(repository)
        storage: Any = InMemoryObjectStorage(settings.bucket_name)
    else:
        from .adapters.dynamodb import table_models
        from .adapters.dynamodb_documents import DynamoDocumentStore
        from .adapters.s3 import S3DocumentStorage, s3_client_factory

        models = table_models(settings.table_name, settings.region, settings.endpoint_url)
        store = DynamoDocumentStore(models)
        storage = S3DocumentStorage(settings.bucket_name, s3_client_factory(settings.region, settings.endpoint_url))
    return DocumentService(repository, InvalidatingStore(store, cache, DOCUMENT_WRITES), storage)


def _engine_factory(settings: Settings, arn_setting: str) -> Any:
    """A Step Functions engine for the state machine named by a setting, its client built on first use."""
    from .adapters.stepfunctions import StepFunctionsEngine
    from .errors import DependencyUnavailable

    def engine() -> Any:
        arn = getattr(settings, arn_setting)
        if not arn:
            raise DependencyUnavailable(f"no state machine is configured ({arn_setting.upper()})")
        if "engine" not in cache:
            import boto3

            cache["engine"] = StepFunctionsEngine(
                arn, lambda: boto3.client("stepfunctions", region_name=settings.region, endpoint_url=settings.endpoint_url)
            )
        return cache["engine"]

    cache: dict[str, Any] = {}
    return engine


def build_cache(settings: Settings) -> Any:
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


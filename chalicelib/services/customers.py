"""The customer directory: finds the customer data products in the data catalog, asks each of them at
once within one time budget, and merges their answers into one view (domain/customers.py). A product
that does not answer in time contributes its last known record, marked stale; the view is assembled
whatever the products do, so opening a case never waits on the mesh for longer than the budget.
With a cache, a product's answer is reused for a while (its `asOf`, hence the age shown, is the product's),
so repeated views and the snapshots of several cases for one customer ask the products once."""
from __future__ import annotations

import contextvars
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime, timezone
from typing import Callable, Optional

from ..cache import Cache
from ..domain.access import Action, Principal, Role, Visibility, can_view, require
from ..domain.customers import (
    SOURCE_FAILED, CustomerView, Observation, SourceRecord, ViewStatus, check_customer_id, iso, merge, parse_time,
)
from ..domain.data_products import DataProductDescriptor
from ..errors import DependencyUnavailable, NotFound
from ..ports import CaseQuery, CaseRepository, CustomerSource, DataCatalog, LastKnownStore, SourceUnavailable

log = logging.getLogger(__name__)
CUSTOMER_ENTITY = "customer"
_MAX_PARALLEL_SOURCES = 8
# The roles that look customers up to open and work cases; other roles see a customer through one of its cases.
CASE_WORKING_ROLES = frozenset({Role.CASEWORKER, Role.SUPERVISOR, Role.ADMIN})

SourceFactory = Callable[[DataProductDescriptor], Optional[CustomerSource]]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class CustomerDirectory:
    def __init__(
        self, catalog: DataCatalog, source_for: SourceFactory, last_known: LastKnownStore, timeout_seconds: float,
        clock: Callable[[], datetime] = utc_now, cache: Optional[Cache] = None, cache_ttl: int = 60,
    ) -> None:
        """`timeout_seconds`: the budget of one lookup, all products asked in parallel; `cache`: where the
        products' answers are kept for `cache_ttl` seconds."""
        self._catalog, self._source_for, self._last_known = catalog, source_for, last_known
        self._cache, self._cache_ttl = cache, cache_ttl
        self._timeout = timeout_seconds
        self._clock = clock
        self._sources: dict[tuple[str, str], Optional[CustomerSource]] = {}  # by (product, its ports)
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=_MAX_PARALLEL_SOURCES, thread_name_prefix="mesh")

    def view(self, customer_id: str) -> CustomerView:
        """The assembled view: 404 when every product answered that it has no such customer, 503 when none
        answered and nothing is known from before. Who may ask is `CustomerViews`' concern."""
        check_customer_id(customer_id)
        view = self.assemble(customer_id)
        if view.status == ViewStatus.NOT_FOUND:
            raise NotFound(f"customer {customer_id} not found")
        if view.status == ViewStatus.UNAVAILABLE:
            raise DependencyUnavailable(
                "no customer data product answered and none is known from before; retry shortly"
            )
        return view

    def snapshot(self, customer_id: str) -> CustomerView:
        """The view a new case keeps, of a customer id the request checked. Never raises: the case is opened
        whatever the mesh does."""
        try:
            return self.assemble(customer_id)
        except Exception:  # a bug or an outage here must not stop a case from being opened
            log.exception("could not assemble the customer view of %s", customer_id)
            return CustomerView(customer_id=customer_id, status=ViewStatus.UNAVAILABLE, assembled_at=iso(self._clock()))

    def assemble(self, customer_id: str) -> CustomerView:
        products = self._customer_products()
        asked: list[tuple[DataProductDescriptor, Future[Optional[SourceRecord]]]] = []
        unreadable: list[DataProductDescriptor] = []
        observations: list[Observation] = []
        for product in products:
            cached = self._cached(product.id, customer_id)
            if cached is not None:  # answered within the cache's TTL: as live as asking again
                observations.append(Observation(product.id, product.freshness_sla_seconds, live=True, record=cached))
                continue
            source = self._source(product)
            if source is None:
                unreadable.append(product)
            else:
                # In the caller's context (log keys, the tracer's segment, who is calling): pool threads have none.
                asked.append((product, self._pool.submit(contextvars.copy_context().run, source.fetch, customer_id)))
        wait([future for _, future in asked], timeout=self._timeout)
        now = self._clock()
        missing: list[tuple[DataProductDescriptor, str]] = [
            (p, "no output port this system can read") for p in unreadable
        ]
        for product, future in asked:
            if not future.done():
                future.cancel()
                missing.append((product, f"no answer within {self._timeout:g}s"))
            elif future.exception() is not None:
                missing.append((product, SOURCE_FAILED))
                _log_failure(product, future.exception())
            else:
                record = future.result()
                observations.append(Observation(product.id, product.freshness_sla_seconds, live=True, record=record,
                                                found=record is not None))
                if record is not None:
                    self._keep(customer_id, product.id, record)
                    self._remember(product.id, customer_id, record)
        if missing:
            known = self._known(customer_id)
            observations += [
                Observation(
                    product.id, product.freshness_sla_seconds, live=False, record=known.get(product.id), error=error,
                )
                for product, error in missing
            ]
        order = {product.id: index for index, product in enumerate(products)}
        observations.sort(key=lambda o: order[o.product])
        return merge(customer_id, observations, now)

    def _customer_products(self) -> list[DataProductDescriptor]:
        try:
            return [p for p in self._catalog.products() if p.entity == CUSTOMER_ENTITY]
        except Exception:  # the catalog down: a view of nothing (UNAVAILABLE), not an error
            log.exception("could not read the data catalog")
            return []

    def _source(self, product: DataProductDescriptor) -> Optional[CustomerSource]:
        key = (product.id, repr([(p.protocol, p.location, p.format) for p in product.output_ports]))
        with self._lock:
            if key not in self._sources:  # kept: a source may keep what it fetched (e.g. a dataset's ETag)
                self._sources[key] = self._source_for(product)
            return self._sources[key]

    def _cached(self, product: str, customer_id: str) -> Optional[SourceRecord]:
        value = self._cache.get(_cache_key(product, customer_id)) if self._cache is not None else None
        if not isinstance(value, dict) or not isinstance(value.get("fields"), dict):
            return None
        as_of = parse_time(value.get("asOf"))
        if as_of is None:
            return None
        return SourceRecord(fields=value["fields"], as_of=as_of)

    def _remember(self, product: str, customer_id: str, record: SourceRecord) -> None:
        if self._cache is not None:
            value = {"fields": record.fields, "asOf": iso(record.as_of)}
            self._cache.set(_cache_key(product, customer_id), value, self._cache_ttl)

    def _keep(self, customer_id: str, product: str, record: SourceRecord) -> None:
        try:
            self._last_known.save(customer_id, product, record)
        except Exception:  # keeping it is a courtesy to a later lookup; this one has its answer
            log.exception("could not keep the last known record of %s from %s", customer_id, product)

    def _known(self, customer_id: str) -> dict[str, SourceRecord]:
        try:
            return self._last_known.load(customer_id)
        except Exception:
            log.exception("could not read the last known records of %s", customer_id)
            return {}


def _log_failure(product: DataProductDescriptor, error: Optional[BaseException]) -> None:
    """What went wrong stays here, with the request's correlation ids: a view (and a case's snapshot of it)
    names only the product and a generic status, never its addresses or the exception's text."""
    if isinstance(error, SourceUnavailable):
        log.warning("customer data product %s did not answer: %s", product.id, error)
    else:  # a bug in a source adapter: its traceback
        log.error("customer data product %s failed", product.id, exc_info=error)


class CustomerViews:
    """`GET /customers/{id}`: the directory's view, for the people who may see it. People who work cases
    (caseworkers, supervisors, admins) look customers up to open and work cases; anyone else (approvers,
    finance, auditors) only a customer one of whose cases they may see, by the rule that shows a case. Anyone
    else gets 404, as for a customer that does not exist, before any product is asked: the answer tells
    nothing about the customer."""

    def __init__(self, directory: CustomerDirectory, cases: CaseRepository, page_size: int = 100) -> None:
        self._directory, self._cases, self._page_size = directory, cases, page_size

    def view(self, principal: Principal, customer_id: str) -> CustomerView:
        require(principal, Action.READ_CUSTOMERS)
        check_customer_id(customer_id)
        if not principal.roles & CASE_WORKING_ROLES and not self._sees_a_case_of(principal, customer_id):
            raise NotFound(f"customer {customer_id} not found")
        return self._directory.view(customer_id)

    def _sees_a_case_of(self, principal: Principal, customer_id: str) -> bool:
        """Whether any case of the customer is one the principal may read. The customer's cases are read from
        their index, newest first, a page at a time, until one is visible: who is refused costs one Query per
        `page_size` cases of that customer."""
        every_case = Visibility(everything=True, team=None, username=principal.username)
        query, start_key = CaseQuery(visibility=every_case, customer_id=customer_id), None
        while True:
            cases, start_key = self._cases.list_cases(query, self._page_size, start_key)
            if any(can_view(principal, case) for case in cases):
                return True
            if start_key is None:
                return False


def _cache_key(product: str, customer_id: str) -> str:
    return f"customer:{product}:{customer_id}"

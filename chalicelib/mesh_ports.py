"""The ports of the data mesh side: the catalog of data products, a product's customer output port,
the store of last known values, and the object store the case data product is published to."""
from __future__ import annotations

from datetime import datetime
from typing import Optional, Protocol

from .domain.customers import SourceRecord
from .domain.data_products import DataProductDescriptor


class SourceUnavailable(Exception):
    """A data product's output port did not answer in time, or answered with an error."""


class DataCatalog(Protocol):
    def products(self) -> list[DataProductDescriptor]:
        """Every registered data product, in a stable order."""


class CustomerSource(Protocol):
    def fetch(self, customer_id: str) -> Optional[SourceRecord]:
        """The product's record of the customer; None when it has none. Raises SourceUnavailable."""


class LastKnownStore(Protocol):
    def load(self, customer_id: str) -> dict[str, SourceRecord]:
        """The last record each product answered for the customer, by product id."""

    def save(self, customer_id: str, product: str, record: SourceRecord) -> None:
        """Keep `record` unless a newer one (by as_of) is kept already."""


class ObjectStore(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> None:
        """Write the object; writing the same key again replaces it (keys are deterministic)."""

    def keys(self, prefix: str) -> list[str]:
        """Every key under the prefix, sorted."""

    def get(self, key: str) -> bytes: ...

    def newest_write(self, prefix: str) -> Optional[datetime]:
        """When the most recently written object under the prefix was written; None when there is none."""

"""Data product descriptors: what a data mesh catalog says about each product — its domain and owner,
where to read it (output ports), its schema, how fresh it promises to be and how sensitive it is."""
from __future__ import annotations

from enum import Enum
from typing import Any, Optional

from pydantic import Field

from .base import ApiModel


class Classification(str, Enum):
    PUBLIC = "PUBLIC"
    INTERNAL = "INTERNAL"
    CONFIDENTIAL = "CONFIDENTIAL"  # personal data: names, contact details
    RESTRICTED = "RESTRICTED"  # special categories, secrets


class OutputPort(ApiModel):
    name: str
    protocol: str = Field(description="https, http or s3")
    location: str = Field(description="a base URL, or an s3://bucket/key (or prefix)")
    format: str = Field(default="json", description="json (one object per request) or jsonl")


class SchemaField(ApiModel):
    name: str
    type: str = Field(description="string, integer, number, boolean, timestamp (ISO 8601), date")
    description: str = ""
    pii: bool = False
    nullable: bool = True


class DataProductDescriptor(ApiModel):
    id: str = Field(description="unique in the catalog, e.g. crm.customer-profile")
    name: str
    domain: str
    owner: str = Field(description="the team answerable for it (an email or team name)")
    description: str = ""
    entity: Optional[str] = Field(default=None, description="what one record describes, e.g. customer or case")
    version: str = "1"
    output_ports: list[OutputPort]
    schema_fields: list[SchemaField] = Field(alias="schema")
    freshness_sla_seconds: int = Field(gt=0, description="data older than this is stale")
    classification: Classification
    lineage: list[str] = Field(default=[], description="the products or systems it is derived from")
    tags: list[str] = []

    def port(self, *protocols: str) -> Optional[OutputPort]:
        return next((p for p in self.output_ports if p.protocol in protocols), None)


class Freshness(ApiModel):
    newest_row_published_at: Optional[str] = Field(description="when the newest row was written; null: no rows yet")
    age_seconds: Optional[int] = None
    sla_seconds: int = Field(description="a change is published within this many seconds")


class ContractVersion(ApiModel):
    version: str
    descriptor: DataProductDescriptor
    contract: dict[str, Any] = Field(description="this version's rows' JSON Schema")
    location: str = Field(description="where this version's rows are, e.g. s3://bucket/cases/v2/")


class DataProductView(ApiModel):
    descriptor: DataProductDescriptor = Field(description="the first contract version's (as before versions)")
    contract: dict[str, Any] = Field(description="the rows' JSON Schema")
    location: str = Field(description="where the rows are, e.g. s3://bucket/cases/v1/")
    versions: list[ContractVersion] = Field(
        default=[], description="every contract version the product publishes, each beside the others",
    )
    freshness: Freshness

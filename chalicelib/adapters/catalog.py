"""Data catalogs: descriptor files in a folder (the local system), and the AWS Glue Data Catalog, where a
data product is a table whose parameters carry the descriptor's fields (`mesh.*`) and whose columns are
its schema. `glue_table_input` is the one mapping from a descriptor to a table, used to register one."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Callable, Optional

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from ..cache import Cache
from ..cache.read_through import ReadThrough
from ..domain.data_products import DataProductDescriptor
from ..ports import SourceUnavailable
from .lazy_client import LazyClient

log = logging.getLogger(__name__)

# Glue column types for the descriptor's types (Athena reads the table with these).
_GLUE_TYPES = {"string": "string", "integer": "bigint", "number": "double", "boolean": "boolean",
               "timestamp": "string", "date": "string"}
_DESCRIPTOR_TYPES = {"bigint": "integer", "int": "integer", "double": "number", "float": "number",
                     "boolean": "boolean", "string": "string"}
_PARAM = "mesh."


class EmptyCatalog:
    """No catalog configured: no data products (customer views are then UNAVAILABLE)."""

    def products(self) -> list[DataProductDescriptor]:
        return []


class FileCatalog:
    """One descriptor per `*.json` file in a folder; read on every call, so edits apply at once."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def products(self) -> list[DataProductDescriptor]:
        products = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                products.append(DataProductDescriptor.model_validate_json(path.read_bytes()))
            except (OSError, ValidationError) as exc:  # one broken file must not hide the others
                log.warning("skipping data product descriptor %s: %s", path, exc)
        return products


class GlueCatalog:
    """The data products registered as tables of one Glue database; with a cache, Glue is asked once per
    `cache_ttl` seconds rather than on every customer lookup."""

    def __init__(
        self, database: str, client_factory: Callable[[], Any], cache: Optional[Cache] = None, cache_ttl: int = 60,
    ) -> None:
        self.database = database
        self._client = LazyClient(client_factory)
        self._cached: Optional[ReadThrough[list[DataProductDescriptor]]] = None
        if cache is not None:
            self._cached = ReadThrough(
                cache, cache_ttl, dump=lambda products: [p.to_api() for p in products],
                load=lambda products: [DataProductDescriptor.model_validate(p) for p in products],
            )

    def products(self) -> list[DataProductDescriptor]:
        if self._cached is None:
            return self._read()
        return self._cached.get(f"mesh:glue:{self.database}", self._read) or []

    def _read(self) -> list[DataProductDescriptor]:
        products = []
        try:
            for page in self._client().get_paginator("get_tables").paginate(DatabaseName=self.database):
                for table in page["TableList"]:
                    if f"{_PARAM}id" not in (table.get("Parameters") or {}):
                        continue  # a table that is not a data product
                    try:
                        products.append(descriptor_from_glue_table(table))
                    except (ValueError, ValidationError) as exc:
                        log.warning("skipping Glue table %s: %s", table.get("Name"), exc)
        except (BotoCoreError, ClientError) as exc:
            raise SourceUnavailable(f"the Glue Data Catalog is unavailable: {exc}") from exc
        return sorted(products, key=lambda p: p.id)


def glue_table_input(descriptor: DataProductDescriptor) -> dict[str, Any]:
    """The Glue `TableInput` that registers a data product (`glue.create_table(DatabaseName=..., TableInput=...)`)."""
    parameters = {
        f"{_PARAM}id": descriptor.id, f"{_PARAM}domain": descriptor.domain, f"{_PARAM}owner": descriptor.owner,
        f"{_PARAM}version": descriptor.version, f"{_PARAM}classification": descriptor.classification.value,
        f"{_PARAM}freshnessSlaSeconds": str(descriptor.freshness_sla_seconds),
        f"{_PARAM}outputPorts": json.dumps([p.to_api() for p in descriptor.output_ports]),
        f"{_PARAM}lineage": json.dumps(descriptor.lineage), f"{_PARAM}tags": json.dumps(descriptor.tags),
        f"{_PARAM}name": descriptor.name,
        "classification": "json",  # what Glue crawlers and Athena call the data format
    }
    if descriptor.entity:
        parameters[f"{_PARAM}entity"] = descriptor.entity
    columns = [
        {"Name": f.name, "Type": _GLUE_TYPES.get(f.type, "string"), "Comment": f.description[:255],
         "Parameters": {"type": f.type, "pii": str(f.pii).lower(), "nullable": str(f.nullable).lower()}}
        for f in descriptor.schema_fields
    ]
    s3_port = descriptor.port("s3")
    storage: dict[str, Any] = {"Columns": columns}
    if s3_port is not None:
        storage.update({
            "Location": s3_port.location,
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
        })
    return {
        "Name": descriptor.id.replace(".", "_").replace("-", "_"), "Description": descriptor.description,
        "TableType": "EXTERNAL_TABLE", "Parameters": parameters, "StorageDescriptor": storage,
    }


def descriptor_from_glue_table(table: dict[str, Any]) -> DataProductDescriptor:
    parameters = table.get("Parameters") or {}

    def param(name: str, default: Any = None) -> Any:
        return parameters.get(f"{_PARAM}{name}", default)

    columns = (table.get("StorageDescriptor") or {}).get("Columns") or []
    schema = []
    for column in columns:
        column_parameters = column.get("Parameters") or {}
        schema.append({
            "name": column["Name"],
            "type": column_parameters.get("type") or _DESCRIPTOR_TYPES.get(column.get("Type", "string"), "string"),
            "description": column.get("Comment", ""), "pii": column_parameters.get("pii") == "true",
            "nullable": column_parameters.get("nullable", "true") == "true",
        })
    return DataProductDescriptor.model_validate({
        "id": param("id"), "name": param("name") or table["Name"], "domain": param("domain"), "owner": param("owner"),
        "description": table.get("Description", ""), "entity": param("entity"), "version": param("version", "1"),
        "outputPorts": json.loads(param("outputPorts", "[]")), "schema": schema,
        "freshnessSlaSeconds": int(param("freshnessSlaSeconds", "0")), "classification": param("classification"),
        "lineage": json.loads(param("lineage", "[]")), "tags": json.loads(param("tags", "[]")),
    })

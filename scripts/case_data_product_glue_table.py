"""Print the CloudFormation resource that registers the case data product in the Glue Data Catalog, made from
its descriptor (chalicelib/data_products/cases/v1/descriptor.json) by the same mapping the Glue catalog
adapter reads back (chalicelib/adapters/catalog.py). For the merged template:

    python scripts/case_data_product_glue_table.py [DatabaseLogicalId]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chalicelib.adapters.catalog import glue_table_input
from chalicelib.services.case_data_product import descriptor_for

BUCKET_PLACEHOLDER = "${DataProductBucket}"


def glue_table_resource(database_logical_id: str = "DataCatalogDatabase") -> dict[str, Any]:
    table = glue_table_input(descriptor_for(BUCKET_PLACEHOLDER))
    storage = table["StorageDescriptor"]
    storage["Location"] = {"Fn::Sub": storage["Location"]}  # the stack's own bucket
    parameters = table["Parameters"]
    parameters["mesh.outputPorts"] = {"Fn::Sub": parameters["mesh.outputPorts"]}
    # The dt=YYYY-MM-DD folders as a projected partition: Athena finds them without a crawler or MSCK REPAIR.
    table["PartitionKeys"] = [{"Name": "dt", "Type": "string", "Comment": "the event's date (UTC)"}]
    parameters.update({
        "projection.enabled": "true", "projection.dt.type": "date", "projection.dt.format": "yyyy-MM-dd",
        "projection.dt.range": "2026-01-01,NOW", "projection.dt.interval": "1", "projection.dt.interval.unit": "DAYS",
        # ${!dt} is Fn::Sub's escape for the literal ${dt} that Athena fills in.
        "storage.location.template": {"Fn::Sub": "s3://${DataProductBucket}/cases/v1/dt=${!dt}/"},
    })
    return {
        "CaseDataProductTable": {
            "Type": "AWS::Glue::Table",
            "Properties": {
                "CatalogId": {"Ref": "AWS::AccountId"},
                "DatabaseName": {"Ref": database_logical_id},
                "TableInput": table,
            },
        }
    }


if __name__ == "__main__":
    print(json.dumps(glue_table_resource(*sys.argv[1:2]), indent=2))

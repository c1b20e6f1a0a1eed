"""The data mesh's adapters against real parts: the Glue Data Catalog (moto), the file catalog, the CRM
product's HTTP port (the local system's server on loopback), the risk dataset in S3 (moto), and the last
known records on DynamoDB with the in-memory twin passing the same contract."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from chalicelib.adapters.catalog import FileCatalog, GlueCatalog, glue_table_input
from chalicelib.adapters.customer_sources import HttpCustomerSource, S3JsonLinesCustomerSource, mesh_s3_client_factory
from chalicelib.adapters.dynamo.last_known import DynamoLastKnownStore
from chalicelib.adapters.memory.last_known import InMemoryLastKnownStore
from chalicelib.domain.customers import SourceRecord
from chalicelib.domain.data_products import DataProductDescriptor
from chalicelib.ports import SourceUnavailable
from local.mesh import CUSTOMER_IDS, CrmServer, catalog_entries, crm_profile

REGION = "us-east-1"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def descriptors() -> list[DataProductDescriptor]:
    return [DataProductDescriptor.model_validate(e) for e in catalog_entries("http://127.0.0.1:9/crm", "bucket-x")]


# -- catalogs ---------------------------------------------------------------------------------------------

def test_glue_catalog_reads_back_every_registered_data_product(moto_endpoint):
    glue = boto3.client("glue", endpoint_url=moto_endpoint, region_name=REGION)
    database = f"mesh_{uuid.uuid4().hex[:8]}"
    glue.create_database(DatabaseInput={"Name": database})
    for descriptor in descriptors():
        glue.create_table(DatabaseName=database, TableInput=glue_table_input(descriptor))
    glue.create_table(DatabaseName=database, TableInput={"Name": "scratch", "Parameters": {"owner": "someone"}})
    found = GlueCatalog(database, lambda: glue).products()
    assert found == sorted(descriptors(), key=lambda d: d.id)  # the non-product table is not listed
    cases = next(d for d in found if d.id == "cases.case-events")
    assert cases.port("s3").location == "s3://bucket-x/cases/v1/"
    assert [f.name for f in cases.schema_fields][:3] == ["schemaVersion", "auditEventId", "auditSeq"]


def test_with_a_cache_glue_is_read_once_per_ttl(moto_endpoint):
    from chalicelib.cache.memory import InProcessCache

    glue = boto3.client("glue", endpoint_url=moto_endpoint, region_name=REGION)
    database = f"mesh_{uuid.uuid4().hex[:8]}"
    glue.create_database(DatabaseInput={"Name": database})
    crm = descriptors()[0]
    glue.create_table(DatabaseName=database, TableInput=glue_table_input(crm))
    catalog = GlueCatalog(database, lambda: glue, cache=InProcessCache(), cache_ttl=60)
    assert catalog.products() == [crm]
    glue.delete_table(DatabaseName=database, Name=glue_table_input(crm)["Name"])
    assert catalog.products() == [crm]  # from the cache
    assert GlueCatalog(database, lambda: glue).products() == []


def test_glue_catalog_down_is_source_unavailable(down_endpoint):
    glue = boto3.client("glue", endpoint_url=down_endpoint, region_name=REGION,
                        config=boto3.session.Config(retries={"max_attempts": 1}, connect_timeout=1))
    with pytest.raises(SourceUnavailable):
        GlueCatalog("mesh", lambda: glue).products()


def test_file_catalog_skips_a_broken_descriptor(tmp_path):
    for entry in catalog_entries("http://127.0.0.1:9/crm", "bucket-x"):
        (tmp_path / f"{entry['id']}.json").write_text(json.dumps(entry))
    (tmp_path / "broken.json").write_text('{"id": "half"')
    assert [d.id for d in FileCatalog(tmp_path).products()] == [
        "cases.case-events", "crm.customer-profile", "risk.customer-accounts",
    ]


# -- the CRM's HTTP port ------------------------------------------------------------------------------------

def test_http_source_answers_found_not_found_and_down():
    server = CrmServer(now=NOW).start()
    source = HttpCustomerSource(server.url, timeout_seconds=2, clock=lambda: NOW)
    try:
        record = source.fetch("CUST-1001")
        profile = crm_profile("CUST-1001", NOW)
        assert record.fields["name"] == profile["name"] and "customerId" not in record.fields
        assert record.as_of == datetime.fromisoformat(profile["updatedAt"].replace("Z", "+00:00"))
        assert source.fetch("CUST-999999") is None
    finally:
        server.stop()
    with pytest.raises(SourceUnavailable):
        source.fetch("CUST-1001")


# -- the risk dataset in S3 ---------------------------------------------------------------------------------

@pytest.fixture
def dataset(moto_endpoint):
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION)
    bucket = f"risk-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)

    def write(rows: list[dict]) -> None:
        s3.put_object(Bucket=bucket, Key="accounts.jsonl", Body="".join(json.dumps(r) + "\n" for r in rows).encode())

    return s3, bucket, write


def test_s3_dataset_source_reads_a_customer_and_sees_a_new_dataset(dataset, moto_endpoint):
    s3, bucket, write = dataset
    write([{"customerId": "CUST-1", "riskBand": "LOW", "updatedAt": "2026-03-01T10:00:00Z"},
           {"customerId": "CUST-2", "riskBand": "HIGH"}])
    source = S3JsonLinesCustomerSource(
        f"s3://{bucket}/accounts.jsonl", mesh_s3_client_factory(REGION, moto_endpoint, 2), clock=lambda: NOW,
    )
    record = source.fetch("CUST-1")
    assert record.fields == {"riskBand": "LOW"} and record.as_of == NOW - timedelta(hours=2)
    assert source.fetch("CUST-3") is None
    assert source.fetch("CUST-2").as_of.year >= 2026  # no updatedAt: as of the dataset's last write
    write([{"customerId": "CUST-1", "riskBand": "MEDIUM", "updatedAt": "2026-03-01T11:00:00Z"}])
    assert source.fetch("CUST-1").fields == {"riskBand": "MEDIUM"}  # a new ETag: read again


def test_s3_dataset_missing_or_unreachable_is_source_unavailable(dataset, moto_endpoint, down_endpoint):
    _, bucket, _ = dataset
    missing = S3JsonLinesCustomerSource(f"s3://{bucket}/nothing.jsonl",
                                        mesh_s3_client_factory(REGION, moto_endpoint, 2), lambda: NOW)
    with pytest.raises(SourceUnavailable):
        missing.fetch("CUST-1")
    down = S3JsonLinesCustomerSource(f"s3://{bucket}/accounts.jsonl", mesh_s3_client_factory(REGION, down_endpoint, 1),
                                     lambda: NOW)
    with pytest.raises(SourceUnavailable):
        down.fetch("CUST-1")


# -- last known records: one contract, two stores ------------------------------------------------------------

class TestMemoryLastKnown:
    @pytest.fixture
    def store(self):
        return InMemoryLastKnownStore()

    def test_keeps_the_newest_record_per_product(self, store):
        old = SourceRecord({"riskBand": "LOW"}, NOW - timedelta(hours=3))
        new = SourceRecord({"riskBand": "HIGH"}, NOW - timedelta(hours=1))
        store.save("CUST-1", "risk", new)
        store.save("CUST-1", "risk", old)  # older: ignored
        store.save("CUST-1", "crm", SourceRecord({"name": "Ada"}, NOW))
        store.save("CUST-2", "crm", SourceRecord({"name": "Ben"}, NOW))
        assert store.load("CUST-1") == {"risk": new, "crm": SourceRecord({"name": "Ada"}, NOW)}
        assert store.load("CUST-3") == {}


class TestDynamoLastKnown(TestMemoryLastKnown):
    @pytest.fixture
    def store(self, dynamo_models):
        return DynamoLastKnownStore(dynamo_models)

    def test_a_newer_record_from_another_container_is_not_overwritten(self, dynamo_models):
        one, other = DynamoLastKnownStore(dynamo_models), DynamoLastKnownStore(dynamo_models)
        one.save("CUST-1", "risk", SourceRecord({"riskBand": "HIGH"}, NOW))
        other.save("CUST-1", "risk", SourceRecord({"riskBand": "LOW"}, NOW - timedelta(hours=1)))
        assert one.load("CUST-1")["risk"].fields == {"riskBand": "HIGH"}


def test_the_sample_customers_are_deterministic():
    assert crm_profile("CUST-1001", NOW) == crm_profile("CUST-1001", NOW)
    assert {"CUST-1001", "CUST-1002", "CUST-2001", "CUST-2002", "CUST-7"} <= set(CUSTOMER_IDS)

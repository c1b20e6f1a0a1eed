"""Container entry point: `python -m processor`, configured by the ECS container overrides.

Exit status is what Step Functions' `ecs:runTask.sync` sees: 0 when the document was processed,
READY or QUARANTINED alike (the verdict is in the result); 1 when the processor could not do its job
(object missing, S3 or DynamoDB unreachable), so the task is retried; 2 for a malformed task
definition, which no retry fixes.
"""
from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any, Mapping, Optional

from .config import ConfigError, Job, Limits
from .pipeline import process
from .sink import ArtifactResultSink, DynamoDBResultSink, MultiSink, ResultSink, S3Artifacts
from .source import S3ObjectSource, SourceUnavailable

log = logging.getLogger("processor")

EXIT_PROCESSED, EXIT_RETRY, EXIT_CONFIG = 0, 1, 2
# Set by the document workflow's container overrides: every log line names the work it belongs to.
CORRELATION_IDS = ("CASE_ID", "DOCUMENT_ID", "VERSION_ID", "EXECUTION_ID")


def log_format(env: Mapping[str, str]) -> str:
    ids = " ".join(f"{name.lower()}={env[name]}" for name in CORRELATION_IDS if env.get(name)).replace("%", "%%")
    return f"%(asctime)s %(levelname)s %(name)s [{ids}] %(message)s"


def _clients(env: Mapping[str, str]) -> tuple[Any, Any]:
    import boto3
    from botocore.config import Config

    # boto3 follows AWS_ENDPOINT_URL by itself (moto or LocalStack locally); ECS sets AWS_REGION.
    config = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=60)
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    session = boto3.session.Session(region_name=region)
    return session.client("s3", config=config), session.client("dynamodb", config=config)


def main(environ: Optional[Mapping[str, str]] = None) -> int:
    env = os.environ if environ is None else environ
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format=log_format(env))
    try:
        job, limits = Job.from_env(env), Limits.from_env(env)
    except ConfigError as error:
        log.error("bad task configuration: %s", error)
        return EXIT_CONFIG

    from botocore.exceptions import BotoCoreError, ClientError

    s3, dynamodb = _clients(env)
    artifacts = S3Artifacts(s3, job.bucket, job.derived_prefix)
    sinks: list[ResultSink] = [ArtifactResultSink(artifacts)]
    if job.result_table:
        sinks.append(DynamoDBResultSink(dynamodb, job.result_table, job.case_id, job.document_id, job.version_id))
    source = S3ObjectSource(s3, job.bucket, job.key, job.version_id, limits.chunk_bytes)
    try:
        result = process(job, source, artifacts, MultiSink(sinks), limits)
    except SourceUnavailable as error:
        log.error("cannot read the object: %s", error)
        return EXIT_RETRY
    except (BotoCoreError, ClientError) as error:
        log.error("cannot write the results: %s", error)
        return EXIT_RETRY
    summary = {k: result.get(k) for k in ("status", "reasonCodes", "sha256", "size", "detectedType", "artifacts")}
    print(json.dumps(summary), flush=True)
    log.info("processed s3://%s/%s?versionId=%s: %s", job.bucket, job.key, job.version_id, result["status"])
    return EXIT_PROCESSED


if __name__ == "__main__":
    sys.exit(main())

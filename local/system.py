"""The whole local system: moto as the AWS endpoint (or a given one, e.g. LocalStack), the provisioned
resources, the app's Lambda handlers run for Step Functions, the table's stream and the SQS queues (in a process
of their own with `lambda_process=True`, as `python -m local run` starts it; else in this one), and the Chalice
app served by Chalice's own local server."""
from __future__ import annotations

import importlib
import json
import logging
import os
import socket
import sys
import threading
import urllib.request
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any, Mapping, Optional

from . import statemachines
from .demo import DEMO_USERS
from .drain_route import PATH as DRAIN_PATH, add_drain_route
from .faults import PATH as FAULTS_PATH, add_faults_route
from .mail import PATH as MAIL_PATH, add_mail_route
from .console import ConsoleServer, console_config
from .costs import ENV_VAR as RECORD_COSTS, CostAccounting
from .fargate import FargateRunner, patch_ecs_integration, provision_ecs
from .functions import (
    STATES_ROLE, UPLOAD_FUNCTION, map_streams, notify_uploads, register_functions, s3_version_filler, service_role,
)
from .iam_recorder import ENV_VAR as RECORD_IAM, ActionRecorder, http_middleware
from .inprocess_aws import InProcessAWS, install_for
from .lambda_process import LambdaProcess
from .lambdas import LambdaDispatcher, MotoPinError, check_moto, lambda_function_names
from .queues import SqsPollers, provision_webhook_queues
from chalicelib.domain.case_rows import ROWS_PREFIX as CASE_ROWS_PREFIX

from .mesh import DATA_PRODUCT_BUCKET, CrmServer, MeshResources, provision_mesh
from .cognito import patch_cognito
from .botocore_models import share_botocore_models
from .moto_atomic import SerialisedDynamoDB, serialise_dynamodb
from .moto_asl_cache import install_asl_cache
from .moto_request_speedups import install_request_speedups
from .moto_s3_keys import install_s3_keys
from .moto_sfn_names import install_sfn_names
from .moto_sfn_threads import install_sfn_threads
from .moto_speedups import install_dynamodb_speedups
from .moto_sqs import install_sqs_speedups
from .moto_stream_fanout import install_stream_fanout
from .bulk import no_collection
from .old_objects import OldObjects
from .recovery import RecoveryThread
from .redis_server import RedisServer, redis_server_binary
from .server_thread import POLL_INTERVAL
from .step_timer import StepTimer
from .provision import (
    DEFAULT_BUCKET, DEFAULT_EVENT_BUS, Resources, client, list_restored_cases, provision, seed_demo_cases,
)
from .queue_snapshot import dump_queues, moto_sqs, restore_queues
from .snapshot import (
    dump_backlog, dump_objects, dump_table, moto_s3, moto_table, read_backlog, restore_objects, restore_table,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
STAGE = "local"
DEFAULT_ACCOUNT = "123456789012"  # moto's account: where the embedded moto keeps every resource
# The stream function that starts workflows. Its saved records are not replayed when the recovery thread runs: it
# starts the run of every case still NEW (under the same execution name), and a replayed start could race a run
# the recovery resumed under the next name.
WORKFLOW_STARTER = "on_case_stream"
log = logging.getLogger("local")


class StartupError(RuntimeError):
    """The local system cannot start as asked (e.g. a port is taken)."""


class LocalSystem:
    """Start with `with LocalSystem(...) as system:`; `system.stack` is what `stack.json` holds."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        moto_port: int = 4566,
        state_dir: str | Path = ".local",
        seed: bool = True,
        project_dir: str | Path = PROJECT_DIR,
        app: Any = None,
        stepfunctions_dir: str | Path | None = None,
        substitutions: Optional[Mapping[str, str]] = None,
        redis: bool = True,
        console_port: Optional[int] = None,
        lambda_process: bool = False,
    ) -> None:
        """`app`: a Chalice app to run instead of importing `project_dir/app.py` (tests inject one);
        `stepfunctions_dir`: where the `*.asl.json` files are (default `project_dir/stepfunctions`);
        `substitutions`: extra or overriding DefinitionSubstitutions values for the ASL;
        `redis`: start a redis-server for the cache when REDIS_URL is unset and one is on PATH;
        `console_port`: serve the web console there (None: no console);
        `lambda_process`: run the project's Lambda handlers in a process of their own (local/lambda_process.py),
        on the embedded moto; else in this one (always so for an injected `app`)."""
        self.host, self.port, self.moto_port, self.seed = host, port, moto_port, seed
        self.console_port = console_port
        self._console: Optional[ConsoleServer] = None
        self.state_dir = Path(state_dir).resolve()
        self.project_dir = Path(project_dir).resolve()
        self.stepfunctions_dir = Path(stepfunctions_dir or self.project_dir / "stepfunctions").resolve()
        self.extra_substitutions = dict(substitutions or {})
        self.app: Any = app
        self.dispatcher: Optional[LambdaDispatcher] = None  # while running on the embedded moto
        self.use_lambda_process = lambda_process
        self.lambda_process: Optional[LambdaProcess] = None  # runs the handlers when use_lambda_process
        self.sqs_pollers: Optional[SqsPollers] = None  # play Lambda's SQS event sources (embedded moto)
        self.fargate: Optional[FargateRunner] = None  # plays Fargate for the document processor (embedded moto)
        self._fargate_values: dict[str, str] = {}  # cluster, task definition, network: ASL substitutions
        self.stack: dict[str, Any] = {}
        self._moto: Any = None
        self._dynamodb: Optional[SerialisedDynamoDB] = None  # the embedded moto's DynamoDB (its lock)
        self.inprocess_aws: Optional[InProcessAWS] = None  # serves this process's calls to the embedded moto
        self._recovery: Optional[RecoveryThread] = None  # resumes lost workflow runs after a start
        self._server: Any = None
        self._thread: Optional[threading.Thread] = None
        self._resources: Optional[Resources] = None
        self._crm: Optional[CrmServer] = None  # the sample CRM data product's HTTP output port
        self._saved_env: Optional[dict[str, str]] = None
        self.saved_items: Optional[int] = None  # set by stop() when it wrote a snapshot
        self.saved_records: Optional[int] = None  # with it: the stream records left for the functions
        self._backlog: dict[str, list[dict[str, Any]]] = {}  # read from the snapshot, replayed once wired
        self.recorder: Optional[ActionRecorder] = None  # with CMS_RECORD_IAM: each function's AWS calls
        self.costs: Optional[CostAccounting] = None  # with CMS_LOCAL_COSTS: CPU by what was served
        self._old_objects: Optional[OldObjects] = None  # long-lived objects frozen out of full collections
        self.use_redis = redis
        self._redis: Optional[RedisServer] = None  # the redis-server this system started, if any

    @property
    def stack_file(self) -> Path:
        return self.state_dir / "stack.json"

    @property
    def snapshot_dir(self) -> Path:
        """Where a stop saves what moto held and a start restores it from."""
        return self.state_dir / "snapshot"

    @property
    def snapshot_file(self) -> Path:
        return self.snapshot_dir / "dynamodb.json"

    @property
    def backlog_snapshot_file(self) -> Path:
        """The stream records the functions had not handled at the stop: replayed on the next start."""
        return self.snapshot_dir / "stream-backlog.json"

    @property
    def rows_snapshot_file(self) -> Path:
        """The case data product's rows (S3 objects), saved beside the table."""
        return self.snapshot_dir / "case-data-product.json"

    @property
    def documents_snapshot_file(self) -> Path:
        """The documents bucket's object versions (bodies in `documents_snapshot_dir`, a file each)."""
        return self.snapshot_dir / "documents.json"

    @property
    def documents_snapshot_dir(self) -> Path:
        return self.snapshot_dir / "documents"

    @property
    def queues_snapshot_file(self) -> Path:
        """The messages waiting in the SQS queues (webhook deliveries, their retries and dead letters)."""
        return self.snapshot_dir / "sqs.json"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> dict[str, Any]:
        self._saved_env = dict(os.environ)
        try:
            return self._start()
        except BaseException:
            self.stop(snapshot=False)  # never leave a half-started moto or a stale stack file behind
            raise

    def _start(self) -> dict[str, Any]:
        share_botocore_models()  # before the first boto3 session: moto's, the provisioning's and the app's
        chalice_config = json.loads((self.project_dir / ".chalice" / "config.json").read_text())
        app_env = _stage_environment(chalice_config)
        _ensure_free(self.host, self.port)
        if self.console_port is not None:
            _ensure_free(self.host, self.console_port)
        for name, value in (
            ("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", "us-east-1"),
        ):
            os.environ.setdefault(name, value)
        os.environ["AWS_XRAY_SDK_ENABLED"] = "false"  # no daemon here: the SDK would log tracebacks
        # No CloudWatch reads the metrics here: one JSON line per invocation would drown the logs (tests read them).
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        region = os.environ.get("AWS_REGION") or os.environ["AWS_DEFAULT_REGION"]
        if os.environ.get(RECORD_IAM):  # before any AWS client exists: it watches sessions created later
            self.recorder = ActionRecorder(os.environ[RECORD_IAM], region)
            self.recorder.install()
        timer = StepTimer()  # one log line at the end: where a (re)start's seconds went
        with timer.step("moto"):
            endpoint = os.environ.get("AWS_ENDPOINT_URL") or self._start_moto()

        with timer.step("provision"):
            self._resources = resources = provision(
                endpoint, region, table_name=app_env.get("TABLE_NAME", "cms-local"), bucket_name=DEFAULT_BUCKET,
                event_bus_name=app_env.get("EVENT_BUS_NAME", DEFAULT_EVENT_BUS),
                mail_sender=app_env.get("NOTIFICATION_SENDER"),
            )
            mesh = self._start_mesh(resources)
        if self._moto is not None:
            self._restore(resources, mesh, timer)
        # The state machines' ARNs are known before the machines exist: the app gets them with the local
        # stage's environment, which it must see from its first import on.
        asl = statemachines.asl_files(self.stepfunctions_dir)
        account = str(client("sts", endpoint, region).get_caller_identity()["Account"])
        machine_arns = statemachines.machine_arns(asl, region, account)
        os.environ.update(app_env)
        event_bus_name = app_env.get("EVENT_BUS_NAME", DEFAULT_EVENT_BUS)
        webhook_queues = provision_webhook_queues(
            client("sqs", endpoint, region), client("events", endpoint, region), event_bus_name,
        )
        if self._moto is not None:
            self._restore_queues(region)  # once the queues exist, before their pollers start
        cache = self._start_cache(resources.table_name)
        os.environ.update({
            "AWS_ENDPOINT_URL": endpoint,
            "COGNITO_USER_POOL_ID": resources.user_pool_id,
            "COGNITO_CLIENT_ID": resources.user_pool_client_id,
            "LOCAL_STACK_FILE": str(self.stack_file),
            "DATA_CATALOG_DIR": str(mesh.catalog_dir),
            "DATA_PRODUCT_BUCKET": mesh.data_product_bucket,
            "WEBHOOK_QUEUE_URL": webhook_queues.queue_url,
            "WEBHOOK_DLQ_URL": webhook_queues.dead_letter_url,
            **{statemachines.env_var(name): arn for name, arn in machine_arns.items()},
        })
        project_app = self.app is None  # not a test's injected app
        with timer.step("app"):
            app = self._load_app()
        if self.recorder is not None:
            self.recorder.account = account
            app.register_middleware(http_middleware, "http")  # routes run as the API handler
        if self._handlers_apart(project_app):  # the environment is complete
            answer_aws = self.inprocess_aws.answer if self.inprocess_aws is not None else None
            self.lambda_process = LambdaProcess(self.project_dir, account, endpoint, answer_aws).start()
        if os.environ.get(RECORD_COSTS) and self._moto is not None:
            self.costs = CostAccounting(os.environ[RECORD_COSTS])
            self.costs.install(app)
        with timer.step("functions"):
            self._wire_lambdas(app, chalice_config, resources, account, asl, machine_arns)
            self._replay_backlog(skip=(WORKFLOW_STARTER,) if project_app and machine_arns else ())
        # After the stream mapping: demo cases start their workflows like any new case (restored ones do not).
        if self.seed:
            snapshot = None
            if project_app:  # demo cases keep a snapshot of their customer, as cases opened through the API do
                from chalicelib import bootstrap

                snapshot = bootstrap.container().customers.snapshot
            seed_demo_cases(resources, customer_snapshot=snapshot)
        api_host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        self.stack = {
            "apiUrl": f"http://{api_host}:{self.port}",
            "awsEndpoint": endpoint,
            "region": region,
            "tableName": resources.table_name,
            "bucketName": resources.bucket_name,
            "eventBusName": event_bus_name,
            "webhookQueueUrl": webhook_queues.queue_url,
            "webhookDeadLetterUrl": webhook_queues.dead_letter_url,
            "userPoolId": resources.user_pool_id,
            "userPoolClientId": resources.user_pool_client_id,
            "stateMachines": machine_arns,
            "dataCatalogDir": str(mesh.catalog_dir),
            "dataProductBucket": mesh.data_product_bucket,
            "mesh": mesh.to_stack(),
            "users": [u.to_stack() for u in DEMO_USERS],
            "cache": cache,
            "notificationSender": app_env.get("NOTIFICATION_SENDER", ""),
        }
        if os.environ.get("REDIS_URL"):  # a stand-alone `chalice local` shares the cache and its keys
            self.stack.update(redisUrl=os.environ["REDIS_URL"], cacheKeyPrefix=os.environ["CACHE_KEY_PREFIX"])
        if self.dispatcher is not None:
            self.stack["lambdaDrainUrl"] = endpoint + DRAIN_PATH
            self.stack["lambdaFaultsUrl"] = endpoint + FAULTS_PATH
            self.stack["mailUrl"] = endpoint + MAIL_PATH
        if self.lambda_process is not None:
            self.stack["lambdaProcessPid"] = self.lambda_process.pid  # its CPU and memory are the system's too
        if self.console_port is not None:
            self._console = ConsoleServer(
                self.project_dir / "console", self.stepfunctions_dir, console_config(self.stack), self.host,
                self.console_port,
            )
            self._console.start()
            self.stack["consoleUrl"] = f"http://{api_host}:{self.console_port}"
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.stack_file.write_text(json.dumps(self.stack, indent=2) + "\n")
        self._serve(app, chalice_config)
        if project_app and machine_arns:  # the project's own app, with its workflow
            self._recovery = RecoveryThread().start()
        with timer.step("freeze"):
            self._old_objects = OldObjects().install()  # full collections walk what came since, not all of moto
        log.info("started in %s", timer)
        return self.stack

    def stop(self, snapshot: bool = True, drain_timeout: float = 10.0) -> None:
        """`drain_timeout`: how long queued stream batches may still run (tests wait for them; Ctrl-C does not:
        the records left are saved with the snapshot and replayed on the next start)."""
        timer = StepTimer()
        if self.sqs_pollers is not None:
            self.sqs_pollers.request_stop()  # their long polls end while the rest stops, not one after the other
        if self._recovery is not None:
            with timer.step("recovery"):
                self._recovery.stop()  # stops between two cases: the rest resume on the next start
            self._recovery = None
        if self._console is not None:
            with timer.step("console"):
                self._console.stop()
            self._console = None
        if self._server is not None:
            with timer.step("api"):
                if self._thread is not None and self._thread.is_alive():
                    self._server.shutdown()  # waits for serve_forever to return: only when it is running
                    self._thread.join(timeout=10)
                self._server.server.server_close()
            self._server, self._thread = None, None
        if self.sqs_pollers is not None:
            with timer.step("sqs pollers"):
                self.sqs_pollers.stop()
            self.sqs_pollers = None
        if self.fargate is not None:
            with timer.step("fargate"):
                self.fargate.stop()
            self.fargate = None
        if self._crm is not None:
            with timer.step("crm"):
                self._crm.stop()
            self._crm = None
        if self.dispatcher is not None:
            with timer.step("lambda drain"):
                if drain_timeout and not self.dispatcher.drain(drain_timeout):  # while moto still answers them
                    log.warning("stopping with %d Lambda jobs still queued", self.dispatcher.pending)
                self.dispatcher.halt()  # what is left is saved below and replayed on the next start
        if self.costs is not None:
            self.costs.uninstall()
            self.costs = None
        if self._redis is not None:
            with timer.step("redis"):
                self._redis.kill()
            self._redis = None
        moto_stopped: Optional[threading.Thread] = None
        if self._moto is not None:
            # Its HTTP server's loop notices a shutdown within half a second: that wait overlaps the snapshot, which
            # reads moto's backends in this process (and this process's calls to moto do not go through the server).
            moto_stopped = threading.Thread(target=self._moto.stop, name="moto-stop", daemon=True)
            moto_stopped.start()
            if snapshot and self._resources is not None:
                try:
                    # Before the old objects go back to the collector: a full collection set off by the snapshot's
                    # allocations would walk all of moto's.
                    with no_collection():
                        self._save(self._resources, timer)
                except Exception:  # a failed snapshot must not keep moto running
                    log.exception("could not write the snapshot")
        if self._old_objects is not None:
            with timer.step("old objects"):
                self._old_objects.uninstall()
            self._old_objects = None
        if self.dispatcher is not None:
            self.dispatcher.uninstall(drain_timeout=0)  # halted: its workers have ended or end with their batch
            self.dispatcher = None
        if self.lambda_process is not None:  # after the snapshot: a batch it had in hand is in the saved backlog
            with timer.step("lambda process"):
                self.lambda_process.stop()
            self.lambda_process = None
        if self.inprocess_aws is not None:  # calls still made from here on meet the stopped server, as before
            self.inprocess_aws.uninstall()
            self.inprocess_aws = None
        if moto_stopped is not None:
            with timer.step("moto"):
                moto_stopped.join()
            self._moto = None
        if self.recorder is not None:
            self.recorder.uninstall()
            self.recorder = None
        # A stack file outlives nothing it describes: `token` and a stand-alone `chalice local` must not use it.
        if self.stack:
            self.stack_file.unlink(missing_ok=True)
            self.stack = {}
        if timer.steps:
            log.info("stopped in %s", timer)
        if self._saved_env is not None:
            os.environ.clear()
            os.environ.update(self._saved_env)
            self._saved_env = None

    def __enter__(self) -> "LocalSystem":
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- parts -------------------------------------------------------------------------------

    def _start_cache(self, table_name: str) -> str:
        """Redis for the read cache: REDIS_URL's, else a redis-server of our own on a free port when one is
        installed, else the app's in-process cache. Keys get a prefix of this run: a Redis shared with
        other runs (or test systems) never serves their entries here. Returns what serves the cache."""
        if not os.environ.get("REDIS_URL") and self.use_redis and redis_server_binary():
            self._redis = RedisServer().start()
            os.environ["REDIS_URL"] = self._redis.url
        if not os.environ.get("REDIS_URL"):
            return "in-process (no REDIS_URL, " + ("no redis-server on PATH)" if self.use_redis else "--no-redis)")
        os.environ.setdefault("CACHE_KEY_PREFIX", f"{table_name}:{uuid.uuid4().hex[:8]}:")
        origin = "started here" if self._redis else "REDIS_URL"
        return f"redis at {os.environ['REDIS_URL']} ({origin})"

    def _start_moto(self) -> str:
        from moto.server import ThreadedMotoServer  # a dev dependency, loaded only when it is used

        try:
            check_moto()  # before anything starts: the in-process Lambda patches need this moto exactly
            install_dynamodb_speedups()  # queries and transactions that cost what they read, not the table
            install_asl_cache()  # one ANTLR parse per state machine definition, not one per execution
            install_request_speedups()  # no per-request boto3 clients, JSONPath parsers, folder listings
            install_sfn_threads()  # one thread per execution waiting for a task token, O(1) token look-ups
            install_sfn_names()  # StartExecution finds a name in an index, not by reading every execution
            install_sqs_speedups()  # SQS requests that cost what they touch, not the queue's backlog
            install_stream_fanout()  # a write's stream records dumped to JSON once, not once per mapped function
            install_s3_keys()  # S3 object versions without a dict each: before the first one is made
        except MotoPinError as exc:
            raise StartupError(str(exc)) from None
        _ensure_free("127.0.0.1", self.moto_port)  # ThreadedMotoServer.start() would hang on a taken port
        os.environ["MOTO_PORT"] = str(self.moto_port)  # moto's Step Functions calls back to this port
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per AWS call drowns the API's
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.moto_port, verbose=False)
        self._moto.start()
        self._dynamodb = serialise_dynamodb(self._moto)
        self.inprocess_aws = install_for(self._moto._server)  # before the first client: the provisioning's
        patch_cognito()  # RevokeToken and the app client's WriteAttributes, as Cognito
        endpoint = f"http://127.0.0.1:{self.moto_port}"
        _post_json(f"{endpoint}/moto-api/config", {"stepfunctions": {"execute_state_machine": True}})
        return endpoint

    def _load_app(self) -> Any:
        if self.app is None:
            if str(self.project_dir) not in sys.path:
                sys.path.insert(0, str(self.project_dir))
            self.app = importlib.import_module("app").app
        return self.app

    def _wire_lambdas(
        self,
        app: Any,
        chalice_config: dict[str, Any],
        resources: Resources,
        account: str,
        asl: list[Path],
        machine_arns: dict[str, str],
    ) -> None:
        """Functions, then state machines (whose ASL names the functions), then stream mappings (whose
        handlers start the state machines)."""
        aws = lambda service: client(service, resources.endpoint, resources.region)  # noqa: E731
        names = lambda_function_names(app)
        if self._moto is not None:
            run = self.lambda_process.run if self.lambda_process is not None else None
            self.dispatcher = LambdaDispatcher(app, run)
            self.dispatcher.install()
            add_drain_route(self._moto, self.dispatcher)
            add_faults_route(self._moto, self.dispatcher)  # tests make Lambda functions fail through it
            add_mail_route(self._moto)  # `python -m local mail` reads the e-mails moto's SES kept
            settings = _function_settings(chalice_config, names)
            function_arns = register_functions(aws("lambda"), aws("iam"), names, settings)
        else:  # another endpoint (e.g. LocalStack) runs Lambda code its own way, if at all
            if names:
                log.warning("AWS_ENDPOINT_URL is set: the app's Lambda handlers are not run in-process")
            function_arns = {n: f"arn:aws:lambda:{resources.region}:{account}:function:{n}" for n in names}
        if self._moto is not None:
            self._start_fargate(resources)
        if asl:
            values = {
                **statemachines.function_substitutions(function_arns),
                **self._fargate_values,
                "TableName": resources.table_name,
                "BucketName": resources.bucket_name,
                **self.extra_substitutions,
            }
            role = service_role(aws("iam"), STATES_ROLE, "states.amazonaws.com")
            try:
                created = statemachines.deploy(aws("stepfunctions"), asl, values, role)
            except statemachines.SubstitutionError as exc:
                raise StartupError(str(exc)) from None
            if created != machine_arns:
                raise StartupError(f"state machine ARNs {created} differ from the ones given to the app {machine_arns}")
        if self.dispatcher is not None:
            streams = aws("dynamodbstreams")
            map_streams(aws("lambda"), aws("dynamodb"), streams, app, self.dispatcher, resources.table_name)
            self.sqs_pollers = SqsPollers(
                app, lambda: aws("sqs"), resources.region, function_arns, moto_sqs(DEFAULT_ACCOUNT, resources.region),
                self.dispatcher.run,
            ).start()
            if UPLOAD_FUNCTION in function_arns:  # the documents bucket's notification, completed as AWS sends it
                self.dispatcher.event_fillers[UPLOAD_FUNCTION] = s3_version_filler(aws("s3"))
                notify_uploads(aws("s3"), resources.bucket_name, function_arns[UPLOAD_FUNCTION])

    def _handlers_apart(self, project_app: bool) -> bool:
        """Whether the Lambda handlers get a process of their own: asked for, the project's own app (an injected one
        cannot be imported there), on the embedded moto, and the cache in Redis (an in-process cache of the API's
        must see the writes the handlers make)."""
        if not (self.use_lambda_process and project_app and self._moto is not None):
            return False
        if not os.environ.get("REDIS_URL"):
            log.info("the Lambda handlers run in this process: the in-process cache must see their writes (no Redis)")
            return False
        return True

    def _restore(self, resources: Resources, mesh: MeshResources, timer: StepTimer) -> None:
        """The snapshot's items into the fresh table, its rows into the case data product's bucket."""
        assert self._dynamodb is not None
        with timer.step("table"), self._dynamodb.lock:
            table = moto_table(DEFAULT_ACCOUNT, resources.region, resources.table_name)
            restored = restore_table(table, self.snapshot_file)
        if restored:
            log.info("restored %d items from %s", restored, self.snapshot_file)
            with timer.step("case lists"):
                listed = list_restored_cases(resources)  # a snapshot from before the case lists
            if listed:
                log.info("moved %d restored cases into the case lists", listed)
        with timer.step("rows"):
            rows = restore_objects(moto_s3(DEFAULT_ACCOUNT), mesh.data_product_bucket, self.rows_snapshot_file)
        if rows:
            log.info("re-published %d case data product rows from %s", rows, self.rows_snapshot_file)
        documents = restore_objects(moto_s3(DEFAULT_ACCOUNT), resources.bucket_name, self.documents_snapshot_file,
                                    self.documents_snapshot_dir)
        if documents:
            log.info("restored %d document object versions from %s", documents, self.documents_snapshot_file)
        self._backlog = read_backlog(self.backlog_snapshot_file)

    def _restore_queues(self, region: str) -> None:
        messages = restore_queues(moto_sqs(DEFAULT_ACCOUNT, region), self.queues_snapshot_file)
        if messages:
            log.info("restored %d queued messages (webhook deliveries) from %s", messages, self.queues_snapshot_file)

    def _replay_backlog(self, skip: tuple[str, ...]) -> None:
        """The stream records the last stop left, to the functions they were for (mapped to the new stream)."""
        from moto.awslambda.models import lambda_backends

        backlog, self._backlog = self._backlog, {}
        if self.dispatcher is None or self._resources is None or not backlog:
            return
        functions = lambda_backends[DEFAULT_ACCOUNT][self._resources.region]
        replayed = 0
        for name, records in backlog.items():
            if name in skip or name not in self.dispatcher.stream_functions:
                continue
            self.dispatcher.replay(functions.get_function(name), records)
            replayed += len(records)
        log.info("replaying %d stream records the last stop left unhandled (%s)", replayed,
                 ", ".join(f"{name}: {len(records)}" for name, records in backlog.items()))

    def _save(self, resources: Resources, timer: StepTimer) -> None:
        assert self._dynamodb is not None
        with timer.step("table"), self._dynamodb.lock:  # Step Functions may still be writing through moto's API
            table = moto_table(DEFAULT_ACCOUNT, resources.region, resources.table_name)
            self.saved_items = dump_table(table, self.snapshot_file)
            # Under the same lock: a write's stream records are queued inside it, so each saved item's records
            # are either handled or in the backlog.
            backlog = self.dispatcher.backlog() if self.dispatcher is not None else {}
        log.info("saved %d items to %s", self.saved_items, self.snapshot_file)
        with timer.step("stream backlog"):
            self.saved_records = dump_backlog(backlog, self.backlog_snapshot_file)
        log.info("saved %d stream records not yet handled to %s", self.saved_records, self.backlog_snapshot_file)
        with timer.step("rows"):
            bucket = moto_s3(DEFAULT_ACCOUNT).get_bucket(DATA_PRODUCT_BUCKET)
            rows = dump_objects(bucket, CASE_ROWS_PREFIX, self.rows_snapshot_file)
        log.info("saved %d case data product rows to %s", rows, self.rows_snapshot_file)
        with timer.step("documents"):
            documents = dump_objects(moto_s3(DEFAULT_ACCOUNT).get_bucket(resources.bucket_name), "",
                                     self.documents_snapshot_file, self.documents_snapshot_dir)
        log.info("saved %d document object versions to %s", documents, self.documents_snapshot_file)
        with timer.step("queues"):
            messages = dump_queues(moto_sqs(DEFAULT_ACCOUNT, resources.region), self.queues_snapshot_file)
        log.info("saved %d queued messages (webhook deliveries) to %s", messages, self.queues_snapshot_file)

    def _start_mesh(self, resources: Resources) -> MeshResources:
        """The sample customer data products (a CRM over HTTP on loopback, a risk dataset in S3), the data
        product bucket and the catalog files that register them."""
        self._crm = CrmServer(host="127.0.0.1").start()
        return provision_mesh(
            client("s3", resources.endpoint, resources.region), resources.region, self.state_dir, self._crm.url,
        )

    def _start_fargate(self, resources: Resources) -> None:
        """ECS cluster, processor task definition and network on moto, and the runner that plays Fargate."""
        patch_ecs_integration()
        self._fargate_values = provision_ecs(resources.endpoint, resources.region)
        runner_env = {
            "AWS_ENDPOINT_URL": resources.endpoint, "AWS_DEFAULT_REGION": resources.region,
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
            "RESULT_TABLE": resources.table_name,
        }
        ecs = client("ecs", resources.endpoint, resources.region)
        self.fargate = FargateRunner(ecs, self._fargate_values["ClusterArn"], self.project_dir / "fargate", runner_env)
        self.fargate.start()

    def _serve(self, app: Any, chalice_config: dict[str, Any]) -> None:
        from chalice.config import Config
        from .http_server import local_server

        config = Config(
            chalice_stage=STAGE,
            user_provided_params={"app_name": chalice_config["app_name"], "project_dir": str(self.project_dir)},
            config_from_disk=chalice_config,
        )
        self._server = local_server(app, config, self.host, self.port)
        # The inner HTTP server's loop: LocalDevServer.serve_forever() would only add a print.
        self._thread = threading.Thread(target=self._server.server.serve_forever, args=(POLL_INTERVAL,),
                                        name="chalice-local", daemon=True)
        self._thread.start()


def _function_settings(chalice_config: dict[str, Any], names: list[str]) -> dict[str, tuple[int, int]]:
    """Each function's (timeout, memory) for the local stage, as `chalice package` would set them."""
    from chalice.config import Config
    from chalice.constants import DEFAULT_LAMBDA_MEMORY_SIZE, DEFAULT_LAMBDA_TIMEOUT

    settings: dict[str, tuple[int, int]] = {}
    for name in names:
        scoped = Config(chalice_stage=STAGE, function_name=name, config_from_disk=chalice_config)
        settings[name] = (
            int(scoped.lambda_timeout or DEFAULT_LAMBDA_TIMEOUT),
            int(scoped.lambda_memory_size or DEFAULT_LAMBDA_MEMORY_SIZE),
        )
    return settings


def _post_json(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST",
    )
    # No proxy: a developer's HTTP(S)_PROXY must not intercept calls to loopback.
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as response:
        response.read()


def _stage_environment(chalice_config: dict[str, Any]) -> dict[str, str]:
    """The environment Chalice gives the local stage's functions (top-level merged with the stage's)."""
    from chalice.config import Config

    return dict(Config(chalice_stage=STAGE, config_from_disk=chalice_config).environment_variables)


def _ensure_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise StartupError(f"port {port} on {host} is in use ({exc.strerror}); pick another one") from None

"""`python -m local run` starts the local system in the foreground; `python -m local token USER` prints
an ID token for a demo user, obtained the way a front end logs in; `python -m local mail` prints the e-mails
it sent (moto's SES keeps them)."""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Optional


# Ctrl-C waits for no queued stream batch: the records left are saved with the snapshot and replayed on the next start.
STOP_DRAIN_SECONDS = 0.0


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description="The Case Management System, locally.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start moto, provision, serve the API (Ctrl-C stops and snapshots)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--moto-port", type=int, default=4566)
    run.add_argument("--console-port", type=int, default=8080, help="the web console's port")
    run.add_argument("--state-dir", default=".local")
    run.add_argument("--no-seed", action="store_true", help="do not create demo cases in an empty table")
    run.add_argument("--no-redis", action="store_true", help="do not start a redis-server: an in-process cache")
    run.add_argument("--lambdas-in-process", action="store_true",
                     help="run the Lambda handlers in this process, not in a second one (slower; one process to debug)")
    token = commands.add_parser("token", help="print an ID token for a demo user")
    token.add_argument("username")
    token.add_argument("--state-dir", default=".local")
    mail = commands.add_parser("mail", help="print the e-mails the running local system sent")
    mail.add_argument("--to", help="only those to addresses containing this (e.g. alice)")
    mail.add_argument("--state-dir", default=".local")
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args)
    if args.command == "mail":
        return _mail(args)
    return _token(args)


def _run(args: argparse.Namespace) -> int:
    from .process_setup import set_up_process

    set_up_process()  # before any thread starts
    from .system import LocalSystem, StartupError


    stop = threading.Event()
    # Both stop the same way, so `kill` and Ctrl-C leave a snapshot behind.
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    system = LocalSystem(
        host=args.host, port=args.port, moto_port=args.moto_port, state_dir=args.state_dir, seed=not args.no_seed,
        redis=not args.no_redis,
        console_port=args.console_port, lambda_process=not args.lambdas_in_process,
    )
    try:
        system.start()
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        _print_banner(system.stack, system.stack_file, args.state_dir)
        while not stop.wait(0.5):
            pass
        print("stopping...", flush=True)
    finally:
        system.stop(drain_timeout=STOP_DRAIN_SECONDS)
    saved = ""
    if system.saved_items is not None:
        saved = f"; {system.saved_items} items and {system.saved_records} unhandled stream records saved to " \
                f"{system.snapshot_file.parent}"
    print(f"stopped{saved}", flush=True)
    # moto's Step Functions executions that wait for a task keep a thread each, and would hold the interpreter
    # for tens of seconds after a stop; their state is moto's memory, gone either way (the next start resumes
    # them), and everything this process started has been stopped.
    logging.shutdown()
    sys.stderr.flush()
    os._exit(0)


def _print_banner(stack: dict[str, Any], stack_file: Path, state_dir: str) -> None:
    rows = [(u["username"], u["password"], ",".join(u["groups"]), u["team"]) for u in stack["users"]]
    header = ("user", "password", "groups", "team")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    line = lambda r: "  " + "  ".join(v.ljust(w) for v, w in zip(r, widths))  # noqa: E731
    state = "" if state_dir == ".local" else f" --state-dir {state_dir}"
    print("\n".join([
        "",
        f"Web console:  {stack['consoleUrl']}   (sign in as a demo user below)",
        f"API:          {stack['apiUrl']}",
        f"AWS endpoint: {stack['awsEndpoint']} ({stack['region']})",
        f"Stack file:   {stack_file}",
        f"Cache:        {stack['cache']}",
        "Demo users:",
        line(header),
        *(line(r) for r in rows),
        "",
        "Get a token and call the API:",
        f"  TOKEN=$(python -m local token alice{state})   # or: make token USER=alice",
        f"  curl -H \"Authorization: Bearer $TOKEN\" {stack['apiUrl']}/cases",
        "Ctrl-C stops everything and saves the data.",
        "",
    ]), flush=True)


def _stack(state_dir: str) -> Optional[dict[str, Any]]:
    stack_file = Path(state_dir) / "stack.json"
    if not stack_file.is_file():
        print(f"error: {stack_file} not found; run `make run` first (the local system writes it)", file=sys.stderr)
        return None
    stack: dict[str, Any] = json.loads(stack_file.read_text())
    return stack


def _mail(args: argparse.Namespace) -> int:
    from urllib.error import URLError

    from .mail import render, sent_messages

    stack = _stack(args.state_dir)
    if stack is None:
        return 2
    if "mailUrl" not in stack:
        print("error: only the embedded moto keeps e-mails; this system runs on another endpoint", file=sys.stderr)
        return 2
    try:
        messages = sent_messages(stack["mailUrl"])
    except (URLError, OSError, ValueError) as exc:
        print(f"error: could not read the sent e-mails ({exc}); is the local system running?", file=sys.stderr)
        return 1
    print(render(messages, args.to))
    return 0


def _token(args: argparse.Namespace) -> int:
    stack = _stack(args.state_dir)
    if stack is None:
        return 2
    users = {u["username"]: u for u in stack["users"]}
    if args.username not in users:
        print(f"error: unknown user {args.username!r}; demo users: {', '.join(users)}", file=sys.stderr)
        return 2
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    # InitiateAuth is unsigned on AWS; dummy keys keep boto3 from looking for real ones.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    idp = boto3.client("cognito-idp", endpoint_url=stack["awsEndpoint"], region_name=stack["region"])
    try:
        result = idp.initiate_auth(
            AuthFlow="USER_PASSWORD_AUTH", ClientId=stack["userPoolClientId"],
            AuthParameters={"USERNAME": args.username, "PASSWORD": users[args.username]["password"]},
        )
    except (BotoCoreError, ClientError) as exc:
        print(f"error: login failed ({exc}); is the local system running (`make run`)?", file=sys.stderr)
        return 1
    print(result["AuthenticationResult"]["IdToken"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

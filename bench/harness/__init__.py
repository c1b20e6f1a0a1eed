"""What the benchmark scripts share. Importing it makes the repository root importable, since a script runs as
`python bench/<name>.py` with only bench/ on sys.path.

- `stats`: timing loops, percentiles and the markdown rows the scripts print;
- `inprocess`: the app in this process against moto, with an unsigned JWT and its AWS calls counted;
- `local_system`: the whole local system as a subprocess (`python -m local run`), its users logged in.
"""
from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the figures."""
    print(message, file=sys.stderr, flush=True)


def keep_or_remove(state: Path, keep: bool) -> None:
    """The run's temporary state (logs, snapshots): kept for a look when asked (or when the run went wrong)."""
    if keep:
        log(f"state kept in {state}")
    else:
        shutil.rmtree(state, ignore_errors=True)

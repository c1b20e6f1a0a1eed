"""Document processor throughput on a 1 GiB file against bare hashlib.sha256 over the same bytes.

Run from the repo root:  .venv/bin/python bench/processor_throughput.py [MiB]      (default 1024)

What it does
- writes a MiB-sized file of text lines (a 1 MiB block of random base64 lines, repeated) to a temp
  directory: text is the processor's most expensive streaming case, because no NUL byte ever ends
  its NUL scan early and nothing short-circuits;
- after one untimed read (page cache warm-up), in interleaved rounds (5), times
  * baseline: `hashlib.sha256` over the file, read with `readinto` into one reused 1 MiB buffer (the
    cheapest way Python can hash a file), in this process;
  * processor: `processor.pipeline.process` on the same file through `LocalFileSource` (1 MiB chunks),
    in a fresh child process: SHA-256, size, NUL scan, type detection, claims checks, text prefix,
    result and artifacts (in memory). The child also reports its peak RSS (ru_maxrss).
- prints MB/s of both (1 MB = 10^6 bytes), the ratio of medians (goal >= 0.8x) and the child's peak
  RSS (goal <= 64 MiB). Both read from the page cache (the file was just written), so the figures
  compare CPU work, not the disk. Figures only; nothing is asserted.
"""
from __future__ import annotations

import base64
import hashlib
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import ROOT

MiB = 1 << 20
ROUNDS = 5


def make_file(path: Path, mebibytes: int) -> None:
    rng = random.Random(7)
    lines = (base64.b64encode(rng.randbytes(57)).decode() + "\n" for _ in range(MiB // 77 + 1))  # 77 bytes each
    block = "".join(lines).encode()[:MiB]
    with path.open("wb") as out:
        for _ in range(mebibytes):
            out.write(block)


def baseline(path: Path) -> tuple[float, str]:
    """Seconds to hash the file, and its SHA-256."""
    digest = hashlib.sha256()
    buffer = bytearray(MiB)
    view = memoryview(buffer)
    started = time.perf_counter()
    with path.open("rb", buffering=0) as handle:
        while count := handle.readinto(buffer):
            digest.update(view[:count])
    return time.perf_counter() - started, digest.hexdigest()


def child(path: Path) -> None:
    """One processor pass, in a process of its own so that its peak RSS is the processor's."""
    sys.path.insert(0, str(ROOT / "fargate"))
    from processor.config import Job, Limits
    from processor.pipeline import process
    from processor.sink import MemoryArtifacts, MemorySink
    from processor.source import LocalFileSource

    job = Job("bench", "uploads/bench", "v1", "case-bench", "doc-bench", "text/plain", "bench.txt")
    limits = Limits(max_bytes=8 << 30)
    started = time.perf_counter()
    result = process(job, LocalFileSource(path, limits.chunk_bytes), MemoryArtifacts(), MemorySink(), limits)
    elapsed = time.perf_counter() - started
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": elapsed, "rss_kib": rss_kib, "status": result["status"],
                      "sha256": result["sha256"], "size": result["size"], "flags": result["flags"]}))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]))
        return
    mebibytes = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    size = mebibytes * MiB
    with tempfile.TemporaryDirectory(prefix="processor-bench-") as tmp:
        path = Path(tmp) / "bench.txt"
        started = time.perf_counter()
        make_file(path, mebibytes)
        print(f"file: {mebibytes} MiB of text lines, written in {time.perf_counter() - started:.1f} s")
        baseline(path)  # warm-up: the whole file in the page cache before anything is timed
        base_times, proc_times, rss = [], [], []
        for _ in range(ROUNDS):
            seconds, sha256 = baseline(path)
            base_times.append(seconds)
            done = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True,
                                  text=True, check=True)
            report = json.loads(done.stdout.strip().splitlines()[-1])
            assert report["sha256"] == sha256 and report["size"] == size, report
            proc_times.append(report["seconds"])
            rss.append(report["rss_kib"] / 1024)
        base_mbs = size / statistics.median(base_times) / 1e6
        proc_mbs = size / statistics.median(proc_times) / 1e6
        print(f"rounds: {ROUNDS} (interleaved); result status {report['status']}, flags {report['flags']}")
        print("| pass | median (s) | min (s) | MB/s (median) |")
        print("|---|---|---|---|")
        for label, times, mbs in (("hashlib.sha256 (readinto, 1 MiB)", base_times, base_mbs),
                                  ("processor (process(), LocalFileSource)", proc_times, proc_mbs)):
            print(f"| {label} | {statistics.median(times):.3f} | {min(times):.3f} | {mbs:.0f} |")
        print(f"ratio processor/hashlib: {proc_mbs / base_mbs:.2f}x of medians, "
              f"{min(base_times) / min(proc_times):.2f}x of minimums (goal >= 0.8x)")
        print(f"processor peak RSS: {max(rss):.1f} MiB (max of {ROUNDS} child processes; goal <= 64 MiB)")


if __name__ == "__main__":
    main()

"""Makes the deployment package `chalice package` wrote start fast on Lambda: bytecode in, dead weight out.

`python deploy/precompile.py build/deployment.zip build/sam.yaml` rewrites the zip in place:
- it drops what no function imports: caches, type stubs, C sources and headers, wheel scripts, documentation,
  and the botocore service models of every AWS service the code does not call (BOTOCORE_SERVICES);
- it compiles every remaining `.py` to `__pycache__/<module>.<cache tag>.pyc` beside its source, which stays
  for tracebacks. Lambda's code path is read-only: without these files Python compiles every module from
  source on every cold start and can write none of it down.

The bytecode is "unchecked hash" based (PEP 552): Python loads it without looking at the source's timestamp.
A timestamp-based .pyc would be trusted only while the unzipped source keeps the mtime and size it was compiled
with; zip entries carry a 2-second, local-time, 1980-based timestamp (chalice writes 1980-01-01), so that
match depends on the tool that unzips. The source never changes inside a deployed package, so nothing is lost.

Bytecode is specific to the Python version, so this script must run under the version of the Lambda runtime
the template declares; it refuses to run under any other.
"""
from __future__ import annotations

import importlib.util
import os
import py_compile
import re
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

MAX_ZIP_BYTES = 20 * 1024 * 1024  # the budget tests/deploy holds the package to
RUNTIME = re.compile(r"^\s*Runtime:\s*['\"]?(python3\.\d+)['\"]?\s*$", re.MULTILINE)

# The AWS services whose API the shipped code calls; botocore's models of the other ~400 stay out of the zip
# (they were 15 of its 26 MB). tests/deploy checks every `client("<service>")` of the code is in this set.
BOTOCORE_SERVICES = frozenset({
    "dynamodb",  # pynamodb's tables
    "s3",  # documents, data products, customer data-mesh sources
    "stepfunctions",  # starting workflows, task tokens
    "secretsmanager",  # the pseudonym key
    "glue",  # the data catalog
    "xray",  # the X-Ray SDK's sampling rules
    "cognito-idp",  # notifications: the approvers' group, people's e-mail addresses
    "ses",  # notification e-mails
})

_DIRECTORIES_NOT_IMPORTED = (
    "__pycache__",  # caches from the build machine; this script writes the ones Lambda needs
    "tests", "test",  # libraries' own tests
)
_SUFFIXES_NOT_IMPORTED = (
    ".pyc", ".pyo",  # stale bytecode of another interpreter, if a wheel brought any
    ".pyi", "py.typed",  # type stubs and their marker
    ".c", ".h",  # C sources and headers of extensions that ship compiled
    ".rst", ".md",  # documentation (licences stay, in each *.dist-info)
)


class PackageError(RuntimeError):
    """The package cannot be made right (wrong interpreter, a module that does not compile, too big)."""


def declared_runtime(template_text: str) -> str:
    """The one Python runtime every function of the template uses, e.g. "python3.11"."""
    runtimes = set(RUNTIME.findall(template_text))
    if len(runtimes) != 1:
        raise PackageError(f"expected one Python runtime in the template, found {sorted(runtimes) or 'none'}")
    return runtimes.pop()


def check_interpreter(runtime: str) -> None:
    running = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if running != runtime:
        raise PackageError(
            f"the template declares {runtime} but this is {running} ({sys.executable}): bytecode would not load "
            f"on Lambda. Run `make package PACKAGE_PYTHON={runtime}` with that interpreter installed."
        )


def shipped(name: str) -> bool:
    """Whether a zip entry belongs in the package."""
    path = PurePosixPath(name)
    if any(part in _DIRECTORIES_NOT_IMPORTED for part in path.parts[:-1]) or path.name.endswith(_SUFFIXES_NOT_IMPORTED):
        return False
    top = path.parts[0]
    if top.endswith(("-stubs", ".data")):  # stub-only packages; a wheel's scripts and headers
        return False
    if top == "boto3" and path.parts[1:2] == ("examples",):  # documentation examples
        return False
    if path.parts[:2] == ("botocore", "data") and len(path.parts) > 3:  # botocore/data/<service>/<version>/...
        return path.parts[2] in BOTOCORE_SERVICES
    return True


def bytecode_name(source: str) -> str:
    """The zip entry the interpreter running this script looks up for a module's source entry."""
    return PurePosixPath(importlib.util.cache_from_source(source)).as_posix()


def rebuild(package: Path) -> dict[str, int]:
    """Prunes and compiles `package` in place; returns counts for the build log."""
    with zipfile.ZipFile(package) as original, tempfile.TemporaryDirectory() as scratch:
        entries = [info for info in original.infolist() if not info.is_dir()]
        kept = [info for info in entries if shipped(info.filename)]
        compiled: list[tuple[zipfile.ZipInfo, bytes]] = []
        for info in kept:
            if not info.filename.endswith(".py"):
                continue
            source = Path(scratch, info.filename)
            source.parent.mkdir(parents=True, exist_ok=True)
            source.write_bytes(original.read(info))
            pyc = Path(scratch, bytecode_name(info.filename))
            try:
                py_compile.compile(
                    str(source), cfile=str(pyc), dfile=info.filename, doraise=True,
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                )
            except py_compile.PyCompileError as error:
                raise PackageError(f"{info.filename} does not compile: {error.msg}") from error
            entry = zipfile.ZipInfo(bytecode_name(info.filename), date_time=info.date_time)
            entry.external_attr = info.external_attr
            entry.compress_type = zipfile.ZIP_DEFLATED
            compiled.append((entry, pyc.read_bytes()))
        rebuilt = package.with_suffix(".tmp")
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
            for info in kept:
                out.writestr(info, original.read(info))
            for entry, data in compiled:
                out.writestr(entry, data)
    os.replace(rebuilt, package)
    return {"entries_before": len(entries), "dropped": len(entries) - len(kept), "compiled": len(compiled)}


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python deploy/precompile.py build/deployment.zip build/sam.yaml", file=sys.stderr)
        return 2
    package, template = Path(argv[1]), Path(argv[2])
    try:
        check_interpreter(declared_runtime(template.read_text()))
        counts = rebuild(package)
        size = package.stat().st_size
        if size > MAX_ZIP_BYTES:
            raise PackageError(f"{package} is {size / 2**20:.1f} MB, over the {MAX_ZIP_BYTES / 2**20:.0f} MB budget")
    except PackageError as error:
        print(f"precompile: {error}", file=sys.stderr)
        return 1
    print(f"precompile: {package}: {counts['dropped']} of {counts['entries_before']} files dropped, "
          f"{counts['compiled']} modules compiled for {sys.implementation.cache_tag}, {size / 2**20:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

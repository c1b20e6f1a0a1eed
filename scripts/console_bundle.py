#!/usr/bin/env python3
"""Lays out the web console for the console bucket behind CloudFront: `console/`'s files, the case
workflow's ASL under `asl/` (the diagram is drawn from it), and the deployment's `config.json`.

    python scripts/console_bundle.py --out dist/console --region eu-west-1 \\
        --user-pool-id eu-west-1_AbC --client-id 1example --api-base-url /api
    aws s3 sync dist/console s3://<ConsoleBucket> --delete

`--api-base-url` defaults to `/api`, the path CloudFront routes to API Gateway; the Cognito endpoint to the
region's `https://cognito-idp.<region>.amazonaws.com/`. Locally `make run` serves the same layout itself.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent


def bundle(out: Path, config: dict[str, str], root: Path = ROOT) -> list[Path]:
    """Writes the bundle into `out` (replacing what was there); returns the files written."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(root / "console", out, ignore=shutil.ignore_patterns(".*", "config.json"))
    (out / "asl").mkdir()
    for asl in sorted((root / "stepfunctions").glob("*.asl.json")):
        shutil.copy2(asl, out / "asl" / asl.name)
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return sorted(p for p in out.rglob("*") if p.is_file())


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--user-pool-id", required=True)
    parser.add_argument("--client-id", required=True, help="the user pool's app client (no secret)")
    parser.add_argument("--api-base-url", default="/api")
    parser.add_argument("--cognito-endpoint", help="default: https://cognito-idp.<region>.amazonaws.com/")
    args = parser.parse_args(argv)
    config = {
        "apiBaseUrl": args.api_base_url,
        "region": args.region,
        "userPoolId": args.user_pool_id,
        "userPoolClientId": args.client_id,
        "cognitoEndpoint": args.cognito_endpoint or f"https://cognito-idp.{args.region}.amazonaws.com/",
    }
    files = bundle(args.out, config)
    print(f"{len(files)} files in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Move a deployed table's cases into the case lists (chalicelib/adapters/dynamo/backfill.py): needed once,
after deploying the `cases-by-viewer` index, for cases written before it. Safe to repeat and to run while the
app serves requests. Uses the usual AWS credentials and region (AWS_REGION / AWS_PROFILE):

    python scripts/backfill_case_lists.py <table-name>
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chalicelib.adapters.dynamo.backfill import backfill_case_lists
from chalicelib.adapters.dynamo.models import table_models


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    moved = backfill_case_lists(table_models(argv[1], region, os.environ.get("AWS_ENDPOINT_URL")))
    print(f"moved {moved} cases into their lists")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

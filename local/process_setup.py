"""What both of the local system's processes set up first: its log format and fewer malloc arenas."""
from __future__ import annotations

import logging

from .malloc_arenas import limit_malloc_arenas


def set_up_process() -> None:
    """Log lines as the local system writes them; then glibc's arena limit, before this process starts a thread."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for chatty in ("botocore", "pynamodb"):  # start-up notices nobody acts on
        logging.getLogger(chatty).setLevel(logging.WARNING)
    limit_malloc_arenas()  # each thread would otherwise get an arena of its own

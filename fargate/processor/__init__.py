"""The document processor: one S3 object version in, a verdict (READY or QUARANTINED) and derived artifacts out.

`python -m processor` is the container's entry point (see `__main__.py`); `pipeline.process` is the same
work with every dependency injected, which is what the tests drive.
"""
from __future__ import annotations

__version__ = "1.0.0"

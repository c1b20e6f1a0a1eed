"""Images with Pillow: dimensions and a thumbnail, with decompression-bomb limits.

Pillow is told which one format to parse (the detected one), so a crafted file cannot steer it to a
riskier plugin, and a pixel count over the limit is an error, not a warning.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Limits
from .deadline import Deadline
from .result import Findings, Inspection

if TYPE_CHECKING:
    from PIL.Image import Image as PillowImage

PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP", "tiff": "TIFF"}


def inspect_image(path: Path, detected: str, findings: Findings, limits: Limits, deadline: Deadline) -> Inspection:
    from PIL import Image

    inspection = Inspection()
    previous = Image.MAX_IMAGE_PIXELS
    # Pillow warns between 1x and 2x MAX_IMAGE_PIXELS and raises above 2x; both mean a bomb here.
    Image.MAX_IMAGE_PIXELS = limits.image_max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=[PILLOW_FORMATS[detected]]) as image:
                width, height = image.size
                inspection.fields.update(width=width, height=height)
                inspection.metadata["image"] = {"format": image.format, "mode": image.mode}
                if width * height > limits.image_max_pixels:  # Pillow checks too; this does not depend on it
                    raise Image.DecompressionBombError(f"{width}x{height} pixels")
                deadline.check()
                inspection.thumbnail = _thumbnail(image, limits.thumbnail_px)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        findings.quarantine("image-decompression-bomb", str(error)[:300])
    except Exception as error:  # noqa: BLE001 - truncated or malformed: a verdict on the file, not a crash
        findings.quarantine("image-unreadable", f"{type(error).__name__}: {error}"[:300])
    finally:
        Image.MAX_IMAGE_PIXELS = previous
    return inspection


def _thumbnail(image: "PillowImage", size: int) -> bytes:
    image.draft("RGB", (size, size))  # JPEG decodes at a reduced scale: less time and memory
    image.thumbnail((size, size))
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()

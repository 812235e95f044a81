"""2D images (PNG, JPEG, TIFF) via Pillow: one slice, or one slice per page of a multi-page TIFF.

Colour images become luminance ``Y = 0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601) computed in float, alpha is
dropped, palettes are expanded. The picture's rows run top to bottom, so the returned array is
``data[x, y] = pixel[rows - 1 - y, x]``: X grows to the right and Y upwards, the display convention of an axial
RAS+ slice; rendering an axial slice of the volume gives back the picture. Image files carry no orientation or
voxel size (DPI is not anatomy), so spacing is 1 mm.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from mmrqa.errors import CorruptScanError, MMRQAError
from mmrqa.io.common import Decoded, check_budget

EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
FORMAT_NAMES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff", ".tiff": "tiff"}
#: ITU-R BT.601 luma weights.
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def picture_to_xy(pixels: np.ndarray) -> np.ndarray:
    """(rows, cols) picture -> (X, Y) array with X to the right and Y upwards (see the module docstring)."""
    return np.ascontiguousarray(pixels[::-1, :].T)


def read(path: Path, *, max_bytes: int, **_: Any) -> Decoded:
    """Decode an image, checking width x height x pages against the budget before decoding pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                n_pages = int(getattr(image, "n_frames", 1))
                width, height = image.size
                check_budget(path, (width, height, n_pages), max_bytes, what="image")
                slices, chroma = [], 0.0
                for page in range(n_pages):
                    image.seek(page)
                    if image.size != (width, height):
                        raise CorruptScanError(f"{path}: TIFF pages differ in size; not a stack of slices")
                    gray, page_chroma = _gray(image)
                    slices.append(picture_to_xy(gray))
                    chroma = max(chroma, page_chroma)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise CorruptScanError(f"{path}: not a readable image ({exc})") from exc
    except MMRQAError:
        raise
    except Exception as exc:  # Pillow's plugins raise many types on damaged streams (OSError, KeyError, TypeError...)
        raise CorruptScanError(f"{path}: damaged image ({type(exc).__name__}: {exc})") from exc
    meta = {"format": FORMAT_NAMES[path.suffix.lower()], "source": str(path), "pages": n_pages, "chroma": chroma}
    return Decoded(data=np.stack(slices, axis=2), affine=None, spacing=(1.0, 1.0, 1.0), meta=meta)


def _gray(image: Any) -> tuple[np.ndarray, float]:
    """Pixels as float32 luminance (16-bit and float grayscale keep their values), and the picture's *chroma*: the
    mean over pixels of (max - min of R, G, B) / 255, 0 for a grayscale picture (an MR image saved as RGB included),
    recorded in ``meta["chroma"]`` so that a colour photograph can be told from a scan."""
    mode = image.mode
    if mode in ("RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV", "P", "PA", "LA"):
        rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
        chroma = float(np.mean(rgb.max(axis=2) - rgb.min(axis=2))) / 255.0
        return rgb @ LUMA_WEIGHTS, chroma
    if mode == "1":
        return np.asarray(image.convert("L"), dtype=np.float32), 0.0
    return np.asarray(image, dtype=np.float32), 0.0

"""Render one slice per artifact kind x severity into ``benchmarks/artifact_montage.png``.

Rows are the eight kinds, columns ``none, mild, moderate, severe``. Every tile of a row uses the clean slice's window
(0.5-99.5 percentiles), so intensity changes (bias field, noise floor) stay visible. The scan is a TCIA pelvic T2w
(``../shared/data/tcia``) when present, else nibabel's T1. Used to check by eye that ``mild`` is just visible and
``severe`` clearly non-diagnostic.

Usage: ``python benchmarks/montage.py [--seed 0] [--out benchmarks/artifact_montage.png]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mmrqa.artifacts import KINDS, SEVERITIES, simulate
from mmrqa.volume import Volume

TILE = 256


def load_scan() -> tuple[Volume, str]:
    import nibabel as nib

    from mmrqa.data import sample_path, tcia_dir

    folder = tcia_dir()
    path = sorted(folder.glob("*_T2w.nii.gz"))[0] if folder else sample_path("t1")
    image = nib.load(path)
    data = np.asarray(image.dataobj, np.float32).reshape(image.shape[:3])
    return Volume(data, image.header.get_zooms()[:3]), path.name


def tile(slice2d: np.ndarray, low: float, high: float) -> Image.Image:
    scaled = np.clip((slice2d - low) / max(high - low, 1e-6), 0, 1) * 255
    return Image.fromarray(np.rot90(scaled).astype(np.uint8)).resize((TILE, TILE), Image.Resampling.BILINEAR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(Path(__file__).with_name("artifact_montage.png")))
    args = parser.parse_args()
    volume, name = load_scan()
    index = volume.shape[2] // 2
    clean = volume.data[:, :, index]
    low, high = np.percentile(clean, [0.5, 99.5])
    label_width, header = 110, 24
    canvas = Image.new("L", (label_width + TILE * len(SEVERITIES), header + TILE * len(KINDS)), 0)
    draw = ImageDraw.Draw(canvas)
    for column, severity in enumerate(SEVERITIES):
        draw.text((label_width + column * TILE + 8, 6), severity, fill=255)
    for row, kind in enumerate(KINDS):
        draw.text((6, header + row * TILE + TILE // 2), kind, fill=255)
        for column, severity in enumerate(SEVERITIES):
            out, _ = simulate(volume, kind, severity, args.seed)
            canvas.paste(tile(out.data[:, :, index], low, high), (label_width + column * TILE, header + row * TILE))
    canvas.save(args.out)
    print(f"wrote {args.out} ({name}, slice {index}, seed {args.seed})")


if __name__ == "__main__":
    main()

"""Render one slice per artifact kind x severity into ``benchmarks/artifact_montage.png``.

Rows are the eight kinds, columns ``none, mild, moderate, severe``. Every tile of a row uses the clean slice's window
(0.5-99.5 percentiles), so intensity changes (bias field, noise floor) stay visible. The committed picture is the mid
axial slice of the MNI152 template with Rician noise (``mmrqa.data`` "mni152_noisy", shipped by nilearn), simulated
as a 2D scan; ``--scan PATH`` renders any other scan (e.g. a local clinical one, which must not be committed). Used
to check by eye that ``mild`` is just visible and ``severe`` clearly non-diagnostic.

Usage: ``python benchmarks/montage.py [--scan PATH] [--seed 0] [--out benchmarks/artifact_montage.png]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mmrqa.artifacts import KINDS, SEVERITIES, simulate
from mmrqa.volume import Volume

TILE = 256


def load_scan(path: str | None) -> tuple[Volume, str]:
    """The mid axial slice of ``path`` (default: the noisy MNI152 sample) as a 2D volume."""
    from mmrqa.data import sample_path
    from mmrqa.io import load_volume

    source = Path(path) if path else sample_path("mni152_noisy")
    volume = load_volume(source)
    index = volume.shape[2] // 2
    return Volume(volume.data[:, :, index].copy(), volume.spacing, volume.affine, volume.meta), source.name


def tile(slice2d: np.ndarray, low: float, high: float) -> Image.Image:
    scaled = np.clip((slice2d - low) / max(high - low, 1e-6), 0, 1) * 255
    return Image.fromarray(np.rot90(scaled).astype(np.uint8)).resize((TILE, TILE), Image.Resampling.BILINEAR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scan", default=None, help="scan to render (default: the noisy MNI152 sample)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(Path(__file__).with_name("artifact_montage.png")))
    args = parser.parse_args()
    volume, name = load_scan(args.scan)
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

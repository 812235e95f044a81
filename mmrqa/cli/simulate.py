"""``mmrqa simulate IN OUT --artifact KIND --severity LEVEL [--seed N]``: corrupt a scan with one artifact.

Writes the corrupted scan as NIfTI (``.nii`` or ``.nii.gz``, atomically) on the input's own voxel grid (the scan is
loaded without reorientation) and the ``ArtifactRecord`` as a JSON sidecar next to it (``OUT`` with ``.json``).
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

from mmrqa.errors import InvalidArgumentError

# What ``run`` needs is imported in ``run``: the console script imports every command module to build its parser,
# so ``mmrqa --help`` and ``mmrqa info`` must not pay for the libraries of the other commands.

KINDS_HELP = "motion, ghosting, spike, noise, bias_field, blur, ringing, undersampling"
SEVERITIES_HELP = "none, mild, moderate, severe"


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "simulate",
        help="add a simulated artifact to a scan (NIfTI out, JSON record sidecar)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input", metavar="IN", help="scan to corrupt (any format mmrqa reads)")
    parser.add_argument("output", metavar="OUT", help="output NIfTI path (.nii or .nii.gz)")
    parser.add_argument("--artifact", required=True, metavar="KIND", help=f"one of: {KINDS_HELP}")
    parser.add_argument("--severity", required=True, metavar="LEVEL", help=f"one of: {SEVERITIES_HELP}")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0): same seed, same output")
    parser.add_argument(
        "--volume-index", type=int, default=None, help="volume of a 4D scan to corrupt (the output is that volume, 3D)"
    )
    parser.set_defaults(func=run)
    return parser


def sidecar_path(output: Path) -> Path:
    """``scan.nii.gz`` -> ``scan.json``; ``scan.nii`` -> ``scan.json``."""
    name = output.name
    stem = name[: -len(".nii.gz")] if name.endswith(".nii.gz") else name[: -len(".nii")]
    return output.with_name(stem + ".json")


def nifti_bytes(volume, compress: bool) -> bytes:
    """Serialise a Volume as a float32 NIfTI-1 image (gzip-compressed for ``.nii.gz``)."""
    import nibabel as nib
    import numpy as np

    image = nib.Nifti1Image(np.asarray(volume.data, dtype=np.float32), volume.affine)
    image.header.set_xyzt_units("mm")
    payload = image.to_bytes()
    return gzip.compress(payload, compresslevel=6, mtime=0) if compress else payload


def run(args: argparse.Namespace) -> int:
    from mmrqa.artifacts import simulate
    from mmrqa.fileio import write_bytes_atomic, write_text_atomic
    from mmrqa.io import load_volume

    output = Path(args.output)
    if not output.name.endswith((".nii", ".nii.gz")):
        raise InvalidArgumentError(f"output {output} must be a NIfTI file ending in .nii or .nii.gz")
    volume = load_volume(args.input, canonical=False, volume_index=args.volume_index)
    corrupted, record = simulate(volume, args.artifact, args.severity, args.seed)
    write_bytes_atomic(output, nifti_bytes(corrupted, compress=output.name.endswith(".gz")))
    write_text_atomic(sidecar_path(output), record.to_json() + "\n")
    print(f"wrote {output} and {sidecar_path(output)} ({record.kind}, {record.severity}, seed {record.seed})")
    return 0

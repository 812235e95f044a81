"""Time every artifact kind (severity ``moderate``) against the equivalent TorchIO transform, in the same run.

Volumes: the 1 mm MNI152 brain with Rician noise (``mmrqa.data`` sample ``mni152_noisy``, 197x233x189), one TCIA
pelvic T2w scan (320x320x~30, skipped when ``../shared/data/tcia`` is absent) and one 2D slice of it (goal < 50 ms).
Each timing is the best of ``--repeats`` runs of ``simulate`` (sampling + applying) or of the TorchIO transform
(``apply_transform``, numpy -> tensor conversion included as TorchIO users pay it).

Usage: ``python benchmarks/bench_artifacts.py [--repeats 2]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mmrqa.artifacts import KINDS, simulate
from mmrqa.volume import Volume


def torchio_transforms() -> dict:
    import torchio as tio

    return {
        "motion": tio.RandomMotion(num_transforms=2),
        "ghosting": tio.RandomGhosting(num_ghosts=(2, 4), axes=(1,)),
        "spike": tio.RandomSpike(num_spikes=(1, 2)),
        "noise": tio.RandomNoise(std=(10, 20)),
        "bias_field": tio.RandomBiasField(coefficients=0.3),
        "blur": tio.RandomBlur(std=(1, 2)),
    }


def best_of(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def volumes() -> dict[str, Volume]:
    import nibabel as nib

    from mmrqa.data import sample_path, tcia_dir

    found = {}
    image = nib.load(sample_path("mni152_noisy"))
    found["MNI152 1 mm (197x233x189)"] = Volume(np.asarray(image.dataobj, np.float32), image.header.get_zooms()[:3])
    folder = tcia_dir()
    if folder is not None:
        path = sorted(folder.glob("*_T2w.nii.gz"))[0]
        image = nib.load(path)
        data = np.asarray(image.dataobj, np.float32)
        found[f"TCIA {'x'.join(map(str, data.shape))}"] = Volume(data, image.header.get_zooms()[:3])
        found["TCIA 2D slice 320x320"] = Volume(data[:, :, data.shape[2] // 2 : data.shape[2] // 2 + 1])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    import torch
    import torchio as tio

    transforms = torchio_transforms()
    print(f"torch threads: {torch.get_num_threads()}; torchio {tio.__version__}\n")
    print("| volume | kind | mmrqa (ms) | TorchIO (ms) | TorchIO / mmrqa |")
    print("|---|---|---:|---:|---:|")
    for label, volume in volumes().items():
        for kind in KINDS:
            ours = best_of(lambda v=volume, k=kind: simulate(v, k, "moderate", 0), args.repeats)
            theirs, ratio = "n/a", "no equivalent"
            if kind in transforms and not label.startswith("TCIA 2D"):
                tensor = torch.from_numpy(volume.data[np.newaxis].copy())
                subject = tio.ScalarImage(tensor=tensor, affine=np.diag([*volume.spacing, 1.0]))
                seconds = best_of(lambda s=subject, k=kind: transforms[k](s), args.repeats)
                theirs, ratio = f"{seconds * 1000:.0f}", f"{seconds / ours:.1f}x"
            print(f"| {label} | {kind} | {ours * 1000:.1f} | {theirs} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()

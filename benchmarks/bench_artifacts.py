"""Time every artifact kind (severity ``moderate``) against the equivalent TorchIO transform, in the same run.

Volumes: the 1 mm MNI152 brain with Rician noise (``mmrqa.data`` sample ``mni152_noisy``, 197x233x189), one TCIA
pelvic T2w scan (320x320x~30, skipped when ``../shared/data/tcia`` is absent) and one 2D slice of it (goal < 50 ms).
Each kind is warmed up once (FFT plans, lazy imports), then ``--repeats`` runs of ``simulate`` (sampling + applying)
and of the TorchIO transform (``transform(image)``, with the subject copy and numpy -> tensor conversion TorchIO users
pay) are interleaved, so that a change of machine load hits both alike. Reported: best and median wall time, best CPU
time (``process_time``: all threads of the process), and TorchIO / mmrqa ratios of the best and of the median wall
times. Blur is compared at the same PSF: TorchIO's ``RandomBlur`` gets as its (fixed) standard deviation the one that
our ``moderate`` calibration chose for that volume (its cost grows with the kernel's length, and its default range,
1-2 mm, is narrower than a moderate blur of a 1 mm brain). TorchIO's ``RandomNoise`` adds one Gaussian channel to
the magnitude image, half the work of Rician noise (two channels and a magnitude); a last row per volume therefore
also compares our noise with Rician noise written with torch (:func:`rician_with_torch`). Both sides use every core:
torch's intra-op threads (``torch.get_num_threads()``), scipy's FFT workers and the
noise simulator's thread pool; both work in float32.

Usage: ``python benchmarks/bench_artifacts.py [--repeats 3]``; prints the environment (date, load average before and
after, versions, threads) and a Markdown table.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mmrqa.artifacts import KINDS, simulate
from mmrqa.artifacts.blur import FWHM_PER_SIGMA
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


#: Row of the table comparing our Rician noise with the same physics written with torch: TorchIO has no Rician
#: transform (its ``RandomNoise`` adds one Gaussian channel to the magnitude image, which is not what a receiver does).
RICIAN_TORCH = "noise (vs Rician in torch)"


def rician_with_torch(subject, sigma: float):
    """``|x + sigma (n_r + i n_i)|`` with two ``torch.randn`` channels, on TorchIO's subject tensor: what a TorchIO
    user would write to get Rician noise (a fresh float32 tensor, like our output)."""
    import torch

    def apply():
        image = subject.data
        return torch.hypot(image + sigma * torch.randn_like(image), sigma * torch.randn_like(image))

    return apply


def timed(func) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the whole process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    func()
    return time.perf_counter() - wall, time.process_time() - cpu


def interleaved(ours, theirs, repeats: int) -> dict[str, list[tuple[float, float]]]:
    """Warm both up once, then alternate them ``repeats`` times; ``theirs`` may be None."""
    ours()
    if theirs is not None:
        theirs()
    runs: dict[str, list[tuple[float, float]]] = {"ours": [], "theirs": []}
    for _ in range(repeats):
        runs["ours"].append(timed(ours))
        if theirs is not None:
            runs["theirs"].append(timed(theirs))
    return runs


def summary(runs: list[tuple[float, float]]) -> tuple[float, float, float]:
    """(best wall, median wall, best CPU) in ms."""
    walls = [wall for wall, _ in runs]
    return 1000 * min(walls), 1000 * float(np.median(walls)), 1000 * min(cpu for _, cpu in runs)


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


def environment() -> str:
    import datetime
    import os

    import scipy
    import torch
    import torchio as tio

    from mmrqa.artifacts.noise import _usable_cpus

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return (
        f"{now}; load average (1, 5, 15 min) {load}; {os.cpu_count()} CPUs ({_usable_cpus()} usable); numpy "
        f"{np.__version__}, scipy {scipy.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"torchio {tio.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import torch
    import torchio as tio

    transforms = torchio_transforms()
    print(f"start: {environment()}\n")
    print(
        "| volume | kind | mmrqa best / median (ms) | mmrqa CPU (ms) | TorchIO best / median (ms) | TorchIO CPU (ms) "
        "| TorchIO / mmrqa (best; median) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for label, volume in volumes().items():
        is_slice = label.startswith("TCIA 2D")
        subject = None
        if not is_slice:
            tensor = torch.from_numpy(volume.data[np.newaxis].copy())
            subject = tio.ScalarImage(tensor=tensor, affine=np.diag([*volume.spacing, 1.0]))
        for kind in [*KINDS, *([RICIAN_TORCH] if subject is not None else [])]:
            theirs = None
            if kind in transforms and subject is not None:
                transform = transforms[kind]
                if kind == "blur":  # the same PSF as ours: TorchIO's cost grows with its kernel's length
                    sigma_mm = simulate(volume, kind, "moderate", 0)[1].params["fwhm_mm"] / FWHM_PER_SIGMA
                    transform = tio.RandomBlur(std=(sigma_mm, sigma_mm))
                theirs = lambda s=subject, t=transform: t(s)  # noqa: E731
            if kind == RICIAN_TORCH:  # our noise against the same physics written with torch
                theirs = rician_with_torch(subject, simulate(volume, "noise", "moderate", 0)[1].params["sigma"])
            ours_kind = "noise" if kind == RICIAN_TORCH else kind
            runs = interleaved(lambda v=volume, k=ours_kind: simulate(v, k, "moderate", 0), theirs, args.repeats)
            best, median, cpu = summary(runs["ours"])
            row = f"| {label} | {kind} | {best:.1f} / {median:.1f} | {cpu:.0f} |"
            if runs["theirs"]:
                t_best, t_median, t_cpu = summary(runs["theirs"])
                row += (
                    f" {t_best:.1f} / {t_median:.1f} | {t_cpu:.0f} | {t_best / best:.2f}x; {t_median / median:.2f}x |"
                )
            elif is_slice:
                row += f" n/a | n/a | goal < 50 ms: {'met' if best < 50 else 'NOT met'} |"
            else:
                row += " n/a | n/a | no equivalent |"
            print(row, flush=True)
    print(f"\nend: {environment()}")


if __name__ == "__main__":
    main()

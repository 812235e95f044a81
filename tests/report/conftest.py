"""Fixtures of the report tests: a small cohort of real scans (the packaged ``t1`` sample with seeded Rician noise,
two "sites" of different noise, plus two scans with simulated artifacts), its metrics table, and a report of it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
N_CLEAN = 10
ARTIFACTS = (("ghosting", "severe"), ("spike", "severe"))


def _save(data: np.ndarray, affine: np.ndarray, path: Path) -> None:
    import nibabel as nib

    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(data.astype(np.float32), affine), path)


def _variant(base, k: int, sigma_fraction: float) -> np.ndarray:
    from mmrqa.data import add_rician_noise

    data = np.clip(base.data, 0, None)
    return add_rician_noise(data, sigma_fraction * float(np.percentile(data, 99.5)), seed=k)


@pytest.fixture(scope="session")
def cohort_dir(tmp_path_factory) -> Path:
    """``site1/`` and ``site2/`` of clean scans, and two artifact scans in ``site1/``."""
    from mmrqa.artifacts import simulate
    from mmrqa.data import load_sample
    from mmrqa.volume import Volume

    base = load_sample("t1")
    root = tmp_path_factory.mktemp("cohort")
    for k in range(N_CLEAN):
        site = 1 + k % 2
        _save(_variant(base, k, 0.01 * site), base.affine, root / f"site{site}" / f"sub-{k:02d}.nii.gz")
    for j, (kind, severity) in enumerate(ARTIFACTS):
        clean = Volume(_variant(base, 100 + j, 0.01), base.spacing, base.affine, dict(base.meta))
        corrupted, _ = simulate(clean, kind, severity, seed=j)
        _save(corrupted.data, base.affine, root / "site1" / f"{kind}.nii.gz")
    return root


@pytest.fixture(scope="session")
def metrics_table(cohort_dir, tmp_path_factory) -> Path:
    """``mmrqa metrics`` of the cohort, with a ``site`` column added (as a user joins their own metadata)."""
    out = tmp_path_factory.mktemp("table") / "iqms.tsv"
    raw = out.with_name("raw.tsv")
    subprocess.run(
        [sys.executable, "-m", "mmrqa.cli", "metrics", str(cohort_dir), "-o", str(raw)], check=True, cwd=REPO
    )
    lines = raw.read_text().splitlines()
    rows = [lines[0].split("\t", 1)[0] + "\tsite\t" + lines[0].split("\t", 1)[1]]
    for line in lines[1:]:
        path, rest = line.split("\t", 1)
        rows.append(f"{path}\t{Path(path).parent.name.replace('site', 'hospital ')}\t{rest}")
    out.write_text("\n".join(rows) + "\n")
    return out


@pytest.fixture(scope="session")
def report_dir(cohort_dir, tmp_path_factory) -> Path:
    """A report measured from the cohort's folder."""
    from mmrqa.report import write_report

    out = tmp_path_factory.mktemp("report") / "qc_report"
    write_report([cohort_dir], out, progress=False)
    return out


@pytest.fixture
def fresh_copy(tmp_path):
    def copy(folder: Path) -> Path:
        target = tmp_path / folder.name
        shutil.copytree(folder, target)
        return target

    return copy

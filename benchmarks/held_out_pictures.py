"""Fetch held-out photographs for the domain check: pictures no part of MMRQA was fitted or tuned on.

    python benchmarks/held_out_pictures.py DIR
    python benchmarks/domain_check.py --pictures DIR/opencv_samples --pictures DIR/scipy_matplotlib

Two folders, from packages on PyPI (the only registry reachable offline-first machines usually have), each download
checked against the SHA-256 digest PyPI publishes:
  opencv_samples     every top-level JPEG/PNG of ``opencv/samples/data`` in the ``opencv-python`` 4.10.0.84 source
                     archive (93 pictures: photographs of scenes, objects, faces and calibration boards, and a few
                     drawings and logos)
  scipy_matplotlib   the raccoon face and the ``ascent`` staircase photograph of SciPy 1.9.3 (``scipy.misc``, removed
                     from later releases) and Grace Hopper's portrait of Matplotlib 3.7.5's sample data
The files are never copied into the repository.
"""

from __future__ import annotations

import argparse
import bz2
import hashlib
import io
import json
import pickle
import tarfile
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

OPENCV = ("opencv-python", "4.10.0.84", "opencv-python-4.10.0.84.tar.gz")
SCIPY = ("scipy", "1.9.3", "scipy-1.9.3-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
MATPLOTLIB = ("matplotlib", "3.7.5", "matplotlib-3.7.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
SAMPLES = "opencv-python-4.10.0.84/opencv/samples/data/"


def fetch(package: str, version: str, filename: str) -> bytes:
    """One release file (``version``: for the reader) of ``package`` from PyPI, its SHA-256 checked against the
    digest of PyPI's index."""
    request = urllib.request.Request(
        f"https://pypi.org/simple/{package}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )  # the simple index (PEP 691): what pip reads, so reachable wherever pip is
    with urllib.request.urlopen(request, timeout=60) as response:
        index = json.load(response)
    entry = next(f for f in index["files"] if f["filename"] == filename)
    with urllib.request.urlopen(entry["url"], timeout=600) as response:
        data = response.read()
    if hashlib.sha256(data).hexdigest() != entry["hashes"]["sha256"]:
        raise SystemExit(f"error: {filename}: SHA-256 differs from PyPI's digest")
    return data


class _PlainUnpickler(pickle.Unpickler):  # noqa: S301 (refuses every class: nothing can run)
    """Reads pickled plain data (lists, numbers) and refuses any class or function reference."""

    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"refused: the file references {module}.{name}")


def _plain_unpickle(data: bytes):
    """SciPy 1.9.3 stores ``ascent`` as a pickled list of lists of integers: read it without running code."""
    return _PlainUnpickler(io.BytesIO(data)).load()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    from PIL import Image

    samples = args.folder / "opencv_samples"
    samples.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(fetch(*OPENCV)), mode="r:gz") as archive:
        for member in archive.getmembers():
            name = member.name[len(SAMPLES) :] if member.name.startswith(SAMPLES) else ""
            if member.isfile() and name and "/" not in name and name.lower().endswith((".jpg", ".png")):
                (samples / name).write_bytes(archive.extractfile(member).read())
    other = args.folder / "scipy_matplotlib"
    other.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(fetch(*SCIPY))) as wheel:
        face = np.frombuffer(bz2.decompress(wheel.read("scipy/misc/face.dat")), dtype=np.uint8)
        Image.fromarray(face.reshape(768, 1024, 3)).save(other / "face.png")
        ascent = np.asarray(_plain_unpickle(wheel.read("scipy/misc/ascent.dat")), dtype=np.uint8)
        Image.fromarray(ascent).save(other / "ascent.png")
    with zipfile.ZipFile(io.BytesIO(fetch(*MATPLOTLIB))) as wheel:
        (other / "grace_hopper.jpg").write_bytes(wheel.read("matplotlib/mpl-data/sample_data/grace_hopper.jpg"))
    print(f"{len(list(samples.iterdir()))} pictures in {samples}, {len(list(other.iterdir()))} in {other}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

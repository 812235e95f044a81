"""Seed files for fuzzing the readers: one or more real scans written in every format ``load_volume`` reads.

Every seed comes from real data that ships with installed packages (nibabel's ``anatomical.nii`` T1 and
``example4d.nii.gz`` EPI, pydicom's ``MR_small.dcm`` T2w slice, pydicom-data's enhanced ``emri_small.dcm``), written
with the format's usual writer (nibabel, pydicom, SimpleITK, h5py, Pillow) so that the mutations start from files a
user could really hold. The fastMRI seeds carry the k-space of the ``emri_small`` frames (2D FFT of the images,
one and four coils) or their ``reconstruction_rss``, with an ISMRMRD XML header like the fastMRI release.

A seed is a small folder layout: ``files`` maps relative paths to bytes and ``main`` is the path to load
(a file, or a folder for a DICOM series). ``family`` names the structured mutators that understand it.
"""

from __future__ import annotations

import gzip
import importlib.resources
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Seed:
    """A set of files to write into a fresh folder; ``main`` is what ``load_volume`` is given."""

    name: str
    family: str
    files: dict[str, bytes]
    main: str
    load_kwargs: dict[str, Any] = field(default_factory=dict)

    def write(self, folder: Path) -> Path:
        for rel, payload in self.files.items():
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(payload)
        return folder / self.main


ISMRMRD_HEADER = """<?xml version="1.0" encoding="utf-8"?>
<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">
  <acquisitionSystemInformation><systemVendor>Philips</systemVendor>
    <systemFieldStrength_T>3.0</systemFieldStrength_T></acquisitionSystemInformation>
  <encoding><reconSpace><matrixSize><x>{rows}</x><y>{cols}</y><z>1</z></matrixSize>
    <fieldOfView_mm><x>{fov}</x><y>{fov}</y><z>3.0</z></fieldOfView_mm></reconSpace></encoding>
  <sequenceParameters><TR>2500.0</TR><TE>100.0</TE></sequenceParameters>
</ismrmrdHeader>"""


def _anatomical_path() -> Path:
    return Path(str(importlib.resources.files("nibabel.tests") / "data" / "anatomical.nii"))


def _example4d_path() -> Path:
    return Path(str(importlib.resources.files("nibabel.tests") / "data" / "example4d.nii.gz"))


def _dicom_path(name: str) -> Path:
    from pydicom.data import get_testdata_file

    return Path(get_testdata_file(name))


def _emri_frames() -> np.ndarray:
    """The ten 64x64 frames of the enhanced DICOM sample, as float32 (frame, row, col)."""
    import pydicom

    return pydicom.dcmread(_dicom_path("emri_small.dcm")).pixel_array.astype(np.float32)


def nifti_seeds() -> list[Seed]:
    import nibabel as nib

    anat = _anatomical_path().read_bytes()
    img = nib.load(str(_anatomical_path()))
    data = np.asarray(img.dataobj)
    nifti2 = nib.Nifti2Image(data.astype(np.float32), img.affine).to_bytes()
    mgh = nib.MGHImage(data.astype(np.float32), img.affine).to_bytes()
    return [
        Seed("nifti1", "nifti1", {"anat.nii": anat}, "anat.nii"),
        Seed("nifti1_gz", "nifti1", {"anat.nii.gz": gzip.compress(anat, mtime=0)}, "anat.nii.gz"),
        Seed("nifti2", "nifti2", {"anat2.nii": nifti2}, "anat2.nii"),
        Seed("mgz", "mgh", {"anat.mgz": gzip.compress(mgh, mtime=0)}, "anat.mgz"),
        Seed("epi4d_gz", "nifti1", {"epi.nii.gz": _example4d_path().read_bytes()}, "epi.nii.gz", {"volume_index": 1}),
    ]


def dicom_seeds() -> list[Seed]:
    import pydicom

    small = _dicom_path("MR_small.dcm").read_bytes()
    series: dict[str, bytes] = {}
    for k in range(3):  # a three-slice series: MR_small at three positions along its normal
        ds = pydicom.dcmread(io.BytesIO(small))
        ds.ImagePositionPatient = [float(v) for v in ds.ImagePositionPatient[:2]] + [float(k * 5.0)]
        ds.InstanceNumber = k + 1
        ds.SOPInstanceUID = f"{ds.SOPInstanceUID}.{k + 1}"
        buffer = io.BytesIO()
        ds.save_as(buffer)
        series[f"series/im{k}.dcm"] = buffer.getvalue()
    return [
        Seed("dicom", "dicom", {"mr_small.dcm": small}, "mr_small.dcm"),
        Seed("dicom_enhanced", "dicom", {"emri.dcm": _dicom_path("emri_small.dcm").read_bytes()}, "emri.dcm"),
        Seed("dicom_series", "dicom", series, "series"),
    ]


def metaimage_seeds() -> list[Seed]:
    import nibabel as nib
    import SimpleITK as sitk

    data = np.asarray(nib.load(str(_anatomical_path())).dataobj).astype(np.int16)
    image = sitk.GetImageFromArray(data.transpose(2, 1, 0))  # SimpleITK arrays are (z, y, x)
    image.SetSpacing((2.0, 2.0, 2.0))
    image.SetOrigin((-32.0, -40.0, -24.0))
    seeds = []
    for name, compress in (("anat.mha", False), ("anat_z.mha", True), ("anat.mhd", False)):
        with _TempDir() as folder:
            sitk.WriteImage(image, str(folder / name), useCompression=compress)
            files = {p.name: p.read_bytes() for p in folder.iterdir()}
        family = "metaimage"
        seeds.append(Seed(name.replace(".", "_"), family, files, name))
    return seeds


def fastmri_seeds() -> list[Seed]:
    import h5py

    frames = _emri_frames()[:3]
    kspace = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(frames, axes=(-2, -1)), norm="ortho"), axes=(-2, -1))
    coils = np.stack([kspace * w for w in (1.0, 0.8, 0.6, 0.4)], axis=1).astype(np.complex64)
    header = ISMRMRD_HEADER.format(rows=64, cols=64, fov=200.0).encode()
    seeds = []
    for name, datasets in (
        ("single_coil.h5", {"kspace": kspace.astype(np.complex64)}),
        ("multi_coil.h5", {"kspace": coils}),
        ("rss.h5", {"reconstruction_rss": frames}),
    ):
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as handle:
            for key, value in datasets.items():
                handle.create_dataset(key, data=value)
            handle.create_dataset("ismrmrd_header", data=np.frombuffer(header, dtype="S1").tobytes())
            handle.attrs["acquisition"] = "CORPD_FBK"
        seeds.append(Seed(name.replace(".", "_"), "fastmri", {name: buffer.getvalue()}, name))
    return seeds


def image_seeds() -> list[Seed]:
    from PIL import Image

    frames = _emri_frames()
    frame16 = frames[5].astype(np.uint16)
    frame8 = (255 * frames[5] / frames[5].max()).astype(np.uint8)
    seeds = []
    for name, image, kwargs in (
        ("mr16.png", Image.fromarray(frame16), {}),
        ("mr8.png", Image.fromarray(frame8), {}),
        ("mr.jpg", Image.fromarray(frame8), {"quality": 90}),
        ("mr.tiff", Image.fromarray(frame16), {}),
    ):
        buffer = io.BytesIO()
        image.save(buffer, format=Image.registered_extensions()[Path(name).suffix], **kwargs)
        seeds.append(Seed(name.replace(".", "_"), "image", {name: buffer.getvalue()}, name))
    pages = [Image.fromarray(f.astype(np.uint16)) for f in frames[:4]]
    buffer = io.BytesIO()
    pages[0].save(buffer, format="TIFF", save_all=True, append_images=pages[1:])
    seeds.append(Seed("stack_tiff", "image", {"stack.tiff": buffer.getvalue()}, "stack.tiff"))
    return seeds


def build_seeds() -> dict[str, Seed]:
    """Every seed, by name (a few hundred KiB in all)."""
    seeds = nifti_seeds() + dicom_seeds() + metaimage_seeds() + fastmri_seeds() + image_seeds()
    return {seed.name: seed for seed in seeds}


class _TempDir:
    def __enter__(self) -> Path:
        import tempfile

        self._handle = tempfile.TemporaryDirectory(prefix="mmrqa-fuzz-seed-")
        return Path(self._handle.name)

    def __exit__(self, *exc: object) -> None:
        self._handle.cleanup()

"""Each artifact against an analytic phantom whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from mmrqa.artifacts import blur, ghosting, motion, noise, replay, ringing, simulate, spike, undersampling
from mmrqa.artifacts.record import ArtifactRecord
from mmrqa.volume import Volume


def square_phantom(n: int = 64, half: int = 8, depth: int = 1) -> np.ndarray:
    data = np.zeros((n, n, depth), dtype=np.float32)
    data[n // 2 - half : n // 2 + half, n // 2 - half : n // 2 + half, :] = 100.0
    return data


@pytest.mark.parametrize("phase_error", [0.5, -1.2, np.pi])
def test_ghosting_period_two_phase_error_makes_the_nyquist_ghost_of_the_predicted_intensity(phase_error):
    data = square_phantom()
    params = {"period": 2, "offset": 0, "phase_error": phase_error}
    out = ghosting.apply(data, params, (1.0, 1.0, 1.0), pe_axis=1)
    # every other line times e^{i phi}: object times |cos(phi/2)|, an N/2 copy along axis 1 times |sin(phi/2)|
    assert out[32, 32, 0] == pytest.approx(100.0 * abs(np.cos(phase_error / 2)), abs=1e-2)
    assert out[32, 0, 0] == pytest.approx(100.0 * abs(np.sin(phase_error / 2)), abs=1e-2)
    assert out[0, 32, 0] == pytest.approx(0.0, abs=1e-3)  # nothing along the readout axis


def test_ghosting_phase_error_keeps_the_kspace_magnitude_and_grows_with_it():
    data = square_phantom(half=4)
    errors = []
    for phase_error in (0.1, 0.4, 1.0, 2.0, np.pi):
        params = {"period": 3, "offset": 1, "phase_error": phase_error}
        assert abs(ghosting.line_gain(params)) == pytest.approx(1.0)
        out = ghosting.apply(data, params, (1.0, 1.0, 1.0), pe_axis=0)
        errors.append(np.linalg.norm(out - data) / np.linalg.norm(data))
    assert errors == sorted(errors) and len(set(errors)) == len(errors)


def test_ghosting_records_of_the_gain_error_model_still_replay():
    data = square_phantom()
    params = {"period": 2, "offset": 0, "gain_error": 0.4, "phase": 0.0}
    out = ghosting.apply(data, params, (1.0, 1.0, 1.0), pe_axis=1)
    # k-space times (1 - 0.4 [k even]) = 0.8 - 0.2 (-1)^k: object at 0.8 and a copy at 0.2 shifted by N/2 along axis 1
    assert out[32, 32, 0] == pytest.approx(80.0, rel=1e-3)
    assert out[32, 0, 0] == pytest.approx(20.0, rel=1e-3)
    assert out[0, 32, 0] == pytest.approx(0.0, abs=1e-3)


@pytest.mark.parametrize("field", [noise.FIELD, None])
def test_noise_is_rician_with_the_recorded_sigma(field):
    data = np.zeros((128, 128, 8), dtype=np.float32)
    data[:64] = 200.0
    params = {"sigma": 10.0, "noise_seed": 1, **({"field": field} if field else {})}
    out = noise.apply(data, params, (1.0, 1.0, 1.0), 1)
    background, tissue = out[64:], out[:64]
    assert background.min() >= 0
    assert background.mean() == pytest.approx(10.0 * np.sqrt(np.pi / 2), rel=0.02)  # Rayleigh mean
    assert (background**2).mean() == pytest.approx(2 * 10.0**2, rel=0.02)  # E|n|^2 = 2 sigma^2: two channels
    assert tissue.std() == pytest.approx(10.0, rel=0.03)
    assert tissue.mean() == pytest.approx(np.sqrt(200.0**2 + 10.0**2), rel=0.01)


def test_noise_channels_are_independent_standard_normals():
    """On a zero image the magnitude is Rayleigh: P(|n| > r) = exp(-r^2 / 2 sigma^2), tails included (4 sd)."""
    out = noise.apply(
        np.zeros((128, 128, 128), np.float32), {"sigma": 1.0, "noise_seed": 3, "field": noise.FIELD}, None, 1
    )
    for radius in (0.5, 1.0, 2.0, 3.0, 4.0, 5.0):
        expected = out.size * np.exp(-(radius**2) / 2)
        assert abs(np.count_nonzero(out > radius) - expected) < 4 * np.sqrt(expected) + 1, radius
    signed = noise.apply(
        np.full((64, 64, 16), -1.0, np.float32), {"sigma": 2.0, "noise_seed": 3, "field": noise.FIELD}, None, 1
    )
    assert signed.mean() == pytest.approx(-1.0, abs=0.02) and signed.std() == pytest.approx(2.0, rel=0.01)


def test_noise_field_ignores_memory_layout_and_thread_count(monkeypatch):
    data = np.random.default_rng(0).random((70, 61, 40), dtype=np.float32) * 100  # 170,800 voxels: 3 chunks
    params = {"sigma": 5.0, "noise_seed": 9, "field": noise.FIELD}
    fortran = noise.apply(np.asfortranarray(data), params, None, 1)
    c_order = noise.apply(np.ascontiguousarray(data), params, None, 1)
    monkeypatch.setattr(noise, "_usable_cpus", lambda: 1)
    single = noise.apply(data, params, None, 1)
    np.testing.assert_array_equal(fortran, c_order)
    np.testing.assert_array_equal(fortran, single)


def test_noise_field_is_the_pcg64_stream_in_fortran_order_chunks():
    """Chunk i of the Fortran-ordered voxels takes raw draws [i CHUNK, (i + 1) CHUNK) of PCG64(noise_seed): u from
    the chunk's first half of 32-bit words, v from the second (float64 reference of the float32 computation)."""
    data = np.random.default_rng(1).random((70, 61, 40), dtype=np.float32) * 100
    out = noise.apply(data, {"sigma": 5.0, "noise_seed": 9, "field": noise.FIELD}, None, 1)
    raw = np.random.PCG64(9).random_raw(data.size)
    x = data.reshape(-1, order="F").astype(np.float64)
    expected = np.empty_like(x)
    for start in range(0, data.size, noise.CHUNK):
        n = min(noise.CHUNK, data.size - start)
        words = ((raw[start : start + n].view(np.uint32) >> 9) | 0x3F800000).view(np.float32).astype(np.float64)
        radius, theta = 5.0 * np.sqrt(-2 * np.log(2 - words[:n])), 2 * np.pi * words[n:]
        part = x[start : start + n]
        expected[start : start + n] = np.hypot(part + radius * np.cos(theta), radius * np.sin(theta))
    np.testing.assert_allclose(out.reshape(-1, order="F"), expected, rtol=1e-5, atol=5e-4 * 5.0 * 6)


def test_noise_on_huge_intensities_does_not_overflow():
    data = np.full((8, 8, 2), 1e30, np.float32)
    out = noise.apply(data, {"sigma": 1e29, "noise_seed": 0, "field": noise.FIELD}, None, 1)
    assert np.isfinite(out).all() and out.mean() == pytest.approx(np.sqrt(1e60 + 1e58), rel=0.05)


def test_noise_record_without_field_replays_the_legacy_ziggurat_field(t1):
    out, record = simulate(t1, "noise", "moderate", 2)
    assert record.params["field"] == noise.FIELD
    legacy = ArtifactRecord("noise", "moderate", 2, {k: v for k, v in record.params.items() if k != "field"})
    again = replay(t1, legacy).data
    assert not np.array_equal(again, out.data)
    field = np.random.default_rng(np.random.SeedSequence(record.params["noise_seed"]).spawn(1)[0])
    expected = field.standard_normal((2, t1.data.size), dtype=np.float32) * np.float32(record.params["sigma"])
    expected[0] += np.ascontiguousarray(t1.data).reshape(-1)
    np.testing.assert_array_equal(again, np.hypot(expected[0], expected[1]).reshape(t1.shape))


def test_noise_sigma_is_relative_to_the_foreground():
    data = square_phantom(half=16, depth=2)
    scaled = Volume(data * 7.0)
    _, a = simulate(Volume(data), "noise", "moderate", 4)
    _, b = simulate(scaled, "noise", "moderate", 4)
    assert b.params["sigma"] == pytest.approx(7.0 * a.params["sigma"], rel=1e-6)
    assert a.params["sigma"] == pytest.approx(100.0 * a.params["relative_sigma"], rel=1e-6)


def test_spike_is_a_plane_wave_of_the_recorded_frequency():
    data = np.zeros((32, 32, 1), dtype=np.float32)
    params = {"spikes": [{"frequency": [3, 5, 0], "amplitude": 2.0, "phase": 0.0}]}
    out = spike.apply(data + 10.0, params, (1.0, 1.0, 1.0), 1)
    spectrum = np.abs(np.fft.fft2(out[:, :, 0] - 10.0))
    # |10 + 2 e^{i theta}| - 10 ~ 2 cos(theta): energy at +-(3, 5)
    peak = np.unravel_index(np.argmax(spectrum), spectrum.shape)
    assert peak in ((3, 5), (32 - 3, 32 - 5))


def test_blur_psf_has_the_recorded_fwhm_in_mm():
    data = np.zeros((65, 65, 1), dtype=np.float32)
    data[32, 32, 0] = 1.0
    out = blur.apply(data, {"fwhm_mm": 6.0}, (0.5, 0.5, 3.0), 1)[:, 32, 0]
    above = np.nonzero(out >= out.max() / 2)[0]
    assert (above[-1] - above[0] + 1) * 0.5 == pytest.approx(6.0, abs=0.5)  # FWHM in mm, not voxels


def test_ringing_overshoots_like_gibbs():
    data = np.zeros((128, 128, 1), dtype=np.float32)
    data[32:96, 32:96] = 100.0
    out = ringing.apply(data, {"kept_fraction": 0.25, "axes": [0, 1]}, (1.0, 1.0, 1.0), 1)
    overshoot = out[64, 32:96, 0].max() / 100.0 - 1.0
    assert 0.05 < overshoot < 0.14  # Gibbs: about 9% at a sharp edge


def test_undersampling_keeps_the_centre_and_about_one_line_in_r(t1):
    volume = Volume(np.random.default_rng(0).random((40, 256, 2)).astype(np.float32) + 1.0)
    _, record = simulate(volume, "undersampling", "moderate", 0)
    lines = np.asarray(record.params["sampled_lines"])
    acceleration, centre = record.params["acceleration"], record.params["center_fraction"]
    assert set(range(-int(256 * centre) // 2 + 1, int(256 * centre) // 2)).issubset(lines)
    assert len(lines) == pytest.approx(256 / acceleration, rel=0.25)
    out = undersampling.apply(volume.data, record.params, volume.spacing, 1)
    kept = np.isin(np.rint(np.fft.fftfreq(256) * 256), lines)
    # zero-filled reconstruction computed independently with numpy (complex result, magnitude taken)
    expected = np.abs(np.fft.ifft(np.fft.fft(volume.data.astype(np.float64), axis=1) * kept[None, :, None], axis=1))
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4 * expected.max())
    assert out.shape == volume.shape


def test_motion_segments_kspace_into_poses():
    """A 3-voxel readout shift after 60% of the acquisition: k-space lines from two objects, computed with numpy."""
    data = square_phantom(n=96, half=20)
    data[40:50, 40:60] = 250.0
    params = {
        "times": [0.6],
        "poses": [
            {"rotation_deg": [0.0, 0.0, 0.0], "translation_mm": [0.0, 0.0, 0.0]},
            {"rotation_deg": [0.0, 0.0, 0.0], "translation_mm": [1.5, 0.0, 0.0]},
        ],
    }
    out = motion.apply(data, params, (0.5, 0.5, 1.0), pe_axis=1)
    freqs = np.rint(np.fft.fftfreq(96) * 96)
    late = (freqs + 48 + 0.5) / 96 >= 0.6
    kspace = np.fft.fft(data.astype(np.float64), axis=1)
    kspace[:, late] = np.fft.fft(np.roll(data, 3, axis=0).astype(np.float64), axis=1)[:, late]
    np.testing.assert_allclose(out, np.abs(np.fft.ifft(kspace, axis=1)), atol=1e-3 * data.max())
    assert np.abs(out - data).max() > 10


def test_rotation_about_the_centre_in_2d():
    data = square_phantom(n=65, half=10)
    pose = {"rotation_deg": [0.0, 0.0, 90.0], "translation_mm": [0.0, 0.0, 0.0]}
    data[30:35, 20:25] = 300.0
    rotated = motion.rigid_transform(data, pose, (1.0, 1.0, 1.0))
    np.testing.assert_allclose(rotated[:, :, 0], np.rot90(data[:, :, 0], k=1), atol=1e-3)


def test_motion_and_ghosting_act_along_the_phase_encoding_axis(dicom2d):
    data = square_phantom(n=64, half=6, depth=1)
    volume = Volume(data, meta={"phase_encoding_axis": 0})
    out, record = simulate(volume, "ghosting", "severe", 1)
    assert record.params["pe_axis"] == 0
    columns_outside = np.abs(out.data[:, :20]).max()  # ghosts shift along axis 0 only
    assert columns_outside < 1e-2 * data.max()
    assert np.abs(out.data[:20, 26:38]).max() > 1.0


def test_two_dimensional_record_replays(dicom2d):
    for kind in ("motion", "bias_field", "spike"):
        out, record = simulate(dicom2d, kind, "moderate", 9)
        restored = ArtifactRecord.from_dict(record.to_dict())
        np.testing.assert_array_equal(replay(dicom2d, restored).data, out.data)
    _, record = simulate(dicom2d, "motion", "severe", 2)
    for pose in record.params["poses"]:
        assert pose["rotation_deg"][:2] == [0.0, 0.0] and pose["translation_mm"][2] == 0.0


def smooth_phantom(shape=(40, 36, 12)) -> np.ndarray:
    grid = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    radius2 = grid[0] ** 2 / 0.5 + grid[1] ** 2 / 0.4 + grid[2] ** 2 / 0.7
    return (100.0 * np.exp(-3.0 * radius2) + 20.0 * grid[0]).astype(np.float32)


def test_shear_rotation_matches_a_trilinear_affine_resampling_in_3d():
    """The three-pass shear pose equals scipy's trilinear rigid resampling of a smooth object, tilts included."""
    from scipy import ndimage

    data = smooth_phantom()
    spacing = (1.0, 1.2, 2.5)
    pose = {"rotation_deg": [2.0, -1.5, 6.0], "translation_mm": [1.3, -0.7, 1.9]}
    moved = motion.rigid_transform(data, pose, spacing)
    scale = np.asarray(spacing)
    inverse = motion.rotation_matrix(pose["rotation_deg"]).T
    matrix = (inverse * scale[np.newaxis, :]) / scale[:, np.newaxis]
    centre = (np.asarray(data.shape) - 1) / 2
    offset = centre - matrix @ centre - (inverse @ np.asarray(pose["translation_mm"])) / scale
    expected = ndimage.affine_transform(data, matrix, offset, order=1, mode="nearest")
    inner = (slice(4, -4), slice(4, -4), slice(2, -2))
    assert np.abs(moved[inner] - expected[inner]).max() < 0.02 * np.abs(data).max()


def test_kspace_phase_ramp_steps_agree_with_the_image_domain_pose():
    """A pose acquired for (almost) every line gives the object in that pose: the exact k-space PE shear/shift and
    the interpolated image-domain steps agree away from the borders."""
    data = smooth_phantom((48, 40, 6)) + 30.0
    pose = {"rotation_deg": [1.0, 0.5, 4.0], "translation_mm": [0.6, 1.7, 0.0]}
    identity = {"rotation_deg": [0.0, 0.0, 0.0], "translation_mm": [0.0, 0.0, 0.0]}
    params = {"times": [1e-9], "poses": [identity, pose]}
    whole = motion.apply(data, params, (1.0, 1.0, 1.0), pe_axis=1)
    expected = motion.rigid_transform(data, pose, (1.0, 1.0, 1.0))
    inner = (slice(4, -4), slice(4, -4), slice(1, -1))
    assert np.abs(whole[inner] - expected[inner]).max() < 0.01 * data.max()

"""The closed-loop solver of mmrqa.artifacts.calibration on analytic curves whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from mmrqa.artifacts.calibration import TOLERANCE, evaluation_slab, nrmse, solve_strength

CLEAN = np.ones((8, 8, 2), dtype=np.float32)


def _scaled(gain: float, power: float = 1.0):
    # corrupted = clean * (1 + gain * s^power): NRMSE = gain * s^power exactly
    return lambda s: CLEAN * (1.0 + gain * s**power)


@pytest.mark.parametrize("power", [0.5, 1.0, 2.0])
def test_solver_reaches_a_power_law_target(power):
    strength = solve_strength(_scaled(0.01, power), CLEAN, 0.2, (1e-3, 1e3), initial=1.0)
    assert 0.01 * strength**power == pytest.approx(0.2, rel=1.5 * TOLERANCE)


def test_solver_returns_the_closest_reachable_strength_when_the_target_is_out_of_reach():
    saturating = lambda s: CLEAN * (1.0 + 0.1 * min(s, 2.0))  # noqa: E731 - NRMSE saturates at 0.2
    strength = solve_strength(saturating, CLEAN, 0.5, (0.1, 8.0), initial=1.0)
    assert strength >= 2.0


def test_evaluation_slab_keeps_small_volumes_and_takes_central_slices_of_large_ones():
    small = np.zeros((4, 4, 4), dtype=np.float32)
    assert evaluation_slab(small, 1) is small
    large = np.arange(10 * 10 * 20, dtype=np.float32).reshape(10, 10, 20)
    slab = evaluation_slab(large, 1, max_voxels=500)
    assert slab.shape == (10, 10, 5)
    np.testing.assert_array_equal(slab, large[:, :, 7:12])
    assert evaluation_slab(large, 2, max_voxels=500).shape[0] < 10  # PE along axis 2: slab across axis 0


def test_nrmse_definition():
    assert nrmse(CLEAN * 1.1, CLEAN) == pytest.approx(0.1, rel=1e-6)
    assert nrmse(CLEAN, np.zeros_like(CLEAN)) == 0.0

"""Tests of superspike_ref.surrogate: σ′ and its conventions (SPEC §3, §5)."""
from __future__ import annotations

import numpy as np
import pytest

from superspike_ref.params import Params
from superspike_ref.surrogate import surrogate_grad, surrogate_grad_auryn

THETA, BETA = -50e-3, 1e3


def test_peak_one_at_threshold():
    assert surrogate_grad(THETA, THETA, BETA) == 1.0


def test_value_ten_mV_below_threshold():
    assert surrogate_grad(THETA - 10e-3, THETA, BETA) == pytest.approx(1 / 121, rel=1e-12)
    assert surrogate_grad(THETA - 1e-3, THETA, BETA) == pytest.approx(1 / 4, rel=1e-12)


def test_symmetric_around_threshold():
    d = np.linspace(0, 0.05, 101)
    np.testing.assert_allclose(surrogate_grad(THETA + d, THETA, BETA), surrogate_grad(THETA - d, THETA, BETA), rtol=1e-9)


def test_formula_and_monotone():
    U = np.linspace(-0.1, 0.0, 1001)
    s = surrogate_grad(U, THETA, BETA)
    np.testing.assert_allclose(s, 1 / (1 + BETA * np.abs(U - THETA)) ** 2, rtol=1e-15)
    below = U <= THETA
    assert np.all(np.diff(s[below]) > 0) and np.all(np.diff(s[~below]) < 0)
    assert np.all((s > 0) & (s <= 1))


def test_shape_preserved():
    U = np.full((3, 4, 2), -0.055)
    assert surrogate_grad(U, THETA, BETA).shape == (3, 4, 2)


def test_auryn_is_beta_times_paper():
    U = np.linspace(-0.079, 0.0, 500)  # above the auryn default cut-off
    np.testing.assert_allclose(surrogate_grad_auryn(U, THETA, BETA), BETA * surrogate_grad(U, THETA, BETA), rtol=1e-15)
    assert surrogate_grad_auryn(THETA, THETA, BETA) == 1000.0


def test_auryn_default_cut_off():
    assert surrogate_grad_auryn(-80.5e-3, THETA, BETA) == 0.0
    assert surrogate_grad_auryn(-80e-3, THETA, BETA) > 0.0
    np.testing.assert_allclose(
        surrogate_grad_auryn(-0.09, THETA, BETA, u_cut_V=None), BETA / (1 + 40) ** 2, rtol=1e-12
    )


def test_cut_off_is_strict():
    u_cut = -70e-3
    assert surrogate_grad(u_cut, THETA, BETA, u_cut) == pytest.approx(1 / 21**2, rel=1e-12)
    assert surrogate_grad(np.nextafter(u_cut, -1.0), THETA, BETA, u_cut) == 0.0
    U = np.array([-0.09, -0.0700001, -0.07, -0.06])
    s = surrogate_grad(U, THETA, BETA, u_cut)
    assert s[0] == 0.0 and s[1] == 0.0 and s[2] > 0 and s[3] > 0
    # no cut-off: positive everywhere
    assert surrogate_grad(-10.0, THETA, BETA) > 0


def test_refractory_value_with_defaults():
    """During refractoriness Ũ = u_rest, so σ′ = 1/121 (not 0) with the defaults."""
    p = Params()
    assert surrogate_grad(p.u_rest_V, p.theta_V, p.beta_per_V, p.u_cut_V) == pytest.approx(1 / 121, rel=1e-12)


def test_beta_zero_is_flat():
    np.testing.assert_array_equal(surrogate_grad(np.array([-1.0, 0.0, 1.0]), THETA, 0.0), 1.0)

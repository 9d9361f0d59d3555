"""Tests of superspike_ref.filters: the two first-order filters and the kernel K (SPEC §3)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from superspike_ref import filters as F

DT, TR, TD = 1e-4, 5e-3, 10e-3


def impulse(n_steps: int, at: int = 0) -> np.ndarray:
    x = np.zeros(n_steps)
    x[at] = 1.0
    return x


def test_discrete_impulse_response_closed_form():
    n = 3000
    K = F.double_exp(impulse(n), TR, TD, DT)
    assert np.max(np.abs(K - F.kernel_impulse_response(n, TR, TD, DT))) < 1e-12
    # other time constants too (the PSP kernel, tau_syn then tau_mem, and tau_rise > tau_decay)
    for tr, td in ((5e-3, 10e-3), (10e-3, 5e-3), (1e-3, 30e-3)):
        K = F.double_exp(impulse(n), tr, td, DT)
        assert np.max(np.abs(K - F.kernel_impulse_response(n, tr, td, DT))) < 1e-12


def test_first_values_by_hand():
    a, c = math.exp(-DT / TR), DT / TD
    K = F.kernel_impulse_response(3, TR, TD, DT)
    assert K[0] == pytest.approx(c, rel=1e-12)                            # follow of 1 from 0
    assert K[1] == pytest.approx(K[0] + c * (a - K[0]), rel=1e-12)
    assert K[2] == pytest.approx(K[1] + c * (a * a - K[1]), rel=1e-12)


def test_discrete_vs_continuous_kernel():
    """K[n] ≈ α(n dt) with a first-order discretisation error.

    Stated bound: max_n |K[n] - α(n dt)| <= 3 (dt/τ_rise) × peak(α) (= 0.015 here; the
    largest difference is at n = 0, where K[0] = dt/τ_decay and α(0) = 0). Halving dt halves
    the error (first order).
    """
    n = np.arange(5000)
    err = np.max(np.abs(F.kernel_impulse_response(5000, TR, TD, DT) - F.kernel_continuous(n * DT, TR, TD)))
    peak = F.kernel_peak(TR, TD)
    assert err <= 3 * DT / TR * peak
    n2 = np.arange(10000)
    err_half = np.max(np.abs(F.kernel_impulse_response(10000, TR, TD, DT / 2) - F.kernel_continuous(n2 * DT / 2, TR, TD)))
    assert 0.4 < err_half / err < 0.6


def test_continuous_kernel_is_causal_and_matches_formula():
    t = np.array([-1e-3, 0.0, 2e-3, 20e-3])
    k = F.kernel_continuous(t, TR, TD)
    assert k[0] == 0.0 and k[1] == 0.0
    assert k[2] == pytest.approx(TR / (TD - TR) * (math.exp(-0.2) - math.exp(-0.4)), rel=1e-14)
    assert k[3] == pytest.approx(math.exp(-2) - math.exp(-4), rel=1e-14)


def test_peak_time_and_value():
    t_star = F.kernel_peak_time_s(TR, TD)
    assert t_star == pytest.approx(6.93e-3, abs=5e-6)
    assert t_star == pytest.approx(10e-3 * math.log(2), rel=1e-14)
    assert F.kernel_peak(TR, TD) == pytest.approx(0.25, rel=1e-12)
    # the continuous kernel is lower on both sides
    assert F.kernel_continuous(t_star - 1e-4, TR, TD) < 0.25 and F.kernel_continuous(t_star + 1e-4, TR, TD) < 0.25
    K = F.kernel_impulse_response(1000, TR, TD, DT)
    assert abs(int(np.argmax(K)) - t_star / DT) <= 2
    assert abs(K.max() - 0.25) <= 2 * DT / TR * 0.25


def test_area():
    """Σ K dt = dt / (1 - exp(-dt/τ_r)) exactly (the follower has unit DC gain), = τ_r + O(dt)."""
    K = F.kernel_impulse_response(20000, TR, TD, DT)  # tail below 1e-80
    area = K.sum() * DT
    assert area == pytest.approx(DT / (1 - math.exp(-DT / TR)), rel=1e-12)
    assert abs(area - F.kernel_area_s(TR, TD)) <= DT          # 5.05 ms vs 5 ms
    assert F.kernel_area_s(TR, TD) == TR
    # the continuous area, by a fine Riemann sum
    t = np.arange(0, 0.3, 1e-6)
    assert np.sum(F.kernel_continuous(t, TR, TD)) * 1e-6 == pytest.approx(TR, rel=1e-3)


def test_energy():
    K = F.kernel_impulse_response(20000, TR, TD, DT)
    assert F.kernel_energy_steps(TR, TD, DT) == pytest.approx(np.sum(K**2), rel=1e-9)
    assert F.kernel_energy_s(TR, TD) == pytest.approx(0.833e-3, abs=1e-6)
    t = np.arange(0, 0.3, 1e-6)
    assert np.sum(F.kernel_continuous(t, TR, TD) ** 2) * 1e-6 == pytest.approx(F.kernel_energy_s(TR, TD), rel=1e-3)
    # discrete energy ≈ continuous energy / dt (8.53 vs 8.33), within 2 dt/τ_rise relative
    assert F.kernel_energy_steps(TR, TD, DT) * DT / F.kernel_energy_s(TR, TD) - 1 == pytest.approx(0, abs=2 * DT / TR)


def test_exp_trace_and_follow_equal_step_functions():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3, 2))
    y0 = rng.normal(size=(3, 2))
    decay, rate = math.exp(-DT / 7e-3), DT / 7e-3
    ye, yf = y0.copy(), y0.copy()
    exp_expected, fol_expected = [], []
    for n in range(x.shape[0]):
        ye = F.exp_trace_step(ye, x[n], decay)
        yf = F.follow_step(yf, x[n], rate)
        exp_expected.append(ye)
        fol_expected.append(yf)
    np.testing.assert_array_equal(F.exp_trace(x, 7e-3, DT, y0=y0), np.array(exp_expected))
    np.testing.assert_array_equal(F.follow(x, 7e-3, DT, y0=y0), np.array(fol_expected))


def test_step_functions_formulas():
    assert F.exp_trace_step(2.0, 0.5, 0.9) == 0.9 * 2.0 + 0.5
    assert F.follow_step(2.0, 0.5, 0.1) == 2.0 + 0.1 * (0.5 - 2.0)
    rise, out = F.double_exp_step(1.0, 0.2, 1.0, 0.5, 0.25)
    assert rise == 1.5 and out == 0.2 + 0.25 * (1.5 - 0.2)


def test_initial_state_honoured():
    x = np.zeros(50)
    y = F.exp_trace(x, 5e-3, DT, y0=2.0)
    np.testing.assert_allclose(y, 2.0 * math.exp(-DT / 5e-3) ** np.arange(1, 51), rtol=1e-12)
    y = F.follow(x, 10e-3, DT, y0=2.0)
    np.testing.assert_allclose(y, 2.0 * (1 - DT / 10e-3) ** np.arange(1, 51), rtol=1e-12)
    # follow of a constant approaches it from y0
    y = F.follow(np.full(2000, 3.0), 10e-3, DT, y0=1.0)
    np.testing.assert_allclose(y, 3.0 - 2.0 * (1 - DT / 10e-3) ** np.arange(1, 2001), rtol=1e-12)


def test_double_exp_is_linear_and_time_invariant():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 4))
    K = F.kernel_impulse_response(600, TR, TD, DT)
    y = F.double_exp(x, TR, TD, DT)
    # convolution with the impulse response
    conv = np.stack([np.convolve(x[:, j], K)[:600] for j in range(4)], axis=1)
    np.testing.assert_allclose(y, conv, rtol=1e-9, atol=1e-12)
    # a delayed impulse gives a delayed response
    np.testing.assert_array_equal(F.double_exp(impulse(300, 40), TR, TD, DT)[:40], 0.0)
    np.testing.assert_allclose(F.double_exp(impulse(300, 40), TR, TD, DT)[40:], K[:260], rtol=1e-12)


def test_sequence_shape_and_dtype():
    x = np.zeros((10, 3), dtype=bool)
    x[2, 1] = True
    y = F.double_exp(x, TR, TD, DT)
    assert y.shape == (10, 3) and y.dtype == np.float64
    assert y[2, 1] == pytest.approx(DT / TD)

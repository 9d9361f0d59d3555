"""Tests of superspike_ref.error: van Rossum error, vr_distance, auryn_mse (SPEC §3, §7)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from superspike_ref import error as E
from superspike_ref.filters import double_exp, kernel_energy_steps, kernel_impulse_response
from superspike_ref.params import Params


@pytest.fixture
def p() -> Params:
    return Params()


def test_error_impulses():
    target = np.array([[True, False], [False, False], [True, True]])
    output = np.array([[True, True], [False, False], [False, True]])
    imp = E.error_impulses(target, output)
    np.testing.assert_array_equal(imp, [[0, -1], [0, 0], [1, 0]])
    assert imp.dtype == np.float64


def test_error_step_by_hand(p):
    """Impulses [1, -1] then nothing: rise = [1, -1], e = c·rise; then rise = a·[1, -1], e += c (rise - e)."""
    a, c = math.exp(-p.dt_s / p.tau_rise_s), p.dt_s / p.tau_decay_s
    rise, e = E.error_step(np.zeros(2), np.zeros(2), np.array([1.0, -1.0]), p)
    np.testing.assert_array_equal(rise, [1.0, -1.0])
    np.testing.assert_allclose(e, [c, -c], rtol=1e-15)
    rise, e = E.error_step(rise, e, np.zeros(2), p)
    np.testing.assert_allclose(rise, [a, -a], rtol=1e-15)
    np.testing.assert_allclose(e, [c + c * (a - c), -(c + c * (a - c))], rtol=1e-14)


def test_error_step_repeated_is_van_rossum_error(p):
    impulses = E.error_impulses(np.random.default_rng(1).random((300, 3)) < 0.02, np.zeros((300, 3), dtype=bool))
    rise, e, out = np.zeros(3), np.zeros(3), []
    for x in impulses:
        rise, e = E.error_step(rise, e, x, p)
        out.append(e)
    np.testing.assert_array_equal(np.array(out), E.van_rossum_error(impulses, p))


def test_van_rossum_error_is_kernel_of_impulses(p):
    rng = np.random.default_rng(0)
    imp = E.error_impulses(rng.random((700, 3)) < 0.01, rng.random((700, 3)) < 0.01)
    e = E.van_rossum_error(imp, p)
    np.testing.assert_array_equal(e, double_exp(imp, p.tau_rise_s, p.tau_decay_s, p.dt_s))
    # a single missing spike gives +K, an extra spike -K
    imp = np.zeros((300, 2))
    imp[10, 0], imp[10, 1] = 1, -1
    e = E.van_rossum_error(imp, p)
    K = kernel_impulse_response(290, p.tau_rise_s, p.tau_decay_s, p.dt_s)
    np.testing.assert_allclose(e[10:, 0], K, rtol=1e-12)
    np.testing.assert_allclose(e[10:, 1], -K, rtol=1e-12)
    np.testing.assert_array_equal(e[:10], 0.0)


def _vr_of(impulses, p, **kw):
    return E.vr_distance(E.van_rossum_error(np.asarray(impulses, dtype=float), p), p, **kw)


def test_vr_distance_one_isolated_spike(p):
    imp = np.zeros((1000, 1))      # 100 ms window: the kernel's tail is below 1e-4 of its energy
    imp[0, 0] = 1
    assert _vr_of(imp, p) == pytest.approx(1.0, abs=1e-3)
    assert _vr_of(-imp, p) == pytest.approx(1.0, abs=1e-3)
    imp = np.zeros((5000, 1))
    imp[830, 0] = 1
    assert _vr_of(imp, p) == pytest.approx(1.0, abs=1e-9)


def test_vr_distance_identical_trains_is_zero(p):
    rng = np.random.default_rng(1)
    train = rng.random((2000, 3)) < 0.005
    assert _vr_of(E.error_impulses(train, train), p) == 0.0


def test_vr_distance_two_isolated_spikes(p):
    imp = np.zeros((5000, 1))
    imp[500, 0], imp[2500, 0] = 1, -1
    assert _vr_of(imp, p) == pytest.approx(2.0, abs=1e-7)  # overlap of the kernels ~ (1-dt/τ_d)^2000
    # a spike one step too late nearly cancels: the distance is small
    imp = np.zeros((5000, 1))
    imp[500, 0], imp[501, 0] = 1, -1
    assert _vr_of(imp, p) < 0.02


def test_vr_distance_per_neuron(p):
    imp = np.zeros((5000, 4))
    imp[100, 0] = 1
    imp[[100, 3000], 2] = [1, 1]
    imp[200, 3] = -1
    per = _vr_of(imp, p, per_neuron=True)
    assert per.shape == (4,)
    np.testing.assert_allclose(per, [1, 0, 2, 1], atol=1e-7)
    assert _vr_of(imp, p) == pytest.approx(per.mean(), rel=1e-12)


def test_vr_distance_from_energy(p):
    energy = np.array([1.0, 3.0])
    per = E.vr_distance_from_energy(energy, p, per_neuron=True)
    np.testing.assert_allclose(per, energy / kernel_energy_steps(p.tau_rise_s, p.tau_decay_s, p.dt_s), rtol=1e-15)
    assert E.vr_distance_from_energy(energy, p) == pytest.approx(per.mean(), rel=1e-15)


def _auryn_scale(p: Params) -> float:
    a, b = p.tau_decay_s, p.tau_rise_s
    return 1.0 / ((a * b / (a - b)) ** 2 * (a / 2 + b / 2 - 2 * a * b / (a + b))) / 10.0


def test_auryn_mse_step_formula(p):
    q = np.array([0.5, 2.0])
    e = np.array([0.1, -0.2])
    expected = q * math.exp(-p.dt_s / 10.0) + (p.dt_s / p.tau_rise_s * e) ** 2 * p.dt_s
    np.testing.assert_allclose(E.auryn_mse_step(q, e, p), expected, rtol=1e-15)
    assert E.auryn_mse_value(q, 3.0, p) == pytest.approx(_auryn_scale(p) * q.mean() / (1 - math.exp(-0.3) + 1e-9), rel=1e-14)


def test_auryn_mse_one_unmatched_spike_per_second_reads_about_4(p):
    """One unmatched spike per second per output neuron reads ≈ 3.9 (4 in the continuum limit).

    Closed form: with c = Σ_n e_A[n]² dt D^(N-1-n) of one period (N steps, D = exp(-dt/10 s)),
    after k periods q = c (1 - D^(Nk)) / (1 - D^N), and the bias correction makes the reported
    value at every period end scale · c / (1 - D^N), the steady state, from the first second on.
    """
    N = round(1.0 / p.dt_s)
    imp = np.zeros((3 * N, 2))
    imp[::N, 0] = 1       # a missing spike every second on neuron 0
    imp[::N, 1] = -1      # an extra spike every second on neuron 1
    e = E.van_rossum_error(imp, p)
    mse = E.auryn_mse(e, p)
    assert mse.shape == (3 * N,)
    D = math.exp(-p.dt_s / 10.0)
    eA = p.dt_s / p.tau_rise_s * e[:N, 0]
    c = np.sum(eA**2 * p.dt_s * D ** np.arange(N - 1, -1, -1))
    steady = _auryn_scale(p) * c / (1 - D**N)
    ends = mse[N - 1::N]
    np.testing.assert_allclose(ends, steady, rtol=1e-6)
    assert 3.8 <= steady <= 4.0
    # where 3.9 comes from: the discrete kernel's energy (×1.024) and the decay of q over the
    # second after each spike (D^(N-1) / (1 - D^N) = 9.51 instead of 10)
    energy = kernel_energy_steps(p.tau_rise_s, p.tau_decay_s, p.dt_s)
    approx = _auryn_scale(p) * (p.dt_s / p.tau_rise_s) ** 2 * p.dt_s * energy * D ** (N - 1) / (1 - D**N)
    assert steady == pytest.approx(approx, rel=3e-3)


def test_auryn_mse_zero_error(p):
    np.testing.assert_array_equal(E.auryn_mse(np.zeros((100, 3)), p), 0.0)

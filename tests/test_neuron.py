"""Tests of superspike_ref.neuron: the LIF step of SPEC §2 against closed forms."""
from __future__ import annotations

import math

import numpy as np
import pytest

from superspike_ref.filters import kernel_impulse_response
from superspike_ref.neuron import LIFState, lif_initial_state, lif_step, membrane_update
from superspike_ref.params import Params


def run_layer(drives, p: Params, state: LIFState | None = None):
    """Run lif_step over a sequence of drives ``(n_steps, n)``; return I, U_tilde, U, r, S arrays."""
    drives = np.asarray(drives, dtype=float)
    state = lif_initial_state(drives.shape[1], p) if state is None else state
    out = {k: [] for k in ("I", "U_tilde", "U", "r", "S")}
    for d in drives:
        state, u_tilde, s = lif_step(state, d, p)
        for k, v in (("I", state.I_V), ("U_tilde", u_tilde), ("U", state.U_V), ("r", state.r), ("S", s)):
            out[k].append(np.array(v))
    return {k: np.array(v) for k, v in out.items()}


def constant_current_drive(I_V: float, n_steps: int, p: Params) -> np.ndarray:
    """Drives that make I[n] = I_V from step 0 on: I at step 0, I (1 - decay) afterwards."""
    d = np.full((n_steps, 1), I_V * (1 - p.decay(p.tau_syn_s)))
    d[0] = I_V
    return d


def test_initial_state():
    p = Params()
    s = lif_initial_state(3, p)
    np.testing.assert_array_equal(s.I_V, 0.0)
    np.testing.assert_array_equal(s.U_V, p.u_rest_V)
    np.testing.assert_array_equal(s.r, 0)
    assert s.r.dtype.kind == "i"


def test_membrane_update_formula():
    p = Params()
    assert membrane_update(-0.055, 0.02, p) == pytest.approx(-0.055 + 0.01 * (-0.060 + 0.055 + 0.02), rel=1e-15)


def test_constant_current_euler_closed_form():
    """Subthreshold constant I: after n steps U = u_rest + I (1 - (1 - dt/τ_mem)^n)."""
    p = Params()
    I = 8e-3  # below theta - u_rest = 10 mV: never fires
    out = run_layer(constant_current_drive(I, 3000, p), p)
    np.testing.assert_allclose(out["I"][:, 0], I, rtol=1e-12)
    n = np.arange(1, 3001)
    expected = p.u_rest_V + I * (1 - (1 - p.dt_s / p.tau_mem_s) ** n)
    np.testing.assert_allclose(out["U"][:, 0], expected, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(out["U_tilde"], out["U"])
    assert not out["S"].any()
    assert out["U"][-1, 0] == pytest.approx(p.u_rest_V + I, abs=1e-15)


def test_single_jump_gives_psp_kernel():
    """A single drive w at step 0: I = w decay^n, U - u_rest = w K(τ_syn, τ_mem)[n] (PSP peak 0.25 w)."""
    p = Params(theta_V=1.0)
    w = 0.04
    d = np.zeros((2000, 1))
    d[0] = w
    out = run_layer(d, p)
    np.testing.assert_allclose(out["I"][:, 0], w * p.decay(p.tau_syn_s) ** np.arange(2000), rtol=1e-12)
    K = kernel_impulse_response(2000, p.tau_syn_s, p.tau_mem_s, p.dt_s)
    np.testing.assert_allclose(out["U"][:, 0] - p.u_rest_V, w * K, rtol=0, atol=1e-15)
    assert np.max(out["U"][:, 0] - p.u_rest_V) == pytest.approx(0.25 * w, rel=2 * p.dt_s / p.tau_syn_s)


@pytest.mark.parametrize("I_V, t_ref_s", [(20e-3, 5e-3), (50e-3, 5e-3), (20e-3, 0.0), (12e-3, 2e-3)])
def test_periodic_firing_closed_form(I_V, t_ref_s):
    """Constant suprathreshold I: first spike after k steps, then period n_ref + k.

    k is the smallest number of steps with I (1 - (1-dt/τ)^k) > θ - u_rest (Euler closed form).
    """
    p = Params(t_ref_s=t_ref_s)
    q = 1 - p.dt_s / p.tau_mem_s
    gap = p.theta_V - p.u_rest_V
    k = math.ceil(math.log(1 - gap / I_V) / math.log(q))
    if I_V * (1 - q**k) <= gap:  # exact boundary: need strictly above
        k += 1
    assert I_V * (1 - q ** (k - 1)) < gap - 1e-12 < gap + 1e-12 < I_V * (1 - q**k)  # no rounding ambiguity
    n_steps = 4000
    out = run_layer(constant_current_drive(I_V, n_steps, p), p)
    spikes = np.nonzero(out["S"][:, 0])[0]
    expected = np.arange(k - 1, n_steps, p.n_ref + k)
    np.testing.assert_array_equal(spikes, expected)


def test_refractory_period():
    p = Params()
    out = run_layer(constant_current_drive(30e-3, 600, p), p)
    spikes = np.nonzero(out["S"][:, 0])[0]
    s0 = spikes[0]
    # exactly n_ref steps with U_tilde = u_rest after the spike, then integration again
    np.testing.assert_array_equal(out["U_tilde"][s0 + 1:s0 + 1 + p.n_ref, 0], p.u_rest_V)
    assert out["U_tilde"][s0 + 1 + p.n_ref, 0] > p.u_rest_V
    np.testing.assert_array_equal(out["r"][s0:s0 + p.n_ref + 2, 0], np.r_[np.arange(p.n_ref, -1, -1), 0])
    # spike resets U, and the compared potential was above threshold
    assert out["U"][s0, 0] == p.u_rest_V and out["U_tilde"][s0, 0] > p.theta_V
    # no spike while refractory even though the current is far above threshold
    assert not out["S"][s0 + 1:s0 + 1 + p.n_ref].any()
    # the synaptic current keeps integrating during refractoriness
    np.testing.assert_allclose(out["I"][:, 0], 30e-3, rtol=1e-12)


def test_current_integrates_during_refractoriness():
    p = Params()
    state = LIFState(I_V=np.array([0.01]), U_V=np.array([p.u_rest_V]), r=np.array([5]))
    new, u_tilde, s = lif_step(state, np.array([0.02]), p)
    assert new.I_V[0] == pytest.approx(0.01 * p.decay(p.tau_syn_s) + 0.02, rel=1e-15)
    assert u_tilde[0] == p.u_rest_V and new.U_V[0] == p.u_rest_V and new.r[0] == 4 and not s[0]


def test_refractory_input_does_not_fire_even_above_threshold():
    p = Params()
    state = LIFState(I_V=np.array([2.0]), U_V=np.array([-0.0501]), r=np.array([1]))
    new, u_tilde, s = lif_step(state, np.array([0.0]), p)
    assert not s[0] and u_tilde[0] == p.u_rest_V and new.r[0] == 0
    new, u_tilde, s = lif_step(new, np.array([0.0]), p)
    assert s[0] and new.r[0] == p.n_ref and new.U_V[0] == p.u_rest_V


def test_strict_threshold():
    """Ũ exactly equal to θ does not spike; one ulp above does."""
    p0 = Params()
    state = LIFState(I_V=np.array([0.0]), U_V=np.array([-0.0505]), r=np.array([0]))
    drive = np.array([0.06])
    _, u_tilde, _ = lif_step(state, drive, p0)
    theta = float(u_tilde[0])
    at = Params(theta_V=theta)
    new, u_tilde_at, s = lif_step(state, drive, at)
    assert u_tilde_at[0] == theta and not s[0] and new.U_V[0] == theta and new.r[0] == 0
    below = Params(theta_V=float(np.nextafter(theta, -np.inf)))
    new, _, s = lif_step(state, drive, below)
    assert s[0] and new.U_V[0] == below.u_rest_V and new.r[0] == below.n_ref


def test_vectorised_neurons_are_independent():
    p = Params()
    rng = np.random.default_rng(3)
    drives = (rng.random((800, 4)) < 0.02) * rng.uniform(0, 0.08, size=(800, 4))
    together = run_layer(drives, p)
    for j in range(4):
        alone = run_layer(drives[:, j:j + 1], p)
        for key in together:
            np.testing.assert_array_equal(together[key][:, j], alone[key][:, 0])
    assert together["S"].any()


def test_lif_step_does_not_modify_state():
    p = Params()
    state = LIFState(I_V=np.array([0.5]), U_V=np.array([-0.055]), r=np.array([0]))
    lif_step(state, np.array([0.1]), p)
    assert state.I_V[0] == 0.5 and state.U_V[0] == -0.055 and state.r[0] == 0

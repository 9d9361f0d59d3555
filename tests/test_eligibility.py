"""Tests of superspike_ref.eligibility: z, z̃ and λ (SPEC §3), and the identity z̃ = ∂Ũ/∂w."""
from __future__ import annotations

import numpy as np
import pytest

from superspike_ref.eligibility import accumulate, eligibility_step, error_gate, psp_trace_step
from superspike_ref.filters import double_exp, exp_trace, follow
from superspike_ref.neuron import lif_initial_state, lif_step
from superspike_ref.params import Params
from superspike_ref.surrogate import surrogate_grad

N_PRE, N_POST, N_STEPS = 6, 3, 1500


def delayed(spikes: np.ndarray, n_d: int) -> np.ndarray:
    """A[n] = S[n - n_d], nothing before step n_d."""
    out = np.zeros_like(spikes)
    out[n_d:] = spikes[: spikes.shape[0] - n_d]
    return out


def psp_traces(arriving: np.ndarray, p: Params):
    z, zt = np.zeros(arriving.shape[1]), np.zeros(arriving.shape[1])
    zs, zts = [], []
    for a in arriving:
        z, zt = psp_trace_step(z, zt, a, p)
        zs.append(z)
        zts.append(zt)
    return np.array(zs), np.array(zts)


def free_membrane(W: np.ndarray, arriving: np.ndarray, p: Params):
    state = lif_initial_state(W.shape[0], p)
    I, U_tilde = [], []
    for a in arriving:
        state, u, s = lif_step(state, W @ a, p)
        assert not s.any()
        I.append(state.I_V)
        U_tilde.append(u)
    return np.array(I), np.array(U_tilde)


@pytest.fixture
def setup():
    p = Params(theta_V=1.0)  # the membrane never reaches 1 V: no spikes, no resets
    rng = np.random.default_rng(42)
    spikes = rng.random((N_STEPS, N_PRE)) < 0.02
    arriving = delayed(spikes, p.n_delay)
    W = rng.normal(0.0, 0.05, size=(N_POST, N_PRE))
    return p, arriving, W


def test_psp_traces_are_the_two_filters(setup):
    p, arriving, _ = setup
    z, zt = psp_traces(arriving, p)
    np.testing.assert_allclose(z, exp_trace(arriving, p.tau_syn_s, p.dt_s), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(zt, follow(exp_trace(arriving, p.tau_syn_s, p.dt_s), p.tau_mem_s, p.dt_s), rtol=1e-13, atol=1e-15)
    # z jumps by exactly 1 per arriving spike
    n, j = np.argwhere(arriving)[0]
    assert z[n, j] - p.decay(p.tau_syn_s) * (z[n - 1, j] if n else 0.0) == pytest.approx(1.0, abs=1e-14)
    assert np.all(z[: p.n_delay] == 0)


def test_current_and_membrane_are_linear_in_traces(setup):
    """I_i = Σ_j w_ij z_j and Ũ_i - u_rest = Σ_j w_ij z̃_j for the free membrane."""
    p, arriving, W = setup
    z, zt = psp_traces(arriving, p)
    I, U_tilde = free_membrane(W, arriving, p)
    np.testing.assert_allclose(I, z @ W.T, rtol=0, atol=1e-14)
    np.testing.assert_allclose(U_tilde - p.u_rest_V, zt @ W.T, rtol=0, atol=1e-12)
    assert np.max(np.abs(U_tilde - p.u_rest_V)) > 1e-3  # a real signal, not all zeros


def test_psp_trace_is_finite_difference_derivative(setup):
    """z̃_j[n] = ∂Ũ_i[n]/∂w_ij (central differences; exact up to rounding since Ũ is linear in W)."""
    p, arriving, W = setup
    _, zt = psp_traces(arriving, p)
    h = 1e-3
    # every perturbed network (i, j, ±h) as one neuron of a big layer
    rows = []
    for i in range(N_POST):
        for j in range(N_PRE):
            for sign in (+1, -1):
                w = W[i].copy()
                w[j] += sign * h
                rows.append(w)
    _, U = free_membrane(np.array(rows), arriving, p)
    U = U.reshape(N_STEPS, N_POST, N_PRE, 2)
    fd = (U[..., 0] - U[..., 1]) / (2 * h)
    for i in range(N_POST):
        np.testing.assert_allclose(fd[:, i, :], zt, rtol=1e-9, atol=1e-9 * np.max(np.abs(zt)))


def test_eligibility_is_kernel_of_hebbian_product(setup):
    p, arriving, W = setup
    p = p.replace(theta_V=-50e-3)  # σ′ with the usual threshold; the membrane stays free in this test
    _, zt = psp_traces(arriving, p)
    _, U_tilde = free_membrane(W, arriving, Params(theta_V=1.0))
    sp = surrogate_grad(U_tilde, p.theta_V, p.beta_per_V)
    elig_rise, elig = np.zeros((N_POST, N_PRE)), np.zeros((N_POST, N_PRE))
    eligs = []
    for n in range(N_STEPS):
        elig_rise, elig = eligibility_step(elig_rise, elig, sp[n], zt[n], p)
        eligs.append(elig)
    hebb = sp[:, :, None] * zt[:, None, :]
    expected = double_exp(hebb, p.tau_rise_s, p.tau_decay_s, p.dt_s)
    np.testing.assert_allclose(np.array(eligs), expected, rtol=1e-12, atol=1e-15)
    assert np.array(eligs).shape == (N_STEPS, N_POST, N_PRE)


def test_eligibility_step_single_values():
    p = Params()
    elig_rise, elig = eligibility_step(np.zeros((2, 3)), np.zeros((2, 3)), np.array([1.0, 0.5]),
                                       np.array([1.0, 2.0, 0.0]), p)
    rate_decay = p.dt_s / p.tau_decay_s
    np.testing.assert_allclose(elig_rise, [[1, 2, 0], [0.5, 1, 0]], rtol=1e-15)
    np.testing.assert_allclose(elig, rate_decay * np.array([[1, 2, 0], [0.5, 1, 0]]), rtol=1e-15)


M0 = np.array([[1.0, 2.0], [3.0, 4.0]])
E_POST = np.array([0.5, -1.0])
LAM = np.array([[2.0, 4.0], [1.0, 1.0]])
W_HID = np.array([[0.1, 0.2], [0.3, 0.4]])
ZH = np.array([2.0, 0.0])


def test_accumulate_output_connection_by_hand():
    """m + e λ: [[1, 2], [3, 4]] + [[0.5·2, 0.5·4], [-1·1, -1·1]]; no regulariser, no gate on the output."""
    p = Params(rho=0.5, a=2.0, e_gate=0.6)
    m = M0.copy()
    np.testing.assert_array_equal(accumulate(m, E_POST, LAM, p), [[2.0, 4.0], [2.0, 3.0]])
    np.testing.assert_array_equal(m, M0)  # a new array; the input is not changed


def test_accumulate_hidden_connection_with_regulariser_by_hand():
    """- ρ w zh^a = -0.5 · w · [4, 0]: row 0 loses [0.2, 0.4], row 1 nothing."""
    p = Params(rho=0.5, a=2.0)
    np.testing.assert_allclose(accumulate(M0, E_POST, LAM, p, W_HID, ZH), [[1.8, 3.6], [2.0, 3.0]], rtol=1e-15)
    np.testing.assert_array_equal(accumulate(M0, E_POST, LAM, p.replace(rho=0.0), W_HID, ZH), [[2.0, 4.0], [2.0, 3.0]])


def test_accumulate_error_gate_closes_rows_of_small_error():
    """e_gate = 0.6: neuron 0 (|e| = 0.5) adds neither e λ nor the regulariser; neuron 1 (|e| = 1) adds e λ."""
    p = Params(rho=0.5, a=2.0, e_gate=0.6)
    np.testing.assert_array_equal(accumulate(M0, E_POST, LAM, p, W_HID, ZH), [[1.0, 2.0], [2.0, 3.0]])
    open_gate = accumulate(M0, E_POST, LAM, p.replace(e_gate=0.5), W_HID, ZH)  # |e| >= e_gate opens it
    np.testing.assert_allclose(open_gate, [[1.8, 3.6], [2.0, 3.0]], rtol=1e-15)


def test_error_gate_is_off_by_default_and_a_mask_when_on():
    e = np.array([[0.5, -1.0, 0.0], [0.61, -0.59, 2.0]])
    assert error_gate(e, Params()) is None
    np.testing.assert_array_equal(error_gate(e, Params(e_gate=0.6)), [[False, True, False], [True, False, True]])

"""Tests of superspike_ref.regulariser and its place in the accumulator (SPEC §3)."""
from __future__ import annotations

import numpy as np
import pytest

from superspike_ref import LiteralEngine
from superspike_ref.filters import exp_trace
from superspike_ref.params import Params
from superspike_ref.regulariser import het_activity, het_trace_step, regulariser_term, weight_decay


def test_het_trace_is_exp_trace_of_own_spikes():
    p = Params()
    rng = np.random.default_rng(0)
    S = rng.random((3000, 4)) < 0.002
    zh = np.zeros(4)
    out = []
    for s in S:
        zh = het_trace_step(zh, s, p)
        out.append(zh)
    np.testing.assert_allclose(np.array(out), exp_trace(S, p.tau_het_s, p.dt_s), rtol=1e-13, atol=1e-15)
    # one spike: jumps by 1, decays with tau_het
    zh = het_trace_step(np.zeros(1), np.array([True]), p)
    assert zh[0] == 1.0
    for _ in range(1000):
        zh = het_trace_step(zh, np.array([False]), p)
    assert zh[0] == pytest.approx(np.exp(-0.1 / p.tau_het_s), rel=1e-12)


def test_regulariser_term_formula():
    p = Params(rho=0.3, a=4.0)
    w = np.array([[0.01, -0.02, 0.03], [0.04, 0.0, -0.05]])
    zh = np.array([2.0, 0.5])
    term = regulariser_term(w, zh, p)
    assert term.shape == (2, 3)
    np.testing.assert_allclose(term, 0.3 * w * np.array([[16.0], [0.0625]]), rtol=1e-15)
    assert term[0, 1] == pytest.approx(0.3 * -0.02 * 2.0**4)
    np.testing.assert_array_equal(regulariser_term(w, zh, Params()), 0.0)  # rho = 0: off


def test_mean_z4_at_20_Hz_is_about_48_8():
    """Appendix A.4 (docs/paper.md §"Rate dependence"): ⟨z⁴⟩ at 20 Hz with τ_het = 100 ms ≈ 48.8 (Poisson spikes)."""
    p = Params()
    rng = np.random.default_rng(1)
    S = rng.random((200_000, 5)) < 20.0 * p.dt_s
    z = exp_trace(S, p.tau_het_s, p.dt_s)[5000:]
    assert np.mean(z**4) == pytest.approx(48.8, rel=0.1)


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_engine_accumulator_with_regulariser(rho, small_hidden_setup):
    """m_k[n] = Σ_{n'≤n} e[n'] λ[n'] - ρ w zh[n']^a (hidden layer only), checked against a hand loop."""
    net, task = small_hidden_setup(11, layers=(12, 6, 2), feedback="random", w0_V=0.5, rho=rho, a=2.0, t_batch_s=0.05)
    p = net.params
    eng = LiteralEngine(net, task)
    n_steps = 400  # less than one batch (500 steps): weights fixed
    tr = eng.run(n_steps, record=("S", "e", "lambda", "m", "W")).traces
    assert tr["W_0"].shape == (1, 6, 12)
    S1 = tr["S_1"]
    assert S1.sum() >= 5  # the hidden layer fires, so zh > 0
    zh = exp_trace(S1, p.tau_het_s, p.dt_s)
    W0, W1 = net.weights
    inc0 = tr["e_1"][:, :, None] * tr["lambda_0"] - rho * W0[None] * (zh**p.a)[:, :, None]
    inc1 = tr["e_2"][:, :, None] * tr["lambda_1"]               # output layer: no regulariser
    m0, m1 = np.cumsum(inc0, axis=0), np.cumsum(inc1, axis=0)
    np.testing.assert_allclose(tr["m_0"], m0, rtol=1e-9, atol=1e-12 * np.max(np.abs(m0)))
    np.testing.assert_allclose(tr["m_1"], m1, rtol=1e-9, atol=1e-12 * np.max(np.abs(m1)))
    if rho > 0:
        reg = np.cumsum(rho * W0[None] * (zh**p.a)[:, :, None], axis=0)
        assert np.max(np.abs(reg)) > 0.1 * np.max(np.abs(m0))  # the term matters in this case


def test_weight_decay_of_het_activity_is_the_term_and_takes_summed_activities():
    """regulariser_term = weight_decay(w, het_activity(zh)); with a network axis and ζ summed over steps it is the step sum."""
    rng, p = np.random.default_rng(11), Params(rho=0.3, a=3.0)
    w, zh = rng.normal(size=(2, 4, 5)), rng.random((6, 2, 4))        # 2 networks, 6 steps
    summed = weight_decay(w, het_activity(zh, p).sum(axis=0), p)
    by_step = sum(np.stack([regulariser_term(w[b], zh[n, b], p) for b in range(2)]) for n in range(6))
    np.testing.assert_allclose(summed, by_step, rtol=1e-13)
    np.testing.assert_array_equal(het_activity(zh, p), zh**3.0)

"""Each stage of the fast engine equals the literal function it replaces, on random inputs (P9 item 3).

The fast engine computes a segment of ``T`` steps at once (windowed filters, the accumulator as a
bilinear form, ``n_networks`` networks side by side); every test here runs the functions of
the literal engine (:mod:`superspike_ref.core` and the derivation modules) step by step on the
same random inputs and compares. Spikes must be identical, floats equal to rounding.
"""
from __future__ import annotations

import numpy as np
import pytest

from superspike_ref import CyclicTask, Params
from superspike_ref.core import delay_step
from superspike_ref.eligibility import accumulate, eligibility_step, error_gate, psp_trace_step
from superspike_ref.error import auryn_mse_step, error_step
from superspike_ref.fast.filters import kernel_filter_adjoint, powers
from superspike_ref.fast.forward import forward
from superspike_ref.fast.learning import accumulate as fast_accumulate
from superspike_ref.fast.learning import advance_traces, output_error, regularise
from superspike_ref.fast.lif import _NEVER
from superspike_ref.fast.lif import lif as lif_scan
from superspike_ref.fast.recording import segment_curves
from superspike_ref.neuron import lif_initial_state, lif_step
from superspike_ref.regulariser import het_trace_step

TOL = dict(rtol=1e-12, atol=1e-14)
N_NETWORKS, T = 3, 137


def _adjoint_inputs(p, e):
    """``ẽ`` and ``α`` of the error ``e`` ``(T, n_networks, n_post)``, as the fast engine forms them."""
    a, c = p.decay(p.tau_rise_s), p.dt_s / p.tau_decay_s
    return kernel_filter_adjoint(e, a, c), np.tensordot(powers(1.0 - c, len(e) + 1)[1:], e, axes=(0, 0))


@pytest.mark.parametrize("shared_input", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_accumulate_equals_psp_eligibility_and_accumulate_steps(seed, shared_input):
    """fast.learning.accumulate = T steps of psp_trace_step, eligibility_step and eligibility.accumulate."""
    rng, p = np.random.default_rng(seed), Params()
    n_pre, n_post, n_src = 9, 4, 1 if shared_input else N_NETWORKS
    A = rng.random((T, n_src, n_pre)) < 0.08
    sp, e = rng.random((T, N_NETWORKS, n_post)), rng.normal(size=(T, N_NETWORKS, n_post))
    z0, zt0 = rng.random((n_src, n_pre)), rng.random((n_src, n_pre))
    rise0, elig0, m0 = (rng.normal(size=(N_NETWORKS, n_post, n_pre)) for _ in range(3))
    adj, alpha = _adjoint_inputs(p, e)
    # fast: the state stored transposed, (n_networks, n_pre, n_post), changed in place
    P, Q, m = (x.transpose(0, 2, 1).copy() for x in (rise0, elig0, m0))
    fast_accumulate(p, T, A, sp, adj, alpha, z0, zt0, P, Q, m)
    for b in range(N_NETWORKS):
        src = 0 if shared_input else b
        z, zt, rise, elig, m_lit = z0[src], zt0[src], rise0[b], elig0[b], m0[b]
        for t in range(T):
            z, zt = psp_trace_step(z, zt, A[t, src], p)
            rise, elig = eligibility_step(rise, elig, sp[t, b], zt, p)
            m_lit = accumulate(m_lit, e[t, b], elig, p)
        np.testing.assert_allclose(m[b].T, m_lit, **TOL)
        np.testing.assert_allclose(P[b].T, rise, **TOL)
        np.testing.assert_allclose(Q[b].T, elig, **TOL)


def test_advance_traces_equals_psp_trace_steps():
    """fast.learning.advance_traces = T steps of eligibility.psp_trace_step, over the segment and at its end."""
    rng, p = np.random.default_rng(2), Params()
    arriving = [rng.random((T, 1, 7)) < 0.1, rng.random((T, N_NETWORKS, 5)) < 0.1]
    z0 = [rng.random((1, 7)), rng.random((N_NETWORKS, 5))]
    zt0 = [rng.random((1, 7)), rng.random((N_NETWORKS, 5))]
    z, zt = [x.copy() for x in z0], [x.copy() for x in zt0]
    traces = advance_traces(p, T, arriving, True, z, zt)
    for k, A in enumerate(arriving):
        lit_z, lit_zt = z0[k], zt0[k]
        for t in range(T):
            lit_z, lit_zt = psp_trace_step(lit_z, lit_zt, A[t], p)
            np.testing.assert_allclose(traces[k][0][t], lit_z, **TOL)
            np.testing.assert_allclose(traces[k][1][t], lit_zt, **TOL)
        np.testing.assert_allclose(z[k], lit_z, **TOL)
        np.testing.assert_allclose(zt[k], lit_zt, **TOL)


def test_output_error_equals_error_steps():
    """fast.learning.output_error = T steps of error.error_step on the task's impulses."""
    rng, p = np.random.default_rng(3), Params()
    n_out, n_cycle = 4, 60
    task = CyclicTask(rng.random((n_cycle, 2)) < 0.1, rng.random((n_cycle, n_out)) < 0.1)
    spikes = rng.random((T, N_NETWORKS, n_out)) < 0.05
    rise0, e0 = rng.normal(size=(N_NETWORKS, n_out)), rng.normal(size=(N_NETWORKS, n_out))
    n0, states = 45, [task.initial_error_state() for _ in range(N_NETWORKS)]
    e, rise_end, e_end = output_error(p, task, spikes, n0, states, rise0, e0)
    for b in range(N_NETWORKS):
        rise, e_lit = rise0[b], e0[b]
        for t in range(T):
            target = task.target[(n0 + t) % n_cycle]
            rise, e_lit = error_step(rise, e_lit, target.astype(float) - spikes[t, b], p)
            np.testing.assert_allclose(e[t, b], e_lit, **TOL)
        np.testing.assert_allclose(rise_end[b], rise, **TOL)
        np.testing.assert_allclose(e_end[b], e_lit, **TOL)


@pytest.mark.parametrize("gate", [0.0, 0.4])
def test_regularise_equals_het_trace_and_accumulate_steps(gate):
    """fast.learning.regularise = T steps of het_trace_step and the regulariser part of eligibility.accumulate."""
    rng, p = np.random.default_rng(4), Params(rho=0.7, a=4.0, e_gate=gate)
    n_pre, n_post = 6, 5
    spikes = rng.random((T, N_NETWORKS, n_post)) < 0.1
    W, m0 = rng.normal(size=(N_NETWORKS, n_post, n_pre)), rng.normal(size=(N_NETWORKS, n_post, n_pre))
    e = rng.normal(size=(T, N_NETWORKS, n_post))
    zh0 = rng.random((N_NETWORKS, n_post))
    zh, m = [zh0.copy()], m0.transpose(0, 2, 1).copy()
    regularise(p, spikes, zh, 0, W, m, error_gate(e, p))
    for b in range(N_NETWORKS):
        trace, m_lit = zh0[b], m0[b]
        for t in range(T):
            trace = het_trace_step(trace, spikes[t, b], p)
            with_reg = accumulate(m_lit, e[t, b], np.zeros((n_post, n_pre)), p, W[b], trace)
            m_lit = with_reg  # e λ is 0 here: only the (gated) regulariser term is added
        np.testing.assert_allclose(m[b].T, m_lit, **TOL)
        np.testing.assert_allclose(zh[0][b], trace, **TOL)


@pytest.mark.parametrize("params", [dict(), dict(delay_s=0.0), dict(delay_s=0.0002), dict(t_ref_s=0.0)],
                         ids=["default-delay", "no-delay", "short-delay", "general-lif"])
def test_forward_equals_delay_and_lif_steps(params):
    """fast.forward.forward (drive, current filter, LIF scan) = core.delay_step and neuron.lif_step, step by step."""
    rng, p = np.random.default_rng(5), Params(**params)
    layers, n_cycle = (12, 7, 6, 3), 400
    task = CyclicTask(rng.random((n_cycle, layers[0])) < 0.06, np.zeros((n_cycle, layers[-1]), dtype=bool))
    W = [rng.normal(0.0, 1.2, size=(N_NETWORKS, n_post, n_pre)) for n_pre, n_post in zip(layers[:-1], layers[1:])]
    n_lif = layers[1:]
    state = ([np.full((N_NETWORKS, n), p.u_rest_V) for n in n_lif], [np.zeros((N_NETWORKS, n)) for n in n_lif],
             [np.full((N_NETWORKS, n), _NEVER, dtype=np.int64) for n in n_lif])
    history = [None] + [np.zeros((p.n_delay, N_NETWORKS, n), dtype=bool) for n in layers[1:-1]]
    segments = [forward(p, task, W, state, history, n0, n1) for n0, n1 in ((0, 150), (150, 333))]
    spikes = [np.concatenate([s[3][l] for s in segments]) for l in range(len(n_lif))]
    u_tilde = [np.concatenate([s[2][l] for s in segments]) for l in range(len(n_lif))]
    currents = [np.concatenate([s[1][l] for s in segments]) for l in range(len(n_lif))]
    assert sum(s.sum() for s in spikes) > 50                          # the layers do fire
    for b in range(N_NETWORKS):
        lif = [lif_initial_state(n, p) for n in n_lif]
        buffers = [np.zeros((p.n_delay + 1, n), dtype=bool) for n in layers[:-1]]
        for n in range(333):
            pre = task.input[n % n_cycle]
            for k in range(len(n_lif)):
                buffers[k], arriving = delay_step(buffers[k], pre, n)
                lif[k], Ut, pre = lif_step(lif[k], W[k][b] @ arriving, p)
                np.testing.assert_array_equal(spikes[k][n, b], pre)
                np.testing.assert_allclose(u_tilde[k][n, b], Ut, **TOL)
                np.testing.assert_allclose(currents[k][n, b], lif[k].I_V, **TOL)


@pytest.mark.parametrize("segment", [1, 7, 49, 51, 200])
def test_lif_scan_equals_lif_steps_at_high_rates(segment):
    """fast.lif.lif (event scan: rounds of restarts) = neuron.lif_step, for neurons firing up to every n_ref + 1 steps,
    segments cut anywhere (inside refractory periods too)."""
    rng, p = np.random.default_rng(segment), Params()
    n, n_steps = 40, 600
    drive = rng.normal(0.0, 1.5, size=(n_steps, 1, n)) * rng.random(n)       # from silent to saturated neurons
    U, I, last = [np.full((1, n), p.u_rest_V)], [np.zeros((1, n))], [np.full((1, n), _NEVER, dtype=np.int64)]
    pieces = [lif_scan(p, 0, U, I, last, drive[n0:n0 + segment], n0) for n0 in range(0, n_steps, segment)]
    u_tilde, spikes = np.concatenate([x[0] for x in pieces])[:, 0], np.concatenate([x[1] for x in pieces])[:, 0]
    state = lif_initial_state(n, p)
    for t in range(n_steps):
        state, Ut, S = lif_step(state, drive[t, 0], p)
        np.testing.assert_array_equal(spikes[t], S)
        np.testing.assert_allclose(u_tilde[t], Ut, **TOL)
    counts = spikes.sum(axis=0)
    assert counts.max() > n_steps / (p.n_ref + 1) * 0.8 and (counts == 0).any()   # saturated and silent neurons


def test_segment_curves_equal_the_literal_cost_sums():
    """fast.recording.segment_curves = error.auryn_mse_step and Σ e² step by step, cycle ends at the same steps."""
    rng, p = np.random.default_rng(6), Params()
    n_out, n_cycle, n0 = 3, 40, 17
    e = rng.normal(size=(T, N_NETWORKS, n_out))
    err2_0, q0 = rng.random((N_NETWORKS, n_out)), rng.random((N_NETWORKS, n_out))

    class Shell:
        ends = []

        def cycle_end(self, t_end_s, cycle_err2, q_auryn):
            self.ends.append((t_end_s, cycle_err2.copy(), q_auryn.copy()))

    shell = Shell()
    err2_end, q_end = segment_curves(p, n_cycle, n0, e, shell, err2_0.copy(), q0.copy())
    err2, q, ends = err2_0.copy(), q0.copy(), []
    for t in range(T):
        q, err2 = auryn_mse_step(q, e[t], p), err2 + e[t] ** 2
        if (n0 + t + 1) % n_cycle == 0:
            ends.append(((n0 + t + 1) * p.dt_s, err2, q))
            err2 = np.zeros_like(err2)
    assert [t for t, _, _ in shell.ends] == [t for t, _, _ in ends] and len(ends) == 3
    for (_, fast_err2, fast_q), (_, lit_err2, lit_q) in zip(shell.ends, ends):
        np.testing.assert_allclose(fast_err2, lit_err2, **TOL)
        np.testing.assert_allclose(fast_q, lit_q, **TOL)
    np.testing.assert_allclose(err2_end, err2, **TOL)
    np.testing.assert_allclose(q_end, q, **TOL)

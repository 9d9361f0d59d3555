"""Tests of superspike_ref.bptt: exact surrogate gradients by reverse mode.

Verified three ways, as SPEC §3 asks ("this must be demonstrated, not assumed"):

(a) central finite differences of the smooth (sigmoid) model, with what each variant detaches
    held fixed (``frozen_loss``), to 1e-6 relative; and, for Heaviside spikes, where the loss is
    piecewise constant, an independent forward-mode (tangent) computation of the same derivative;
(b) for the output connection, SuperSpike's accumulator ``Σ_n e λ`` of the literal engine equals
    ``-(1/dt) ∂L/∂W`` of the free-membrane variant to 1e-9 relative;
(c) the two variants agree exactly when no neuron spikes.
"""
from __future__ import annotations

import numpy as np
import pytest

from superspike_ref import CyclicTask, LiteralEngine, Network, Params, bptt, filters


def _task(rng, layers, n_cycle=300, rate_Hz=40.0, dt_s=1e-4):
    inp = rng.random((n_cycle, layers[0])) < rate_Hz * dt_s
    tgt = np.zeros((n_cycle, layers[-1]), dtype=bool)
    tgt[[60, 150, 240], :] = True
    return CyclicTask(input=inp, target=tgt)


def _engine_setup(seed, layers=(20, 6, 3), w0_V=0.3, **changes):
    p = Params(**{"t_batch_s": 0.05, **changes})
    rng = np.random.default_rng(seed)
    task = _task(rng, layers)
    net = Network.create(layers, rng, p, feedback="symmetric", w0_V=w0_V)
    return net, task, p


def _smooth_setup(seed, layers=(5, 4, 3, 2), n_steps=250, delay_s=0.8e-3):
    p = Params(delay_s=delay_s)
    rng = np.random.default_rng(seed)
    W = [rng.normal(0.0, 0.3 / np.sqrt(n), (m, n)) for n, m in zip(layers[:-1], layers[1:])]
    x = rng.random((n_steps, layers[0])) < 0.05
    y = np.zeros((n_steps, layers[-1]))
    y[[80, 170], 0] = 1.0
    y[120, -1] = 1.0
    return W, x, y, p


def _rel(a, b) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


# --- forward pass: SPEC's spikes ------------------------------------------------------

@pytest.mark.parametrize("delay_s", [0.8e-3, 0.0])
def test_forward_reproduces_literal_engine(delay_s):
    net, task, p = _engine_setup(1, delay_s=delay_s)
    T = 400  # shorter than a batch (500 steps): constant weights
    run = LiteralEngine(net, task).run(T, record=("S", "U_tilde", "I", "sigma_prime", "e"))
    fwd = bptt.forward(net.weights, *bptt.task_window(task, 0, T), p)
    assert run.traces["S_1"].sum() > 0 and run.traces["S_2"].sum() > 0
    for l in (1, 2):
        assert np.array_equal(fwd.spikes[l - 1].astype(bool), run.traces[f"S_{l}"])
        for name, key in (("U_tilde", "U_tilde"), ("current", "I"), ("sigma_prime", "sigma_prime")):
            assert np.array_equal(getattr(fwd, name)[l - 1], run.traces[f"{key}_{l}"])
    assert np.array_equal(fwd.e, run.traces["e_2"])
    assert fwd.loss == pytest.approx(0.5 * p.dt_s * np.sum(run.traces["e_2"] ** 2), rel=1e-14)


def test_window_from_engine_state_continues_the_run():
    net, task, p = _engine_setup(2)
    eng = LiteralEngine(net, task)
    eng.run(137)
    state = bptt.WindowState.from_engine(eng)
    run = eng.run(300, record=("S", "e"))  # steps 137..436 lie in one batch (no update)
    fwd = bptt.forward(net.weights, *bptt.task_window(task, 137, 300), p, initial_state=state)
    for l in (1, 2):
        assert np.array_equal(fwd.spikes[l - 1].astype(bool), run.traces[f"S_{l}"])
    assert np.allclose(fwd.e, run.traces["e_2"], rtol=0, atol=1e-15)


def test_windows_chain_through_final_state():
    net, task, p = _engine_setup(3)
    whole = bptt.forward(net.weights, *bptt.task_window(task, 0, 400), p)
    first = bptt.forward(net.weights, *bptt.task_window(task, 0, 155), p)
    second = bptt.forward(net.weights, *bptt.task_window(task, 155, 245), p, initial_state=first.final_state)
    for l in range(2):
        assert np.array_equal(np.concatenate([first.spikes[l], second.spikes[l]]), whole.spikes[l])
    assert np.array_equal(np.concatenate([first.e, second.e]), whole.e)


# --- (a) finite differences of the smooth model ----------------------------------------

@pytest.mark.parametrize("variant", bptt.VARIANTS)
@pytest.mark.parametrize("delay_s", [0.8e-3, 0.0])
def test_gradient_matches_central_differences(variant, delay_s):
    W, x, y, p = _smooth_setup(3, delay_s=delay_s)
    fwd = bptt.forward(W, x, y, p, spike_fn="sigmoid", sigmoid_gain_per_V=500.0)
    assert all(s.max() > 0.5 for s in fwd.spikes[:1])           # some units do fire
    assert bptt.frozen_loss(fwd, W, variant) == pytest.approx(fwd.loss, rel=1e-13)
    grads = bptt.backward(fwd, variant).grads

    def loss_at(k, idx, h):
        shifted = [w.copy() for w in W]
        shifted[k][idx] += h
        return bptt.frozen_loss(fwd, shifted, variant)

    h = 1e-6  # V; Richardson extrapolation of two central differences removes the O(h²) error
    for k, g in enumerate(grads):
        fd = np.zeros_like(g)
        for idx in np.ndindex(g.shape):
            d1 = (loss_at(k, idx, h) - loss_at(k, idx, -h)) / (2 * h)
            d2 = (loss_at(k, idx, h / 2) - loss_at(k, idx, -h / 2)) / h
            fd[idx] = (4 * d2 - d1) / 3
        assert _rel(fd, g) < 1e-6, (variant, k, _rel(fd, g))


def _tangent_derivative(fwd, directions, variant):
    """Independent forward-mode (JVP) derivative of the loss along ``directions`` (one per connection)."""
    p, T, n_d = fwd.params, fwd.n_steps, fwd.params.n_delay
    a_syn, c_m = p.decay(p.tau_syn_s), p.dt_s / p.tau_mem_s
    d_pre = np.zeros_like(fwd.inputs)
    for l, (W, D) in enumerate(zip(fwd.weights, directions), start=1):
        dA = np.concatenate([np.zeros((n_d, W.shape[1])), d_pre])[:T]
        G, rho, sp = fwd.gate[l - 1], fwd.reset[l - 1], fwd.sigma_prime[l - 1]
        dI, dU, dS = np.zeros(W.shape[0]), np.zeros(W.shape[0]), np.zeros((T, W.shape[0]))
        for t in range(T):
            dI = a_syn * dI + D @ fwd.arriving[l - 1][t] + W @ dA[t]
            if variant == "free":
                dU = (1 - c_m) * dU + c_m * dI
                dS[t] = sp[t] * dU
            else:
                dUt = G[t] * ((1 - c_m) * dU + c_m * dI)
                dS[t] = sp[t] * dUt
                dU = (1 - rho[t]) * dUt
        d_pre = dS
    de = filters.double_exp(-d_pre, p.tau_rise_s, p.tau_decay_s, p.dt_s)
    return float(p.dt_s * np.sum(fwd.e * de))


@pytest.mark.parametrize("variant", bptt.VARIANTS)
@pytest.mark.parametrize("spike_fn", bptt.SPIKE_FNS)
def test_gradient_matches_forward_mode(variant, spike_fn):
    net, task, p = _engine_setup(4, layers=(20, 6, 4, 3))
    fwd = bptt.forward(net.weights, *bptt.task_window(task, 0, 400), p, spike_fn=spike_fn)
    if spike_fn == "heaviside":
        assert all(s.sum() > 0 for s in fwd.spikes) and all((g == 0).any() for g in fwd.gate)
    grads = bptt.backward(fwd, variant).grads
    rng = np.random.default_rng(0)
    for _ in range(3):
        D = [rng.standard_normal(w.shape) for w in net.weights]
        reverse = sum(float(np.sum(g * d)) for g, d in zip(grads, D))
        assert reverse == pytest.approx(_tangent_derivative(fwd, D, variant), rel=1e-9)


def test_filter_adjoints_are_transposes():
    rng = np.random.default_rng(5)
    x, g = rng.standard_normal((300, 3)), rng.standard_normal((300, 3))
    dt = 1e-4
    for apply, adjoint in (
        (lambda v: filters.exp_trace(v, 5e-3, dt), lambda v: bptt.exp_trace_adjoint(v, 5e-3, dt)),
        (lambda v: filters.follow(v, 10e-3, dt), lambda v: bptt.follow_adjoint(v, 10e-3, dt)),
        (lambda v: filters.double_exp(v, 5e-3, 10e-3, dt), lambda v: bptt.kernel_adjoint(v, 5e-3, 10e-3, dt)),
    ):
        assert np.sum(g * apply(x)) == pytest.approx(np.sum(adjoint(g) * x), rel=1e-12)


def test_free_variant_is_sigma_prime_times_psp_trace():
    """Free membrane: ∂L/∂W_k = Σ_n σ′_l S̄_l z̃_k^T with z̃ the library's PSP trace (SPEC §3)."""
    net, task, p = _engine_setup(6)
    fwd = bptt.forward(net.weights, *bptt.task_window(task, 0, 400), p)
    res = bptt.backward(fwd, "free", return_adjoints=True)
    for k in range(2):
        z_tilde = filters.double_exp(fwd.arriving[k], p.tau_syn_s, p.tau_mem_s, p.dt_s)
        expected = (fwd.sigma_prime[k] * res.spike_adjoint[k]).T @ z_tilde
        assert np.allclose(res.grads[k], expected, rtol=0, atol=1e-10 * np.abs(expected).max())


# --- (b) the output connection: SuperSpike is the free-membrane gradient ------------------

@pytest.mark.parametrize("layers", [(20, 3), (20, 6, 3), (20, 6, 5, 3)])
def test_output_accumulator_equals_free_gradient(layers):
    net, task, p = _engine_setup(7, layers=layers)
    T = 450  # a window shorter than a batch of 500 steps
    run = LiteralEngine(net, task).run(T, record=("m", "e", "lambda", "S"))
    assert run.traces[f"S_{len(layers) - 1}"].sum() > 0
    res = bptt.bptt_gradients(net.weights, *bptt.task_window(task, 0, T), p, variant="free")
    k = len(layers) - 2
    m = run.traces[f"m_{k}"][T - 1]
    assert np.allclose(m, np.einsum("ni,nij->ij", run.traces[f"e_{k + 1}"], run.traces[f"lambda_{k}"]), rtol=1e-12, atol=0)
    got = res.accumulator_equivalent()[k]
    assert np.max(np.abs(got - m)) <= 1e-9 * np.max(np.abs(m))
    if len(layers) > 2:  # hidden connections: an approximation, not the gradient
        assert bptt.cosine_similarity(res.accumulator_equivalent()[0], run.traces["m_0"][T - 1]) < 0.99


# --- (c) without spikes the variants coincide ---------------------------------------------

def test_variants_identical_without_spikes():
    net, task, p = _engine_setup(8, layers=(20, 6, 3), w0_V=0.01)
    fwd = bptt.forward(net.weights, *bptt.task_window(task, 0, 400), p)
    assert all(s.sum() == 0 for s in fwd.spikes)
    free, detached = bptt.backward(fwd, "free").grads, bptt.backward(fwd, "detached_reset").grads
    assert np.abs(free[0]).max() > 0  # silent hidden units: only the input connection has a gradient
    for a, b in zip(free, detached):
        assert np.array_equal(a, b)


def test_variants_differ_with_spikes():
    net, task, p = _engine_setup(8, layers=(20, 6, 3), w0_V=0.3)
    fwd = bptt.forward(net.weights, *bptt.task_window(task, 0, 400), p)
    free, detached = bptt.backward(fwd, "free").grads, bptt.backward(fwd, "detached_reset").grads
    assert not np.allclose(free[-1], detached[-1])


# --- argument checks ------------------------------------------------------------------------

def test_invalid_arguments():
    net, task, p = _engine_setup(9)
    x, y = bptt.task_window(task, 0, 50)
    with pytest.raises(ValueError, match="spike_fn"):
        bptt.forward(net.weights, x, y, p, spike_fn="relu")
    with pytest.raises(ValueError, match="inputs"):
        bptt.forward(net.weights, x[:, :5], y, p)
    with pytest.raises(ValueError, match="same number of steps"):
        bptt.forward(net.weights, x, y[:10], p)
    with pytest.raises(TypeError, match="weights"):
        bptt.forward([w.astype(np.float32) for w in net.weights], x, y, p)
    with pytest.raises(TypeError, match="initial_state"):
        bptt.forward(net.weights, x, y, p, initial_state=bptt.WindowState.rest((20, 3), p))
    with pytest.raises(TypeError, match="LiteralEngine"):
        bptt.WindowState.from_engine(object())
    fwd = bptt.forward(net.weights, x, y, p)
    with pytest.raises(ValueError, match="variant"):
        bptt.backward(fwd, "attached")


def test_rest_state_is_spec_initial_state():
    p = Params()
    state = bptt.WindowState.rest((10, 4, 2), p)
    assert [s.U_V.tolist() for s in state.lif] == [[p.u_rest_V] * 4, [p.u_rest_V] * 2]
    assert [h.shape for h in state.history] == [(p.n_delay, 10), (p.n_delay, 4)]
    assert all(s.r.sum() == 0 and s.I_V.sum() == 0 for s in state.lif)

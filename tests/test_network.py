"""Tests of superspike_ref.network: Network validation and the literal engine (SPEC §2-§4, §9)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from superspike_ref import CyclicTask, LiteralEngine, Network, Params, init_weights
from superspike_ref.error import auryn_mse, van_rossum_error, vr_distance
from superspike_ref.filters import exp_trace, follow
from superspike_ref.network import RECORDABLE, check_finite_state
from superspike_ref.optimizers import optimizer_step


def tile(raster: np.ndarray, n_steps: int) -> np.ndarray:
    reps = -(-n_steps // raster.shape[0])
    return np.tile(raster, (reps, 1))[:n_steps]


# --------------------------------------------------------------------------------------
# Network: construction and validation
# --------------------------------------------------------------------------------------

def _weights(layers, dtype=np.float64):
    return tuple(np.zeros((n_post, n_pre), dtype=dtype) for n_pre, n_post in zip(layers[:-1], layers[1:]))


def test_network_defaults():
    net = Network(layers=(4, 3, 2), weights=_weights((4, 3, 2)))
    assert net.feedback == "symmetric" and net.optimizer == "rmaxprop" and net.schedule == ()
    assert net.plastic == (True, True) and net.n_connections == 2 and net.params == Params()


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(weights=(np.zeros((3, 4)),)), ValueError, "weights"),                       # one array too few
        (dict(weights=_weights((4, 3, 2)) + (np.zeros((2, 2)),)), ValueError, "weights"),  # one too many
        (dict(weights=(np.zeros((4, 3)), np.zeros((2, 3)))), ValueError, r"weights\[0\]"),  # transposed
        (dict(weights=(np.zeros((3, 4)), np.zeros((2, 4)))), ValueError, r"weights\[1\]"),
        (dict(weights=_weights((4, 3, 2), np.float32)), TypeError, r"weights\[0\]"),
        (dict(weights=_weights((4, 3, 2), np.int64)), TypeError, r"weights\[0\]"),
        (dict(weights=(np.zeros((3, 4)), [[0.0] * 3] * 2)), TypeError, r"weights\[1\]"),   # a list
        (dict(weights=(np.full((3, 4), np.nan), np.zeros((2, 3)))), ValueError, r"weights\[0\]"),
        (dict(weights=(np.zeros((3, 4)), np.array([[0.0, 0.1, 0.0], [0.0, 0.0, -0.25]]))), ValueError,
         r"^weights\[1\]\[1, 2\] = -0\.25 V is outside \[params\.w_min_V, params\.w_max_V\] = \[-0\.1, 0\.1\] V "
         r"\(1 of 6 entries are\)"),
        (dict(weights=(np.full((3, 4), 27.787), np.zeros((2, 3)))), ValueError, r"weights\[0\]\[0, 0\] = 27\.787 V"),
        (dict(weights=(np.full((3, 4), 0.05), np.zeros((2, 3))), params=Params(w_max_V=0.04)), ValueError,
         r"weights\[0\]\[0, 0\] = 0\.05 V is outside .* = \[-0\.1, 0\.04\] V \(12 of 12"),
        (dict(feedback="transpose"), ValueError, "feedback"),
        (dict(optimizer="adam"), ValueError, "optimizer"),
        (dict(feedback="random"), ValueError, "feedback_matrices"),                        # B missing
        (dict(feedback="uniform", feedback_matrices=()), ValueError, "feedback_matrices"),
        (dict(feedback="random", feedback_matrices=(np.zeros((3, 2)),)), ValueError, "B_1"),  # transposed B
        (dict(feedback="random", feedback_matrices=(np.zeros((2, 3), np.float32),)), TypeError, "B_1"),
        (dict(feedback_matrices=(np.zeros((2, 3)),)), ValueError, "symmetric"),
        (dict(schedule=((1.0, 1.0), (0.5, 0.1))), ValueError, "schedule"),
        (dict(t_burn_s=-1.0), ValueError, "t_burn_s"),
        (dict(t_burn_s=np.nan), ValueError, "t_burn_s"),
        (dict(plastic=(True,)), ValueError, "plastic"),
        (dict(params={"dt_s": 1e-4}), TypeError, "params"),
        (dict(layers=(4,), weights=()), ValueError, "layers"),
        (dict(layers=(4, 0, 2)), ValueError, "layers"),
    ],
)
def test_network_rejects(kwargs, exc, match):
    values = dict(layers=(4, 3, 2), weights=_weights((4, 3, 2)))
    values.update(kwargs)
    with pytest.raises(exc, match=match):
        Network(**values)


def test_weights_at_the_bounds_are_accepted():
    W = np.array([[-0.1, 0.1, 0.0]])
    assert Network(layers=(3, 1), weights=(W,)).weights[0] is W
    with pytest.raises(ValueError, match=r"weights\[0\]\[0, 1\] = 0\.1 V"):
        Network(layers=(3, 1), weights=(W,), params=Params(w_max_V=0.0999))


def test_init_weights_statistics_and_clipping():
    rng = np.random.default_rng(0)
    W0, W1 = init_weights((400, 300, 2), rng, w0_V=0.05)
    assert W0.shape == (300, 400) and W1.shape == (2, 300) and W0.dtype == np.float64
    assert W0.std() == pytest.approx(0.05 / np.sqrt(400), rel=0.01)
    assert abs(W0.mean()) < 1e-4
    (W,) = init_weights((4, 1000), np.random.default_rng(1), w0_V=1.0)   # s.d. 0.5: many clipped
    assert W.max() == 0.1 and W.min() == -0.1 and np.mean(np.abs(W) == 0.1) > 0.5
    with pytest.raises(TypeError, match="rng"):
        init_weights((4, 2), 0)


def test_create_is_seeded():
    a = Network.create((10, 4, 2), np.random.default_rng(3), feedback="random")
    b = Network.create((10, 4, 2), np.random.default_rng(3), feedback="random")
    c = Network.create((10, 4, 2), np.random.default_rng(4), feedback="random")
    for x, y, z in zip(a.weights + a.feedback_matrices, b.weights + b.feedback_matrices, c.weights + c.feedback_matrices):
        np.testing.assert_array_equal(x, y)
        assert not np.array_equal(x, z)
    # the weights are drawn first, then B: same weights as init_weights with the same seed
    for x, y in zip(a.weights, init_weights((10, 4, 2), np.random.default_rng(3))):
        np.testing.assert_array_equal(x, y)
    assert Network.create((10, 4, 2), np.random.default_rng(3)).feedback_matrices is None


# --------------------------------------------------------------------------------------
# Engine: inputs
# --------------------------------------------------------------------------------------

def _task(n_cycle=100, n_in=4, n_out=2):
    return CyclicTask(input=np.zeros((n_cycle, n_in), bool), target=np.zeros((n_cycle, n_out), bool))


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.float64])
def test_task_rejects_non_boolean_rasters(dtype):
    """0/1 arrays of another dtype are rejected, not coerced."""
    good = np.zeros((100, 2), bool)
    ones_and_zeros = (np.random.default_rng(0).random((100, 4)) < 0.3).astype(dtype)
    with pytest.raises(TypeError, match="input"):
        CyclicTask(input=ones_and_zeros, target=good)
    with pytest.raises(TypeError, match="target"):
        CyclicTask(input=np.zeros((100, 4), bool), target=ones_and_zeros[:, :2].copy())


def test_task_rejects_period_mismatch_and_shapes():
    with pytest.raises(ValueError, match="period"):
        CyclicTask(input=np.zeros((100, 4), bool), target=np.zeros((99, 2), bool))
    with pytest.raises(ValueError, match="input"):
        CyclicTask(input=np.zeros(100, bool), target=np.zeros((100, 2), bool))
    with pytest.raises(TypeError, match="input"):
        CyclicTask(input=[[True]], target=np.zeros((1, 1), bool))


def test_engine_rejects_mismatched_task():
    net = Network(layers=(4, 3, 2), weights=_weights((4, 3, 2)))
    with pytest.raises(ValueError, match="target"):
        LiteralEngine(net, _task(n_out=3))
    with pytest.raises(ValueError, match="input"):
        LiteralEngine(net, _task(n_in=5))
    with pytest.raises(TypeError, match="task"):
        LiteralEngine(net, (np.zeros((100, 4), bool), np.zeros((100, 2), bool)))
    with pytest.raises(TypeError, match="network"):
        LiteralEngine("net", _task())


def test_record_unknown_name():
    eng = LiteralEngine(Network(layers=(4, 3, 2), weights=_weights((4, 3, 2))), _task())
    with pytest.raises(ValueError, match="voltage"):
        eng.run(10, record=("S", "voltage"))
    fixed = LiteralEngine(Network(layers=(4, 2), weights=_weights((4, 2)), optimizer="fixed"), _task())
    with pytest.raises(ValueError, match="'v'"):
        fixed.run(10, record=("v",))
    assert fixed.run(10, record="S").traces["S_1"].shape == (10, 2)   # a single name as a str


# --------------------------------------------------------------------------------------
# Engine: recording (SPEC §9)
# --------------------------------------------------------------------------------------

def test_recording_shapes_and_dtypes(small_hidden_setup):
    net, task = small_hidden_setup(0, layers=(20, 5, 2))
    n_steps = 350  # 3 updates of 100 steps and a trailing partial batch
    res = LiteralEngine(net, task).run(n_steps, record=RECORDABLE)
    tr = res.traces
    sizes = {1: 5, 2: 2}
    expected = {}
    for l, n in sizes.items():
        for name in ("U_tilde", "S", "I", "sigma_prime", "e"):
            expected[f"{name}_{l}"] = (n_steps, n)
    for k, (n_pre, n_post) in enumerate([(20, 5), (5, 2)]):
        expected[f"z_{k}"] = expected[f"z_tilde_{k}"] = (n_steps, n_pre)
        expected[f"lambda_{k}"] = expected[f"m_{k}"] = (n_steps, n_post, n_pre)
        expected[f"W_{k}"] = (3 + 1, n_post, n_pre)
        expected[f"v_{k}"] = (3, n_post, n_pre)
    assert {k: v.shape for k, v in tr.items()} == expected
    assert tr["S_1"].dtype == np.bool_ and tr["S_2"].dtype == np.bool_
    assert all(v.dtype == np.float64 for k, v in tr.items() if not k.startswith("S_"))
    assert res.n_steps == n_steps and res.t_start_s == 0.0
    # W_k[0] is the initial weight
    np.testing.assert_array_equal(tr["W_0"][0], net.weights[0])
    np.testing.assert_array_equal(tr["W_1"][0], net.weights[1])


def test_recording_nothing_and_no_update():
    res = LiteralEngine(Network(layers=(4, 2), weights=_weights((4, 2))), _task()).run(20, record=("W", "v"))
    assert set(res.traces) == {"W_0", "v_0"}
    assert res.traces["W_0"].shape == (1, 2, 4) and res.traces["v_0"].shape == (0, 2, 4)
    assert LiteralEngine(Network(layers=(4, 2), weights=_weights((4, 2))), _task()).run(5).traces == {}


# --------------------------------------------------------------------------------------
# Engine: semantics
# --------------------------------------------------------------------------------------

def test_delay_and_replay():
    """An input spike at step s reaches z at step s + n_d; the input is replayed every cycle."""
    p = Params()
    inp = np.zeros((50, 1), bool)
    inp[3, 0] = True
    task = CyclicTask(input=inp, target=np.zeros((50, 1), bool))
    net = Network(layers=(1, 1), weights=(np.array([[0.05]]),), params=p)
    tr = LiteralEngine(net, task).run(150, record=("z", "I")).traces
    arriving = np.zeros((150, 1))
    arriving[[3 + p.n_delay, 53 + p.n_delay, 103 + p.n_delay]] = 1
    np.testing.assert_allclose(tr["z_0"], exp_trace(arriving, p.tau_syn_s, p.dt_s), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(tr["I_1"], 0.05 * tr["z_0"], rtol=1e-13, atol=1e-16)
    assert tr["z_0"][3 + p.n_delay - 1, 0] == 0 and tr["z_0"][3 + p.n_delay, 0] == 1.0
    # no delay
    net0 = Network(layers=(1, 1), weights=(np.array([[0.05]]),), params=Params(delay_s=0.0))
    assert LiteralEngine(net0, task).run(10, record="z").traces["z_0"][3, 0] == 1.0


def test_free_membrane_identity_in_engine():
    """Without spikes (θ = 1 V): Ũ - u_rest = W z̃ and I = W z for the delayed input."""
    p = Params(theta_V=1.0)
    rng = np.random.default_rng(8)
    task = CyclicTask(input=rng.random((400, 10)) < 0.02, target=np.zeros((400, 3), bool))
    net = Network.create((10, 3), rng, p, w0_V=0.2)
    tr = LiteralEngine(net, task).run(1000, record=("U_tilde", "I", "z", "z_tilde", "S")).traces
    assert not tr["S_1"].any()
    W = net.weights[0]
    np.testing.assert_allclose(tr["I_1"], tr["z_0"] @ W.T, rtol=0, atol=1e-14)
    np.testing.assert_allclose(tr["U_tilde_1"] - p.u_rest_V, tr["z_tilde_0"] @ W.T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(tr["z_tilde_0"], follow(tr["z_0"], p.tau_mem_s, p.dt_s), rtol=1e-12, atol=1e-15)


def test_output_error_is_kernel_of_target_minus_output(small_hidden_setup):
    net, task = small_hidden_setup(0, layers=(20, 5, 2), w0_V=0.4)
    tr = LiteralEngine(net, task).run(900, record=("S", "e")).traces
    assert tr["S_2"].any()
    impulses = tile(task.target, 900).astype(float) - tr["S_2"]
    np.testing.assert_allclose(tr["e_2"], van_rossum_error(impulses, net.params), rtol=1e-12, atol=1e-15)


def test_weight_update_from_accumulator(small_hidden_setup):
    """At the end of step n with (n+1) % n_b == 0: w from the optimiser applied to m (before reset); m = 0 after."""
    net, task = small_hidden_setup(2, layers=(20, 5, 2), w0_V=0.4)
    p = net.params
    tr = LiteralEngine(net, task).run(300, record=("e", "lambda", "m", "W", "v")).traces
    n_b = p.n_batch
    for k, e_key in ((0, "e_1"), (1, "e_2")):
        m, lam, e = tr[f"m_{k}"], tr[f"lambda_{k}"], tr[e_key]
        v = np.zeros_like(net.weights[k])
        for u in range(3):
            end = (u + 1) * n_b - 1
            np.testing.assert_array_equal(m[end], 0.0)
            m_full = m[end - 1] + e[end][:, None] * lam[end]
            w_new, v = optimizer_step("rmaxprop", tr[f"W_{k}"][u], m_full, v, n_b, p.r0, p)
            np.testing.assert_allclose(tr[f"W_{k}"][u + 1], w_new, rtol=1e-9, atol=1e-15)
            np.testing.assert_allclose(tr[f"v_{k}"][u], v, rtol=1e-9, atol=1e-30)
            assert np.all(np.abs(tr[f"W_{k}"][u + 1] - tr[f"W_{k}"][u]) <= p.r0 * (1 + 1e-12))
            assert np.max(np.abs(tr[f"W_{k}"][u + 1] - tr[f"W_{k}"][u])) > 0.5 * p.r0
        # between updates the accumulator only sums
        np.testing.assert_allclose(m[1:n_b - 1], m[: n_b - 2] + e[1:n_b - 1][:, :, None] * lam[1:n_b - 1], rtol=1e-12, atol=1e-18)


def test_schedule_uses_time_of_last_step(small_hidden_setup):
    """The update at the end of step n uses t = n dt: step 99 → t = 9.9 ms (< 9.95 ms), step 199 → 19.9 ms."""
    net, task = small_hidden_setup(2, layers=(20, 5, 2), w0_V=0.4)
    net = dataclasses.replace(net, schedule=((0.00995, 0.0),))
    W = LiteralEngine(net, task).run(300, record="W").traces["W_1"]
    assert not np.array_equal(W[1], W[0])      # factor 1 before the first entry
    np.testing.assert_array_equal(W[2], W[1])  # factor 0 from t = 9.95 ms on
    np.testing.assert_array_equal(W[3], W[1])


def test_burn_in_and_fixed_connections(small_hidden_setup):
    net, task = small_hidden_setup(2, layers=(20, 5, 2), w0_V=0.4)
    burn = dataclasses.replace(net, t_burn_s=0.02)   # updates at t = 9.9 and 19.9 ms are frozen
    tr = LiteralEngine(burn, task).run(300, record=("W", "v", "m")).traces
    for k in (0, 1):
        np.testing.assert_array_equal(tr[f"W_{k}"][1], tr[f"W_{k}"][0])
        np.testing.assert_array_equal(tr[f"W_{k}"][2], tr[f"W_{k}"][0])
        assert not np.array_equal(tr[f"W_{k}"][3], tr[f"W_{k}"][0])
        assert np.any(tr[f"v_{k}"][0] > 0) and np.any(tr[f"v_{k}"][1] != tr[f"v_{k}"][0])  # v updated during burn-in
        np.testing.assert_array_equal(tr[f"m_{k}"][[99, 199, 299]], 0.0)  # m reset during burn-in too
    # the same run without burn-in: v of the first update is identical (burn-in updates count)
    free = LiteralEngine(net, task).run(100, record="v").traces
    np.testing.assert_array_equal(free["v_0"][0], tr["v_0"][0])
    # a non-plastic hidden connection keeps its weights, the output learns
    fixed_hidden = dataclasses.replace(net, plastic=(False, True))
    tr = LiteralEngine(fixed_hidden, task).run(300, record=("W", "m")).traces
    assert np.all(tr["W_0"] == net.weights[0])
    assert not np.array_equal(tr["W_1"][-1], net.weights[1])
    np.testing.assert_array_equal(tr["m_0"][[99, 199, 299]], 0.0)


def test_weights_stay_in_bounds():
    p = Params(t_batch_s=0.005, r0=0.02, w_min_V=-0.03, w_max_V=0.04)
    rng = np.random.default_rng(5)
    task = CyclicTask(input=rng.random((200, 10)) < 0.05, target=rng.random((200, 2)) < 0.01)
    net = Network.create((10, 2), rng, p, w0_V=0.3)
    W = LiteralEngine(net, task).run(1000, record="W").traces["W_0"]
    assert W.min() >= -0.03 and W.max() <= 0.04
    assert np.any(W[1:] == 0.04) or np.any(W[1:] == -0.03)


def test_continuation_equals_one_run(small_hidden_setup):
    net, task = small_hidden_setup(4, layers=(20, 5, 2), w0_V=0.4)
    record = tuple(RECORDABLE)
    whole = LiteralEngine(net, task).run(700, record=record)
    eng = LiteralEngine(net, task)
    first = eng.run(250, record=record)   # splits a batch (n_b = 100) and a cycle (300)
    second = eng.run(450, record=record)
    assert second.t_start_s == pytest.approx(0.025)
    for key, full in whole.traces.items():
        if key.startswith(("W_", "v_")):
            joined = np.concatenate([first.traces[key], second.traces[key][1:] if key.startswith("W_") else second.traces[key]])
        else:
            joined = np.concatenate([first.traces[key], second.traces[key]])
        np.testing.assert_array_equal(joined, full, err_msg=key)
    assert whole.traces["S_2"].any()
    np.testing.assert_array_equal(np.concatenate([first.vr_distance, second.vr_distance]), whole.vr_distance)
    np.testing.assert_array_equal(np.concatenate([first.auryn_mse, second.auryn_mse]), whole.auryn_mse)
    np.testing.assert_array_equal(np.concatenate([first.cycle_end_s, second.cycle_end_s]), whole.cycle_end_s)


def test_run_result_costs(small_hidden_setup):
    net, task = small_hidden_setup(6, layers=(20, 5, 2), w0_V=0.4)
    p = net.params
    res = LiteralEngine(net, task).run(1000, record=("e",))   # 3 full cycles of 300 steps and a partial one
    np.testing.assert_allclose(res.cycle_end_s, [0.03, 0.06, 0.09], rtol=1e-12)
    e = res.traces["e_2"]
    for c in range(3):
        per = vr_distance(e[300 * c:300 * (c + 1)], p, per_neuron=True)
        np.testing.assert_allclose(res.vr_distance_per_neuron[c], per, rtol=1e-10)
        assert res.vr_distance[c] == pytest.approx(per.mean(), rel=1e-10)
    assert res.vr_distance_per_neuron.shape == (3, 2)
    np.testing.assert_allclose(res.auryn_mse, auryn_mse(e, p)[[299, 599, 899]], rtol=1e-10)
    assert np.all(res.vr_distance > 0)


def test_determinism():
    """Same seed: bitwise identical spikes and weights; another seed: different."""

    def run(seed):
        rng = np.random.default_rng(seed)
        p = Params(t_batch_s=0.01, r0=2e-3)
        inp = rng.random((400, 20)) < 40 * p.dt_s
        tgt = rng.random((400, 2)) < 10 * p.dt_s
        net = Network.create((20, 5, 2), rng, p, feedback="random", w0_V=0.4)
        return LiteralEngine(net, CyclicTask(input=inp, target=tgt)).run(600, record=("S", "W", "U_tilde")).traces

    a, b, c = run(10), run(10), run(11)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert a["S_1"].any() and a["S_2"].any()
    assert a["W_0"].shape[0] == 7 and not np.array_equal(a["W_0"][0], a["W_0"][-1])
    assert not np.array_equal(a["S_1"], c["S_1"])
    assert not np.array_equal(a["W_1"][-1], c["W_1"][-1])


def test_learning_fig2_short():
    """Shortened Fig 2: one neuron, 100 inputs at 5 Hz, 5 target spikes; the distance falls.

    About 30 cycles of 0.5 s (150 000 steps, ~5 s). Seed fixed; the initial weights give no
    output spike in the first cycle (the paper's initial condition).
    """
    p = Params()
    rng = np.random.default_rng(2)
    inp = rng.random((5000, 100)) < 5 * p.dt_s
    tgt = np.zeros((5000, 1), bool)
    tgt[[830, 1660, 2490, 3320, 4150], 0] = True
    net = Network.create((100, 1), rng, p)
    eng = LiteralEngine(net, CyclicTask(input=inp, target=tgt))
    first = eng.run(5000, record="S")
    assert not first.traces["S_1"].any()
    assert first.vr_distance[0] == pytest.approx(5.0, abs=1e-2)   # five missing spikes (83 ms apart: overlap 4e-3)
    rest = eng.run(29 * 5000)
    vr = np.concatenate([first.vr_distance, rest.vr_distance])
    assert vr.shape == (30,)
    assert vr[-10:].mean() < 0.5 * vr[:3].mean()


def test_concat_results_equals_one_run():
    from superspike_ref.network import concat_results

    rng = np.random.default_rng(11)
    params = Params(t_batch_s=0.01)
    task = CyclicTask(input=rng.random((700, 10)) < 0.02, target=rng.random((700, 2)) < 0.002)
    net = Network.create((10, 4, 2), rng, params, feedback="random")
    keys = ["S", "e", "W", "v"]
    whole = LiteralEngine(net, task).run(2500, record=keys)
    engine = LiteralEngine(net, task)
    joined = concat_results([engine.run(n, record=keys) for n in (333, 1200, 967)])
    assert set(joined.traces) == set(whole.traces)
    for key, value in whole.traces.items():
        assert np.array_equal(joined.traces[key], value), key
    assert np.array_equal(joined.vr_distance, whole.vr_distance) and joined.n_steps == 2500
    with pytest.raises(ValueError):
        concat_results([])


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_run_rejects_bad_step_counts(bad, error):
    rng = np.random.default_rng(0)
    task = CyclicTask(input=rng.random((100, 3)) < 0.1, target=np.zeros((100, 1), dtype=bool))
    engine = LiteralEngine(Network.create((3, 1), rng), task)
    with pytest.raises(error, match="n_steps"):
        engine.run(bad)


# --------------------------------------------------------------------------------------
# optional error gate of hidden-layer accumulation (Params.e_gate, original code)
# --------------------------------------------------------------------------------------

def test_error_gate_accumulator_against_hand_loop(small_hidden_setup):
    """With e_gate > 0: m_0[n] = Σ_{n'≤n} [|e_1| ≥ gate] (e λ - ρ w zh^a); the output connection is not gated."""
    rho, gate = 0.5, 0.05
    net, task = small_hidden_setup(11, layers=(12, 6, 2), feedback="random", w0_V=0.5, rho=rho, a=2.0,
                                   t_batch_s=0.05, e_gate=gate)
    p = net.params
    tr = LiteralEngine(net, task).run(400, record=("S", "e", "lambda", "m")).traces  # < one batch: w fixed
    zh = exp_trace(tr["S_1"], p.tau_het_s, p.dt_s)  # advances every step, gated or not
    assert tr["S_1"].sum() >= 5
    W0 = net.weights[0]
    open_ = np.abs(tr["e_1"]) >= gate
    assert 0.1 < np.mean(open_[np.abs(tr["e_1"]) > 0]) < 0.9  # the gate masks a good fraction, not all
    inc0 = open_[:, :, None] * (tr["e_1"][:, :, None] * tr["lambda_0"] - rho * W0[None] * (zh**p.a)[:, :, None])
    m0, m1 = np.cumsum(inc0, axis=0), np.cumsum(tr["e_2"][:, :, None] * tr["lambda_1"], axis=0)
    np.testing.assert_allclose(tr["m_0"], m0, rtol=1e-9, atol=1e-12 * np.max(np.abs(m0)))
    np.testing.assert_allclose(tr["m_1"], m1, rtol=1e-9, atol=1e-12 * np.max(np.abs(m1)))
    ungated = LiteralEngine(dataclasses.replace(net, params=p.replace(e_gate=0.0)), task).run(400, record=("m",)).traces
    assert not np.allclose(ungated["m_0"], tr["m_0"])  # the gate is not a no-op
    np.testing.assert_array_equal(ungated["m_1"], tr["m_1"])  # same spikes, output layer untouched


def test_error_gate_closed_freezes_hidden_weights_only(small_hidden_setup):
    """A gate above every error: hidden m stays 0 and hidden weights never change, the output still learns."""
    net, task = small_hidden_setup(5, layers=(20, 5, 2), feedback="random", w0_V=0.5, rho=0.5, e_gate=1e9)
    eng = LiteralEngine(net, task)
    tr = eng.run(1000, record=("S", "e", "m", "W")).traces  # ten updates
    assert tr["S_1"].sum() > 0 and np.abs(tr["e_1"]).max() > 0
    assert np.all(tr["m_0"] == 0.0)
    assert np.all(tr["W_0"] == net.weights[0])
    assert not np.array_equal(tr["W_1"][-1], net.weights[1])
    assert np.any(eng.zh[0] > 0)  # the het trace still runs



def test_check_finite_state_names_connection_step_quantity_and_entry():
    ok = np.zeros((2, 3))
    check_finite_state(9, 0, (("m", ok), ("v", ok)))
    bad = ok.copy()
    bad[1, 2] = -np.inf
    with pytest.raises(FloatingPointError, match=r"^connection k=4: v\[1, 2\] = -inf is not finite at the weight "
                                                 r"update after step n=99;"):
        check_finite_state(99, 4, (("m", ok), ("v", bad), ("W", bad * np.nan)))   # the first in order is named
    with pytest.raises(FloatingPointError, match=r"^connection k=0: m\[2, 1\] = nan"):
        check_finite_state(5, 0, (("m", np.where(bad.T == -np.inf, np.nan, 0.0)),))  # a transposed view


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf * 0 in W @ spikes
def test_literal_engine_stops_at_the_first_update_with_a_non_finite_weight(small_hidden_setup):
    net, task = small_hidden_setup(0, layers=(20, 5, 2))
    eng = LiteralEngine(net, task)
    eng.run(150)                                          # one update done, the next at the end of step 199
    eng.weights[0][2, 7] = np.inf
    with pytest.raises(FloatingPointError, match=r"connection k=0: \w+\[2, \d+\] = \S+ is not finite .* step n=199;"):
        eng.run(500)
    assert eng.step_index == 199                          # stopped there

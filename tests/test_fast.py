"""Tests of superspike_ref.fast: the fast exact engine against the literal engine (SPEC §8, §9).

The literal engine is the oracle. Every comparison asks for identical spikes and agreement
to rtol 1e-9 with a key-wide atol of 1e-10 max|expected| (SPEC §9) for every recorded trace,
the weights, the optimiser state ``v``, the accumulator ``m`` and the learning curves.
Short batches (5-25 ms) make many updates happen in a few thousand steps (SPEC §9 allows it).
"""
from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pytest

from superspike_ref import CyclicTask, LiteralEngine, Network, Params, RunResult
from superspike_ref.fast import FAST_RECORDABLE, BatchFastEngine, FastEngine, _add_spike_sum
from superspike_ref.fast_filters import (
    block_buffer,
    end_state,
    first_order,
    kernel_adjoint_blocked,
    kernel_filter,
    kernel_filter_adjoint,
    kernel_sequence,
)
from superspike_ref.filters import double_exp_step, kernel_impulse_response
from superspike_ref.tasks import frozen_poisson
from superspike_ref.validation import compare_traces, load_case

CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance"


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------

def make_case(seed, layers, feedback="symmetric", rate_Hz=30.0, target_Hz=10.0, n_cycle=700, w0_V=0.3,
              params=None, **options):
    """A network and a frozen-Poisson task, all drawn from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    values = dict(t_batch_s=0.01, r0=0.002)
    values.update(params or {})
    p = Params(**values)
    net = Network.create(layers, rng, p, feedback=feedback, w0_V=w0_V, **options)
    task = CyclicTask(
        frozen_poisson(rng, layers[0], rate_Hz, n_cycle * p.dt_s, p.dt_s),
        frozen_poisson(rng, layers[-1], target_Hz, n_cycle * p.dt_s, p.dt_s),
    )
    return net, task


def record_for(net: Network) -> tuple:
    return tuple(r for r in FAST_RECORDABLE if not (r == "v" and net.optimizer == "fixed"))


def close(cand, exp) -> bool:
    cand, exp = np.asarray(cand), np.asarray(exp)
    if cand.shape != exp.shape:
        return False
    atol = 1e-10 * (np.max(np.abs(exp)) if exp.size else 0.0)
    return bool(np.all(np.abs(cand - exp) <= 1e-9 * np.abs(exp) + atol))


def assert_same(fast: RunResult, lit: RunResult, fast_state, lit_engine: LiteralEngine) -> None:
    """Traces (spikes exactly), learning curves and engine state of one run agree (SPEC §9)."""
    report = compare_traces(fast.traces, lit.traces)
    bad = {k: v for k, v in report.items() if not v["ok"]}
    assert not bad, f"traces out of tolerance: {bad}"
    assert set(fast.traces) == set(lit.traces)
    assert fast.t_start_s == lit.t_start_s and fast.n_steps == lit.n_steps
    np.testing.assert_array_equal(fast.cycle_end_s, lit.cycle_end_s)
    for name in ("vr_distance", "vr_distance_per_neuron", "auryn_mse"):
        assert close(getattr(fast, name), getattr(lit, name)), name
    weights, v, m = fast_state
    for k in range(len(lit_engine.weights)):
        assert close(weights[k], lit_engine.weights[k]), f"W_{k}"
        assert close(v[k], lit_engine.v[k]), f"v_{k}"
        assert close(m[k], lit_engine.m[k]), f"m_{k}"


def run_both(net, task, chunks, record=None, **fast_options):
    """Run the literal and the fast engine with the same run() splits; compare after every call."""
    record = record_for(net) if record is None else record
    lit, fast = LiteralEngine(net, task), FastEngine(net, task, **fast_options)
    results = []
    for n in chunks:
        r_lit, r_fast = lit.run(n, record=record), fast.run(n, record=record)
        assert_same(r_fast, r_lit, (fast.weights, fast.v, fast.m), lit)
        assert fast.step_index == lit.step_index
        results.append(r_lit)
    return results


def spike_count(results) -> int:
    return sum(int(v.sum()) for r in results for k, v in r.traces.items() if k.startswith("S_"))


# --------------------------------------------------------------------------------------
# equivalence with the literal engine
# --------------------------------------------------------------------------------------

CONFIGS = {
    "single-delay8-rmaxprop": dict(layers=(20, 1), params=dict(t_batch_s=0.01)),
    "single-delay0-rmsprop-ucut": dict(layers=(20, 2), optimizer="rmsprop",
                                       params=dict(delay_s=0.0, u_cut_V=-0.061, tau_rms_s=0.2, t_batch_s=0.025)),
    "hidden-symmetric-burnin-schedule": dict(layers=(20, 6, 3), t_burn_s=0.02,
                                             schedule=((0.0, 1.0), (0.05, 0.5), (0.1, 2.0))),
    "hidden-random-regulariser": dict(layers=(24, 8, 3), feedback="random", params=dict(rho=0.2)),
    "hidden-uniform-delay1-fixed-frozen-hidden": dict(layers=(16, 7, 2), feedback="uniform", optimizer="fixed",
                                                      plastic=(False, True), params=dict(delay_s=1e-4)),
    "two-hidden-symmetric-regulariser": dict(layers=(15, 6, 5, 3), params=dict(rho=0.3, t_batch_s=0.005)),
    "two-hidden-random-delay0-rmsprop": dict(layers=(15, 6, 5, 3), feedback="random", optimizer="rmsprop",
                                             plastic=(True, False, True), params=dict(delay_s=0.0)),
    "two-hidden-uniform-delay3-ucut": dict(layers=(12, 5, 4, 2), feedback="uniform",
                                           params=dict(delay_s=3e-4, u_cut_V=-0.07)),
    "no-refractory-period": dict(layers=(10, 5, 3), w0_V=0.4, target_Hz=30.0, params=dict(t_ref_s=0.0)),
    "rest-above-threshold": dict(layers=(10, 4, 2), feedback="random", params=dict(u_rest_V=-0.045)),
    "one-step-refractory-fixed": dict(layers=(8, 3), optimizer="fixed", w0_V=1.0, params=dict(t_ref_s=1e-4, delay_s=1e-4)),
    "odd-batch-delay5": dict(layers=(25, 10, 1), params=dict(delay_s=5e-4, t_batch_s=0.0123), schedule=((0.03, 0.3),)),
    "high-rate": dict(layers=(30, 12, 4), w0_V=1.0, rate_Hz=100.0, params=dict(rho=0.1)),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_equivalence_named_configurations(name):
    config = dict(CONFIGS[name])
    seed = sum(map(ord, name))
    net, task = make_case(seed, config.pop("layers"), n_cycle=650, **config)
    results = run_both(net, task, [700, 333, 1, 966])
    assert spike_count(results) > 0


def random_config(rng: np.random.Generator) -> dict:
    n_hidden = int(rng.integers(0, 3))
    layers = (int(rng.integers(3, 30)),) + tuple(int(rng.integers(2, 12)) for _ in range(n_hidden)) + (int(rng.integers(1, 5)),)
    params = dict(
        delay_s=int(rng.choice([0, 1, 8, 3])) * 1e-4,
        t_ref_s=float(rng.choice([5e-3, 0.0, 1e-4, 2e-3])),
        t_batch_s=float(rng.choice([0.005, 0.0123, 0.02])),
        rho=float(rng.choice([0.0, 0.3])),
        u_cut_V=[None, -0.07][int(rng.integers(2))],
    )
    if rng.random() < 0.15:
        params["u_rest_V"] = -0.045
    return dict(
        layers=layers,
        feedback=str(rng.choice(["symmetric", "random", "uniform"])),
        optimizer=str(rng.choice(["rmaxprop", "rmsprop", "fixed"])),
        schedule=((0.0, 1.0), (0.05, 0.5)) if rng.random() < 0.5 else (),
        t_burn_s=float(rng.choice([0.0, 0.02])),
        plastic=tuple(bool(rng.random() < 0.8) for _ in range(len(layers) - 1)),
        w0_V=float(rng.choice([0.05, 0.3, 1.0])),
        rate_Hz=float(rng.choice([5.0, 30.0, 100.0])),
        n_cycle=int(rng.integers(300, 1200)),
        params=params,
    )


@pytest.mark.parametrize("seed", range(8))
def test_equivalence_random_configurations(seed):
    rng = np.random.default_rng(1000 + seed)
    config = random_config(rng)
    net, task = make_case(int(rng.integers(2**31)), config.pop("layers"), **config)
    chunks = [int(x) for x in rng.integers(1, 900, size=3)]
    run_both(net, task, chunks)


def test_batch_ends_inside_refractory_period_and_delay():
    """High rates: batch ends fall inside refractory periods and inside the axonal delay."""
    net, task = make_case(42, (30, 10, 3), w0_V=1.0, rate_Hz=120.0, n_cycle=555,
                          params=dict(t_batch_s=0.0037, rho=0.05))
    p = net.params
    results = run_both(net, task, [37, 501, 1, 999, 462])
    S = {k: np.concatenate([r.traces[k] for r in results]) for k in ("S_1", "S_2")}
    n_total = len(S["S_1"])
    ends = np.arange(p.n_batch - 1, n_total, p.n_batch)
    refractory = [any(S[k][max(e - p.n_ref + 1, 0): e + 1].any() for k in S) for e in ends]
    in_flight = [S["S_1"][max(e - p.n_delay + 1, 0): e + 1].any() for e in ends]
    assert sum(refractory) >= 5 and sum(in_flight) >= 5
    assert S["S_1"].mean() / p.dt_s > 20  # hidden neurons fire at tens of Hz


def test_segment_length_does_not_change_results():
    net, task = make_case(3, (12, 5, 4, 3), w0_V=0.6, rate_Hz=60.0, params=dict(t_batch_s=0.003, rho=0.2))
    for max_segment_steps in (1, 7, 64):
        run_both(net, task, [250, 150], max_segment_steps=max_segment_steps)


# --------------------------------------------------------------------------------------
# the optional error gate of hidden-layer accumulation (Params.e_gate, original code)
# --------------------------------------------------------------------------------------

GATED_CONFIGS = {
    "gate-random-regulariser": dict(layers=(24, 8, 3), feedback="random", params=dict(rho=0.2, e_gate=0.35)),
    "gate-symmetric": dict(layers=(20, 6, 3), params=dict(e_gate=0.015)),
    "gate-two-hidden-symmetric-regulariser": dict(layers=(15, 6, 5, 3),
                                                  params=dict(rho=0.3, t_batch_s=0.005, e_gate=0.01)),
    "gate-two-hidden-random-delay0": dict(layers=(15, 6, 5, 3), feedback="random", params=dict(delay_s=0.0, e_gate=0.2)),
    "gate-uniform-rmsprop-regulariser": dict(layers=(16, 7, 2), feedback="uniform", optimizer="rmsprop",
                                             params=dict(rho=0.1, e_gate=0.07)),
    "gate-original-value-sparse-target": dict(layers=(20, 6, 3), feedback="random", target_Hz=2.0,
                                              params=dict(rho=0.2, e_gate=5e-6)),
}


def _final_weights(results) -> list:
    keys = sorted(k for k in results[-1].traces if k.startswith("W_"))
    return [results[-1].traces[k][-1] for k in keys]


@pytest.mark.parametrize("name", sorted(GATED_CONFIGS))
def test_equivalence_with_error_gate(name):
    """Fast = literal with e_gate > 0, and the gate really masks neuron-steps and changes the hidden weights."""
    config = dict(GATED_CONFIGS[name])
    seed = sum(map(ord, name))
    net, task = make_case(seed, config.pop("layers"), n_cycle=650, **config)
    chunks = [700, 333, 1, 966]
    results = run_both(net, task, chunks)
    gate = net.params.e_gate
    for l in range(1, len(net.layers) - 1):
        e = np.concatenate([r.traces[f"e_{l}"] for r in results])
        masked = np.mean(np.abs(e) < gate)
        assert masked > (0.02 if gate < 1e-4 else 0.2), f"layer {l}: only {masked:.3f} of neuron-steps gated"
    ungated = LiteralEngine(dataclasses.replace(net, params=net.params.replace(e_gate=0.0)), task)
    for n in chunks:
        ungated.run(n)
    gated_w = _final_weights(results)
    for k in range(len(net.layers) - 2):
        assert not np.allclose(gated_w[k], ungated.weights[k], rtol=1e-6, atol=0.0), f"W_{k} unchanged by the gate"


def test_error_gate_segment_length_and_batch():
    """Gated: results do not depend on the segment length, and the batch engine matches separate runs."""
    net, task = make_case(3, (12, 5, 4, 3), w0_V=0.6, rate_Hz=60.0, params=dict(t_batch_s=0.003, rho=0.2, e_gate=0.01))
    for max_segment_steps in (1, 7, 64):
        run_both(net, task, [250, 150], max_segment_steps=max_segment_steps)
    rng = np.random.default_rng(8)
    networks = [Network.create((15, 6, 3), rng, net.params, feedback=fb, w0_V=0.5) for fb in ("symmetric", "random", "uniform")]
    task = CyclicTask(frozen_poisson(rng, 15, 40.0, 0.07, 1e-4), frozen_poisson(rng, 3, 10.0, 0.07, 1e-4))
    record = tuple(r for r in FAST_RECORDABLE if r != "v")
    batch = BatchFastEngine(networks, task, max_segment_steps=300)
    fast_runs = batch.run(1500, record=record)
    engines, literal_runs = _separate_literal_runs(networks, task, [1500], record)
    for b, engine in enumerate(engines):
        assert_same(fast_runs[b], literal_runs[b][0], (batch.weights[b], batch.v[b], batch.m[b]), engine)


# --------------------------------------------------------------------------------------
# the batch axis of networks
# --------------------------------------------------------------------------------------

def _separate_literal_runs(networks, task, chunks, record):
    engines = [LiteralEngine(net, task) for net in networks]
    return engines, [[e.run(n, record=record) for n in chunks] for e in engines]


@pytest.mark.parametrize("layers, delay_s", [((15, 6, 4, 3), 8e-4), ((15, 6, 3), 0.0), ((20, 1), 8e-4)])
def test_batch_matches_separate_literal_runs(layers, delay_s):
    rng = np.random.default_rng(5)
    p = Params(t_batch_s=0.01, r0=0.002, rho=0.1, delay_s=delay_s)
    hidden = len(layers) > 2
    kinds = [
        dict(feedback="symmetric", w0_V=0.3, optimizer="rmaxprop"),
        dict(feedback="random" if hidden else "symmetric", w0_V=0.5, optimizer="rmsprop", t_burn_s=0.02),
        dict(feedback="uniform" if hidden else "symmetric", w0_V=1.0, optimizer="fixed",
             plastic=(False,) + (True,) * (len(layers) - 2)),
        dict(feedback="symmetric", w0_V=0.05, schedule=((0.0, 1.0), (0.03, 0.5))),
    ]
    networks = [Network.create(layers, rng, p, **kind) for kind in kinds]
    task = CyclicTask(frozen_poisson(rng, layers[0], 40.0, 0.07, p.dt_s), frozen_poisson(rng, layers[-1], 10.0, 0.07, p.dt_s))
    record = tuple(r for r in FAST_RECORDABLE if r != "v")
    chunks = [777, 1234]
    batch = BatchFastEngine(networks, task, max_segment_steps=300)
    fast_runs = [batch.run(n, record=record) for n in chunks]
    engines, literal_runs = _separate_literal_runs(networks, task, chunks, record)
    for b, engine in enumerate(engines):
        for i in range(len(chunks)):
            state = (batch.weights[b], batch.v[b], batch.m[b]) if i == len(chunks) - 1 else None
            if state is None:
                report = compare_traces(fast_runs[i][b].traces, literal_runs[b][i].traces)
                assert all(v["ok"] for v in report.values()), report
            else:
                assert_same(fast_runs[i][b], literal_runs[b][i], state, engine)
    assert spike_count([r[-1] for r in literal_runs]) > 0


def test_fast_engine_batch_constructor_and_validation():
    net, task = make_case(1, (10, 4, 2))
    other, _ = make_case(2, (10, 4, 2))
    batch = FastEngine.batch([net, other], task)
    assert isinstance(batch, BatchFastEngine) and batch.n_networks == 2
    results = batch.run(50)
    assert isinstance(results, list) and len(results) == 2 and all(isinstance(r, RunResult) for r in results)
    wrong_sizes, _ = make_case(3, (10, 5, 2))
    with pytest.raises(ValueError, match="layers"):
        BatchFastEngine([net, wrong_sizes], task)
    wrong_params = Network(layers=net.layers, weights=net.weights, params=net.params.replace(r0=0.5))
    with pytest.raises(ValueError, match="params"):
        BatchFastEngine([net, wrong_params], task)
    with pytest.raises(ValueError, match="at least one"):
        BatchFastEngine([], task)
    with pytest.raises(TypeError):
        BatchFastEngine([net, "not a network"], task)


def test_xor_task_matches_literal_engine():
    from superspike_ref.xor import make_xor_task

    rng = np.random.default_rng(3)
    p = Params(t_batch_s=0.02, r0=0.003)
    task = make_xor_task(rng, 20, p, n_in=30, set_sizes=(10, 10, 10), background_Hz=20.0, first_onset_s=0.01,
                         iti_s=(0.03, 0.05), report_every_s=0.1)
    networks = [Network.create((30, 6, 2), rng, p, feedback=fb, w0_V=0.6) for fb in ("random", "symmetric")]
    record = tuple(r for r in FAST_RECORDABLE)
    batch = BatchFastEngine(networks, task, max_segment_steps=333)
    fast_runs = [batch.run(n, record=record) for n in (1500, 1000)]
    for b, net in enumerate(networks):
        lit = LiteralEngine(net, task)
        lit_runs = [lit.run(n, record=record) for n in (1500, 1000)]
        for fast_run, lit_run in zip((r[b] for r in fast_runs), lit_runs):
            report = compare_traces(fast_run.traces, lit_run.traces)
            assert all(v["ok"] for v in report.values()), report
        assert_same(fast_runs[-1][b], lit_runs[-1], (batch.weights[b], batch.v[b], batch.m[b]), lit)


# --------------------------------------------------------------------------------------
# interface
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["lambda", "m"])
def test_refuses_to_record_per_synapse_traces(key):
    net, task = make_case(1, (10, 3))
    engine = FastEngine(net, task)
    with pytest.raises(ValueError, match=f"cannot record.*'{key}'.*LiteralEngine"):
        engine.run(10, record=("S", key))
    assert engine.step_index == 0


def test_record_validation_follows_the_literal_engine():
    net, task = make_case(1, (10, 3), optimizer="fixed")
    engine = FastEngine(net, task)
    with pytest.raises(ValueError, match="'v'"):
        engine.run(10, record=("v",))
    with pytest.raises(ValueError, match="cannot record"):
        engine.run(10, record=("nonsense",))
    with pytest.raises(ValueError, match="n_steps"):
        engine.run(-1)
    with pytest.raises(TypeError, match="n_steps"):
        engine.run(1.5)
    with pytest.raises(TypeError, match="network"):
        FastEngine("network", task)
    with pytest.raises(TypeError, match="task"):
        FastEngine(net, "task")
    with pytest.raises(ValueError, match="input"):
        FastEngine(net, make_case(1, (11, 3))[1])


def test_interface_like_literal_engine():
    net, task = make_case(4, (10, 4, 2))
    fast, lit = FastEngine(net, task), LiteralEngine(net, task)
    assert fast.name == "fast" and fast.network is net and fast.task is task
    empty_fast, empty_lit = fast.run(0, record=("S", "W", "z")), lit.run(0, record=("S", "W", "z"))
    for key, value in empty_lit.traces.items():
        assert empty_fast.traces[key].shape == value.shape and empty_fast.traces[key].dtype == value.dtype
    assert empty_fast.vr_distance_per_neuron.shape == empty_lit.vr_distance_per_neuron.shape
    assert [w.shape for w in fast.weights] == [w.shape for w in lit.weights]
    assert len(fast.v) == len(fast.m) == 2 and fast.step_index == 0
    r = fast.run(1400)
    assert r.cycle_end_s.shape == (2,) and r.vr_distance.shape == (2,) and r.auryn_mse.shape == (2,)
    assert fast.step_index == 1400


# --------------------------------------------------------------------------------------
# public conformance cases (every key but lambda and m)
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("case_name", [
    "public-single-rmsprop-ucut", "public-hidden-symmetric-burnin", "public-hidden-random-regulariser",
])
def test_public_conformance_cases(case_name):
    case_dir = CONFORMANCE / case_name
    if not (case_dir / "expected.npz").is_file():
        pytest.skip(f"{case_dir} is absent")
    case = load_case(case_dir)
    record = tuple(r for r in case.record if r not in ("lambda", "m"))
    traces = FastEngine(case.network, case.task).run(case.n_steps, record=record).traces
    expected = {k: v for k, v in np.load(case_dir / "expected.npz").items() if k.split("_")[0] not in ("lambda", "m")}
    assert expected and set(expected) <= set(traces)
    report = compare_traces(traces, expected)
    assert all(v["ok"] for v in report.values()), {k: v for k, v in report.items() if not v["ok"]}


# --------------------------------------------------------------------------------------
# fast_filters: blocked recurrences against the step-by-step ones
# --------------------------------------------------------------------------------------

A_RISE, C_DECAY = math.exp(-0.1e-3 / 5e-3), 0.1e-3 / 10e-3


def _kernel_steps(x, p0, q0):
    p, q, out = p0.copy(), q0.copy(), np.empty_like(x)
    for n in range(len(x)):
        p, q = double_exp_step(p, q, x[n], A_RISE, C_DECAY)
        out[n] = q
    return out, p


@pytest.mark.parametrize("n_steps", [1, 2, 15, 16, 17, 100, 1001])
def test_blocked_filters_equal_step_by_step(n_steps):
    rng = np.random.default_rng(n_steps)
    x = rng.standard_normal((n_steps, 2, 3))
    p0, q0 = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    expected, p_end = _kernel_steps(x, p0, q0)
    np.testing.assert_allclose(kernel_filter(x, A_RISE, C_DECAY, p0, q0), expected, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(end_state(x, A_RISE, p0), p_end, rtol=1e-12, atol=1e-13)
    y, state = np.empty_like(x), p0.copy()
    for n in range(n_steps):
        state = 0.97 * state + 0.3 * x[n]
        y[n] = state
    np.testing.assert_allclose(first_order(x, 0.97, 0.3, p0), y, rtol=1e-12, atol=1e-13)
    K = kernel_sequence(n_steps, A_RISE, C_DECAY)
    adjoint = np.array([np.tensordot(K[: n_steps - s], x[s:], axes=(0, 0)) for s in range(n_steps)])
    np.testing.assert_allclose(kernel_filter_adjoint(x, A_RISE, C_DECAY), adjoint, rtol=1e-12, atol=1e-13)


def test_kernel_sequence_and_adjoint_identity():
    K = kernel_sequence(500, A_RISE, C_DECAY)
    np.testing.assert_allclose(K, kernel_impulse_response(500, 5e-3, 10e-3, 1e-4), rtol=1e-12)
    rng = np.random.default_rng(0)
    u, v = rng.standard_normal((300, 4)), rng.standard_normal((300, 4))
    lhs = np.sum(u * kernel_filter(v, A_RISE, C_DECAY))
    rhs = np.sum(kernel_filter_adjoint(u, A_RISE, C_DECAY) * v)
    assert lhs == pytest.approx(rhs, rel=1e-12)
    # the blocked form with an extra per-block row gives the same result
    xa, L = block_buffer(300, 4)
    for b in range(xa.shape[0]):
        chunk = u[b * L: (b + 1) * L]
        xa[b, : len(chunk)] = chunk
    y, extra = kernel_adjoint_blocked(xa, L, A_RISE, C_DECAY, extra_rows=np.ones((1, L)))
    np.testing.assert_allclose(y[:300], kernel_filter_adjoint(u, A_RISE, C_DECAY), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(extra[:, 0].sum(axis=0), u.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("density", [0.001, 0.01, 0.5])
def test_spike_sums_sparse_and_dense_agree(shared, density):
    rng = np.random.default_rng(int(density * 1000))
    T, B, R, n_pre = 200, 3, 5, 7
    x = rng.standard_normal((T, B, R))
    A = rng.random((T, 1 if shared else B, n_pre)) < density
    expected = np.einsum("tbr,tbj->bjr", x, np.broadcast_to(A, (T, B, n_pre)).astype(float))
    for fraction in (0.0, 1.0):  # force the dense and the sparse path
        out = np.ones((B, n_pre, R))
        _add_spike_sum(out, x, A, dense_fraction=fraction)
        np.testing.assert_allclose(out, expected + 1.0, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------------------
# non-finite state: both engines stop at the same weight update, naming the same thing
# --------------------------------------------------------------------------------------

NON_FINITE = re.compile(r"^(?:network (\d+), )?connection k=(\d+): (\w+)\[(\d+), (\d+)\] = (\S+) is not finite "
                        r"at the weight update after step n=(\d+);")


def _non_finite_error(engine, n_steps: int = 400) -> tuple:
    """``(network, k, quantity, i, j, value, n)`` of the FloatingPointError that ``engine.run`` raises."""
    with pytest.raises(FloatingPointError) as info:
        engine.run(n_steps)
    match = NON_FINITE.match(str(info.value))
    assert match, str(info.value)
    return match.groups()


def _poison_trace(engine, k, i, j):
    if isinstance(engine, LiteralEngine):
        engine.elig[k][i, j] = np.nan
    else:
        engine._batch._elig[k][0, j, i] = np.nan  # stored transposed


def _poison_weight(engine, k, i, j):
    engine.weights[k][i, j] = np.nan  # a live view in both engines


@pytest.mark.parametrize(
    "poison, where, expected",
    [
        # a NaN trace reaches m (m += e λ, and NaN × 0 is NaN)
        (_poison_trace, (0, 1, 2), (None, "0", "m", "1", "2", "nan", "99")),
        (_poison_trace, (1, 1, 3), (None, "1", "m", "1", "3", "nan", "99")),
        # a NaN hidden -> output weight reaches the hidden error through symmetric feedback first
        (_poison_weight, (1, 0, 3), (None, "0", "m", "3", "0", "nan", "99")),
    ],
    ids=["lambda_0", "lambda_1", "W_1"],
)
def test_non_finite_state_stops_both_engines_at_the_same_update(poison, where, expected):
    net, task = make_case(5, (10, 4, 2))
    errors = []
    for engine in (LiteralEngine(net, task), FastEngine(net, task)):
        poison(engine, *where)
        errors.append(_non_finite_error(engine))
    assert errors[0] == errors[1] == expected


def test_non_finite_optimiser_state_named_at_its_update(monkeypatch):
    import superspike_ref.core as core_module  # both engines update through core.update_weights

    real_step = core_module.optimizer_step
    net, task = make_case(6, (10, 4, 2), optimizer="rmsprop")
    errors = []
    for make in (LiteralEngine, FastEngine):
        calls = []

        def third_call_gives_inf(*args, **kwargs):
            w, v = real_step(*args, **kwargs)
            calls.append(1)
            if len(calls) == 3:  # connection 0 at the second update (end of step 199)
                v = v.copy()
                v[1, 0] = np.inf
            return w, v

        monkeypatch.setattr(core_module, "optimizer_step", third_call_gives_inf)
        errors.append(_non_finite_error(make(net, task)))
    assert errors[0] == errors[1] == (None, "0", "v", "1", "0", "inf", "199")


def test_non_finite_state_names_the_network_in_a_batch():
    net, task = make_case(5, (10, 4, 2))
    other, _ = make_case(7, (10, 4, 2))
    batch = BatchFastEngine([net, other, net], task)
    batch._elig[0][1, 2, 1] = np.nan
    assert _non_finite_error(batch) == ("1", "0", "m", "1", "2", "nan", "99")
    clean = BatchFastEngine([net, other], task)
    assert len(clean.run(400)) == 2                      # finite runs never raise

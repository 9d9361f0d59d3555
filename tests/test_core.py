"""Tests of superspike_ref.core: the state records and the pure step of SPEC §2-§4."""
from __future__ import annotations

import dataclasses

import numpy as np

from superspike_ref import core
from superspike_ref.error import error_impulses, van_rossum_error
from superspike_ref.network import LiteralEngine


def arrays(x) -> list:
    """Every array of a state tree, in order."""
    if isinstance(x, np.ndarray):
        return [x]
    if dataclasses.is_dataclass(x):
        return [a for f in dataclasses.fields(x) for a in arrays(getattr(x, f.name))]
    if isinstance(x, (tuple, list)):
        return [a for y in x for a in arrays(y)]
    return []


def test_delay_step_by_hand():
    """n_d = 2: A[0] = A[1] = 0, A[2] = S[0], A[3] = S[1]; the old buffer is left as it was."""
    buffer = np.zeros((3, 2), dtype=bool)
    spikes = [np.array([True, False]), np.array([False, True]), np.array([True, True]), np.array([False, False])]
    arriving = []
    for n, s in enumerate(spikes):
        before = buffer.copy()
        new, a = core.delay_step(buffer, s, n)
        np.testing.assert_array_equal(buffer, before)
        buffer = new
        arriving.append(a.copy())
    np.testing.assert_array_equal(arriving, [[False, False], [False, False], [True, False], [False, True]])
    _, a = core.delay_step(np.zeros((1, 2), dtype=bool), spikes[0], 5)  # n_d = 0: no delay
    np.testing.assert_array_equal(a, spikes[0])


def test_step_is_pure_and_equals_the_engine(small_hidden_setup):
    """Over 250 steps (two weight updates, regulariser, error gate) no step changes its input state,
    and the states and observables equal the literal engine's."""
    net, task = small_hidden_setup(3, rho=0.5, e_gate=0.02, w0_V=0.4)
    eng = LiteralEngine(net, task)
    traces = eng.run(250, record=("S", "e", "m")).traces
    state, updates = core.initial_state(net), []
    for n in range(250):
        copies = [a.copy() for a in arrays(state)]
        new, seen = core.step(net, state, task.input[n % task.n_cycle],
                              lambda S_out: error_impulses(task.target[n % task.n_cycle], S_out))
        for old, copy in zip(arrays(state), copies):
            np.testing.assert_array_equal(old, copy)
        np.testing.assert_array_equal(seen.S[0], traces["S_1"][n])
        np.testing.assert_array_equal(seen.errors[0], traces["e_1"][n])
        np.testing.assert_array_equal(new.m[0], traces["m_0"][n])
        updates.append(seen.updated)
        state = new
    assert state.step_index == 250 and np.flatnonzero(updates).tolist() == [99, 199]
    assert traces["S_1"].sum() > 0 and traces["S_2"].sum() > 0
    for a, b in zip(arrays(state), arrays(eng.state)):
        np.testing.assert_array_equal(a, b)


def test_output_error_of_steps_is_van_rossum_error(small_hidden_setup):
    net, task = small_hidden_setup(4)
    state, S, e = core.initial_state(net), [], []
    for n in range(300):
        state, seen = core.step(net, state, task.input[n], lambda S_out: error_impulses(task.target[n], S_out))
        S.append(seen.S[-1])
        e.append(seen.errors[-1])
    np.testing.assert_allclose(e, van_rossum_error(error_impulses(task.target, np.array(S)), net.params), rtol=1e-12,
                               atol=1e-15)


def test_update_weights_resets_m_and_leaves_its_inputs(small_hidden_setup):
    net, _ = small_hidden_setup(5)
    rng = np.random.default_rng(0)
    m = tuple(rng.standard_normal(w.shape) for w in net.weights)
    v = tuple(np.zeros_like(w) for w in net.weights)
    weights, m_new, v_new = core.update_weights(net, net.weights, m, v, 99)
    assert all(np.all(x == 0) for x in m_new) and all(np.all(x == 0) for x in v)
    g = m[0] / net.params.n_batch
    np.testing.assert_allclose(weights[0], np.clip(net.weights[0] + net.params.r0 * g / (np.abs(g) + net.params.eps),
                                                   net.params.w_min_V, net.params.w_max_V), rtol=1e-12)
    np.testing.assert_array_equal(v_new[0], g**2)

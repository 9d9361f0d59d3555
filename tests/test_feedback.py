"""Tests of superspike_ref.feedback: symmetric, random and uniform learning signals (SPEC §3)."""
from __future__ import annotations

import numpy as np
import pytest

from superspike_ref import LiteralEngine
from superspike_ref.feedback import FEEDBACK_KINDS, hidden_errors, make_feedback_matrices

LAYERS = (7, 5, 4, 3)  # two hidden layers


@pytest.fixture
def weights():
    rng = np.random.default_rng(0)
    return [rng.normal(size=(n_post, n_pre)) for n_pre, n_post in zip(LAYERS[:-1], LAYERS[1:])]


def test_kinds():
    assert set(FEEDBACK_KINDS) == {"symmetric", "random", "uniform"}


def test_symmetric_chains_transposed_weights(weights):
    e_out = np.array([0.3, -1.2, 0.7])
    e1, e2 = hidden_errors(e_out, weights, "symmetric", None)
    assert e2.shape == (4,) and e1.shape == (5,)
    np.testing.assert_allclose(e2, weights[2].T @ e_out, rtol=1e-14)
    np.testing.assert_allclose(e1, weights[1].T @ (weights[2].T @ e_out), rtol=1e-14)
    # by hand for one component
    assert e1[0] == pytest.approx(sum(weights[1][k, 0] * e2[k] for k in range(4)), rel=1e-14)


def test_symmetric_uses_the_current_weights(weights):
    e_out = np.array([0.3, -1.2, 0.7])
    before = hidden_errors(e_out, weights, "symmetric", None)
    changed = [w.copy() for w in weights]
    changed[2][1, 3] += 0.5
    after = hidden_errors(e_out, changed, "symmetric", None)
    assert after[1][3] == pytest.approx(before[1][3] + 0.5 * e_out[1], rel=1e-12)
    assert not np.allclose(after[0], before[0])


def test_make_feedback_matrices_symmetric_is_none():
    assert make_feedback_matrices("symmetric", LAYERS) is None


def test_uniform_is_ones(weights):
    Bs = make_feedback_matrices("uniform", LAYERS)
    assert [B.shape for B in Bs] == [(3, 5), (3, 4)]
    assert all(np.all(B == 1.0) and B.dtype == np.float64 for B in Bs)
    e_out = np.array([0.3, -1.2, 0.7])
    e1, e2 = hidden_errors(e_out, weights, "uniform", Bs)
    np.testing.assert_allclose(e1, np.full(5, e_out.sum()), rtol=1e-14)
    np.testing.assert_allclose(e2, np.full(4, e_out.sum()), rtol=1e-14)


def test_random_is_seeded_and_fixed():
    a = make_feedback_matrices("random", LAYERS, np.random.default_rng(5))
    b = make_feedback_matrices("random", LAYERS, np.random.default_rng(5))
    c = make_feedback_matrices("random", LAYERS, np.random.default_rng(6))
    assert [B.shape for B in a] == [(3, 5), (3, 4)]
    for x, y, z in zip(a, b, c):
        np.testing.assert_array_equal(x, y)
        assert not np.array_equal(x, z)
    # each hidden layer gets its own matrix
    assert not np.array_equal(a[0][:, :4], a[1])


def test_random_is_standard_normal():
    (B,) = make_feedback_matrices("random", (2, 2000, 50), np.random.default_rng(7))
    assert B.shape == (50, 2000)
    assert abs(B.mean()) < 0.01        # 1e5 samples: s.e. 0.003
    assert abs(B.std() - 1.0) < 0.01
    assert abs(np.mean(B < 0) - 0.5) < 0.01


def test_random_projects_output_error_directly(weights):
    Bs = make_feedback_matrices("random", LAYERS, np.random.default_rng(1))
    e_out = np.array([0.3, -1.2, 0.7])
    e1, e2 = hidden_errors(e_out, weights, "random", Bs)
    np.testing.assert_allclose(e1, Bs[0].T @ e_out, rtol=1e-14)
    np.testing.assert_allclose(e2, Bs[1].T @ e_out, rtol=1e-14)


@pytest.mark.parametrize("kind", FEEDBACK_KINDS)
def test_leading_time_axis(kind, weights):
    Bs = make_feedback_matrices(kind, LAYERS, np.random.default_rng(2))
    e_out = np.random.default_rng(3).normal(size=(11, 3))
    errs = hidden_errors(e_out, weights, kind, Bs)
    assert [e.shape for e in errs] == [(11, 5), (11, 4)]
    for n in range(11):
        step = hidden_errors(e_out[n], weights, kind, Bs)
        for a, b in zip(errs, step):
            np.testing.assert_allclose(a[n], b, rtol=1e-13)


def test_no_hidden_layer_gives_no_errors():
    w = [np.ones((2, 3))]
    assert hidden_errors(np.ones(2), w, "symmetric", None) == []
    assert hidden_errors(np.ones(2), w, "random", make_feedback_matrices("random", (3, 2), np.random.default_rng(0))) == []


def test_bad_kind_and_missing_rng():
    with pytest.raises(ValueError, match="feedback"):
        make_feedback_matrices("transpose", LAYERS)
    with pytest.raises(TypeError, match="rng"):
        make_feedback_matrices("random", LAYERS, None)
    with pytest.raises(TypeError, match="rng"):
        make_feedback_matrices("random", LAYERS, 5)


@pytest.mark.parametrize("kind", FEEDBACK_KINDS)
def test_engine_hidden_error_follows_feedback(kind, small_hidden_setup):
    """In the engine e_hid[n] = B.T e_out[n]; symmetric uses the weights updated before step n."""
    net, task = small_hidden_setup(3, layers=(20, 5, 4, 2), feedback=kind, w0_V=0.4)
    eng = LiteralEngine(net, task)
    res = eng.run(450, record=("e", "W", "S"))
    tr = res.traces
    assert tr["W_2"].shape == (5, 2, 4)           # 4 updates of 100 steps
    assert all(not np.array_equal(tr["W_2"][u], tr["W_2"][u + 1]) for u in range(4))
    assert np.all(np.abs(tr["e_3"][[99, 100, 199, 200]]) > 1e-6)  # the switch of weights is visible
    assert np.any(tr["e_3"] != 0) and tr["S_1"].any() and tr["S_2"].any()
    n = np.arange(450)
    k = n // 100  # updates completed before step n (the update is at the end of steps 99, 199, ...)
    for step in n:
        if kind == "symmetric":
            e2 = tr["W_2"][k[step]].T @ tr["e_3"][step]
            e1 = tr["W_1"][k[step]].T @ e2
        else:
            e2 = net.feedback_matrices[1].T @ tr["e_3"][step]
            e1 = net.feedback_matrices[0].T @ tr["e_3"][step]
        np.testing.assert_allclose(tr["e_2"][step], e2, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(tr["e_1"][step], e1, rtol=1e-12, atol=1e-15)

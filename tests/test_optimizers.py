"""Tests of superspike_ref.optimizers: RMaxProp, RMSprop, fixed rate, schedules (SPEC §4)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from superspike_ref.optimizers import OPTIMIZERS, check_schedule, learning_rate, optimizer_step
from superspike_ref.params import Params

WIDE = Params(w_min_V=-1e6, w_max_V=1e6)  # bounds that never clip


def test_names():
    assert OPTIMIZERS == ("rmaxprop", "rmsprop", "fixed")


def test_rmaxprop_step_never_exceeds_rate():
    """|Δw| ≤ r for gradients spanning 60 orders of magnitude and any history of v."""
    rng = np.random.default_rng(0)
    r = 1e-3
    w = np.zeros((20, 30))
    v = np.zeros_like(w)
    for _ in range(200):
        scale = 10.0 ** rng.uniform(-30, 30, size=w.shape)
        m = rng.normal(size=w.shape) * scale * 5000
        w_new, v = optimizer_step("rmaxprop", w, m, v, 5000, r, WIDE)
        assert np.all(np.abs(w_new - w) <= r * (1 + 1e-12))
        w = w_new
    # a gradient that just jumped by 30 orders of magnitude takes a full step of r
    v = np.full((1, 1), 1e-60)
    w_new, v = optimizer_step("rmaxprop", np.zeros((1, 1)), np.full((1, 1), 5e3), v, 5000, r, WIDE)
    assert w_new[0, 0] == pytest.approx(r, rel=1e-9)


def test_rmaxprop_formula():
    p = Params()
    rng = np.random.default_rng(1)
    w = rng.uniform(-0.05, 0.05, size=(4, 6))
    m = rng.normal(size=(4, 6)) * 1e-3
    v = rng.uniform(0, 1e-12, size=(4, 6))
    w_new, v_new = optimizer_step("rmaxprop", w, m, v, 100, 2e-3, p)
    g = m / 100
    np.testing.assert_allclose(v_new, np.maximum(p.gamma * v, g**2), rtol=1e-15)
    np.testing.assert_allclose(w_new, np.clip(w + 2e-3 * g / (np.sqrt(v_new) + p.eps), -0.1, 0.1), rtol=1e-14)
    # both branches of the max occur in this draw
    assert np.any(p.gamma * v > g**2) and np.any(p.gamma * v < g**2)
    # v starts at 0: the first step is r sign(g) (up to eps)
    w1, _ = optimizer_step("rmaxprop", np.zeros(3), np.array([1e-2, -3e-5, 0.0]), np.zeros(3), 1, 1e-3, p)
    np.testing.assert_allclose(w1, [1e-3, -1e-3, 0.0], rtol=1e-6)


def test_rmaxprop_memory_decays_with_gamma():
    p = Params()
    v = np.array([1.0])
    for n in range(1, 6):
        _, v = optimizer_step("rmaxprop", np.zeros(1), np.zeros(1), v, 10, 1e-3, p)
        assert v[0] == pytest.approx(p.gamma**n, rel=1e-14)
    assert p.gamma == pytest.approx(math.exp(-0.5 / 30), rel=1e-15)


def test_rmsprop_formula():
    p = Params(tau_rms_s=2.0)
    rng = np.random.default_rng(2)
    w = rng.uniform(-0.05, 0.05, size=(3, 5))
    m = rng.normal(size=(3, 5))
    v = rng.uniform(0, 1e-7, size=(3, 5))
    w_new, v_new = optimizer_step("rmsprop", w, m, v, 50, 1e-3, p)
    g = m / 50
    v_exp = p.gamma * v + (1 - p.gamma) * g**2
    np.testing.assert_allclose(v_new, v_exp, rtol=1e-14)
    np.testing.assert_allclose(w_new, np.clip(w + 1e-3 * g / (np.sqrt(v_exp) + p.eps), -0.1, 0.1), rtol=1e-14)


def test_fixed_formula_and_no_state():
    p = Params()
    w = np.array([0.01, -0.02])
    m = np.array([5.0, 10.0])
    v = np.array([7.0, 7.0])
    w_new, v_new = optimizer_step("fixed", w, m, v, 10, 1e-3, p)
    np.testing.assert_allclose(w_new, w + 1e-3 * m / 10, rtol=1e-15)
    np.testing.assert_array_equal(v_new, v)


@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_clipping(kind):
    p = Params(w_min_V=-0.01, w_max_V=0.02)
    w = np.array([0.019, -0.0095, 0.0])
    m = np.array([1e6, -1e6, 0.0])
    w_new, _ = optimizer_step(kind, w, m, np.zeros(3), 1, 1.0, p)
    np.testing.assert_array_equal(w_new, [0.02, -0.01, 0.0])


@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_burn_in_updates_v_not_w(kind):
    p = Params()
    w = np.array([0.01, -0.02])
    m = np.array([3.0, -4.0])
    v = np.array([1e-9, 1e-9])
    w_frozen, v_frozen = optimizer_step(kind, w, m, v, 10, 1e-3, p, frozen=True)
    w_live, v_live = optimizer_step(kind, w, m, v, 10, 1e-3, p, frozen=False)
    np.testing.assert_array_equal(w_frozen, w)
    np.testing.assert_array_equal(v_frozen, v_live)
    assert not np.array_equal(w_live, w)
    if kind != "fixed":
        assert not np.array_equal(v_frozen, v)


@pytest.mark.parametrize("kind", OPTIMIZERS)
@pytest.mark.parametrize("eps", [1e-12, 5e-324])
def test_synapse_without_gradient_keeps_its_weight(kind, eps):
    """An input that never spikes gives g = v = 0: the step is 0/(0 + eps) = 0, never 0/0 (eps > 0 is required)."""
    p = Params(eps=eps)
    w = np.array([0.01, -0.02, 0.0])
    w_new, v_new = optimizer_step(kind, w, np.zeros(3), np.zeros(3), p.n_batch, 1.0, p)
    np.testing.assert_array_equal(w_new, w)
    np.testing.assert_array_equal(v_new, 0.0)
    with pytest.raises(ValueError, match="eps must be > 0"):
        Params(eps=0.0)


def test_inputs_not_modified():
    p = Params()
    w, m, v = np.array([0.01]), np.array([1.0]), np.array([0.5])
    optimizer_step("rmaxprop", w, m, v, 1, 1e-3, p)
    assert w[0] == 0.01 and m[0] == 1.0 and v[0] == 0.5


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="adam"):
        optimizer_step("adam", np.zeros(1), np.zeros(1), np.zeros(1), 1, 1e-3, Params())


def test_learning_rate_schedule():
    schedule = ((10.0, 0.5), (20.0, 0.1), (30.0, 0.1))
    r0 = 2e-3
    assert learning_rate(0.0, r0, schedule) == r0            # factor 1 before the first entry
    assert learning_rate(9.9999, r0, schedule) == r0
    assert learning_rate(10.0, r0, schedule) == r0 * 0.5     # entry time itself included (<=)
    assert learning_rate(19.0, r0, schedule) == r0 * 0.5
    assert learning_rate(25.0, r0, schedule) == pytest.approx(r0 * 0.1)
    assert learning_rate(35.0, r0, schedule) == pytest.approx(r0 * 0.1)  # not cumulative (0.01)
    assert learning_rate(5.0, r0, ()) == r0
    assert learning_rate(0.0, r0, ((0.0, 0.0),)) == 0.0


def test_check_schedule():
    assert check_schedule([[0, 1], [10, 0.1]]) == ((0.0, 1.0), (10.0, 0.1))
    assert check_schedule(()) == ()
    assert check_schedule([(5.0, 1.0), (5.0, 0.5)]) == ((5.0, 1.0), (5.0, 0.5))  # equal times are sorted


@pytest.mark.parametrize(
    "schedule",
    [
        [(10.0, 1.0), (5.0, 0.1)],
        [(0.0, 1.0), (math.nan, 0.1)],
        [(0.0, math.inf)],
        [(math.inf, 1.0)],
        [(0.0, -0.5)],
    ],
)
def test_check_schedule_rejects(schedule):
    with pytest.raises(ValueError, match="schedule"):
        check_schedule(schedule)

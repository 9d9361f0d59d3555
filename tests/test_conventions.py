"""Tests of superspike_ref.conventions against direct computations.

The original code's recursions (σ′ with β and the -80 mV cut, the error's two Euler followers,
the eligibility trace's add-read-decay, the accumulator with ρ_A) are run by hand on arrays
from the reference engine, and the converters must reproduce them to rounding.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from superspike_ref import CyclicTask, LiteralEngine, Network, Params, filters
from superspike_ref import conventions as C
from superspike_ref.error import van_rossum_error
from superspike_ref.optimizers import optimizer_step
from superspike_ref.surrogate import surrogate_grad, surrogate_grad_auryn

ALL = ("U_tilde", "S", "I", "z", "z_tilde", "sigma_prime", "e", "lambda", "m", "W", "v")


def rel_err(a, b) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(np.asarray(b)).max())


@pytest.fixture(scope="module", params=["random", "symmetric", "uniform"])
def run(request):
    """A 20 -> 5 -> 2 network with the regulariser on, 600 steps (six updates), every trace."""
    p = Params(t_batch_s=0.01, r0=2e-3, rho=0.2)
    rng = np.random.default_rng(1)
    inp = rng.random((300, 20)) < 0.04
    tgt = np.zeros((300, 2), dtype=bool)
    tgt[[60, 150, 240], :] = True
    net = Network.create((20, 5, 2), rng, p, feedback=request.param, w0_V=0.3)
    tr = LiteralEngine(net, CyclicTask(inp, tgt)).run(600, record=ALL).traces
    ctx = C.TraceContext.from_network(net, [tr["W_0"], tr["W_1"]])
    return net, tgt, tr, ctx


# ----------------------------------------------------------------------------------------
# factors
# ----------------------------------------------------------------------------------------

def test_check_convention():
    assert C.check_convention("auryn") == "auryn"
    with pytest.raises(ValueError, match="convention"):
        C.check_convention("norse")


def test_sigma_prime_auryn_is_surrogate_grad_auryn():
    p = Params(u_cut_V=-80e-3)
    U = np.linspace(-95e-3, -35e-3, 1201)
    sp = surrogate_grad(U, p.theta_V, p.beta_per_V, p.u_cut_V)
    converted = C.from_paper({"sigma_prime_1": sp[:, None]}, "auryn", _ctx(p))["sigma_prime_1"][:, 0]
    np.testing.assert_allclose(converted, surrogate_grad_auryn(U, p.theta_V, p.beta_per_V), rtol=1e-15, atol=0)
    assert converted.max() == pytest.approx(1000.0)


def test_sigma_prime_genn_by_hand_in_mV():
    p = Params(u_cut_V=-80e-3)
    U_mV = np.linspace(-95.0, -35.0, 1201)
    beta = 1000.0                                             # GeNN's parameter, used as 0.001*beta per mV
    genn = np.where(U_mV < -80.0, 0.0, beta / (1 + np.abs(0.001 * beta * (U_mV - 1e3 * p.theta_V))) ** 2)
    sp = surrogate_grad(U_mV / 1e3, p.theta_V, p.beta_per_V, p.u_cut_V)
    np.testing.assert_allclose(C.sigma_prime_factor("genn", p) * sp, genn, rtol=1e-12, atol=0)


def test_factor_values():
    p = Params()
    assert C.sigma_prime_factor("paper", p) == 1.0 and C.sigma_prime_factor("auryn", p) == 1000.0
    assert C.eligibility_factor("auryn", p) == 1000.0
    assert C.eligibility_factor("genn", p) == pytest.approx(100.0)          # β dt[ms]
    assert C.kernel_peak_discrete(p) == pytest.approx(0.253291, abs=1e-6)
    assert C.error_factor("genn", p) == pytest.approx(1 / 0.253291, rel=1e-5)
    assert C.error_factor("genn", p, hops=1) == pytest.approx(1000 / 0.253291, rel=1e-5)
    assert C.error_factor("auryn", p) == pytest.approx(0.02)
    assert C.gradient_factor("auryn", p) == pytest.approx(20.0)
    assert C.weight_factor("genn") == C.potential_factor("genn") == 1000.0
    assert C.weight_factor("auryn") == 1.0


def test_rho_converters():
    p = Params()
    assert C.rho_to("auryn", 0.05, p) == pytest.approx(1.0)                 # SPEC §5: ρ_A = 1 ⇔ ρ = 0.05
    for conv in C.CONVENTIONS:
        for hops in (0, 1):
            assert C.rho_from(conv, C.rho_to(conv, 0.2, p, hops), p, hops) == pytest.approx(0.2, rel=1e-14)
    # genn: ρ_G w_mV zh^a must equal k ρ w zh^a
    w, zh = 0.03, 1.7
    k = C.gradient_factor("genn", p)
    assert C.rho_to("genn", 0.2, p) * (1e3 * w) * zh**4 == pytest.approx(k * 0.2 * w * zh**4, rel=1e-14)


# ----------------------------------------------------------------------------------------
# the original code's error: exact re-mapping, and how approximate the factor is
# ----------------------------------------------------------------------------------------

def _auryn_error_by_hand(impulses, p):
    """The original code: x += dt/τ_r (err - x); e_A += dt/τ_d (x - e_A)."""
    x = np.zeros(impulses.shape[1])
    e_A = np.zeros(impulses.shape[1])
    out = np.empty_like(impulses)
    for n in range(impulses.shape[0]):
        x = x + p.dt_s / p.tau_rise_s * (impulses[n] - x)
        e_A = e_A + p.dt_s / p.tau_decay_s * (x - e_A)
        out[n] = e_A
    return out


def test_error_to_auryn_matches_original_recursion():
    p = Params()
    rng = np.random.default_rng(4)
    impulses = (rng.random((3000, 3)) < 0.01).astype(float) - (rng.random((3000, 3)) < 0.01)
    e = van_rossum_error(impulses, p)
    by_hand = _auryn_error_by_hand(impulses, p)
    assert rel_err(C.error_to_auryn(e, p), by_hand) < 1e-12
    assert rel_err(C.error_from_auryn(by_hand, p), e) < 1e-12
    # equivalently: c times the kernel with tau*_rise
    tau_star = C.auryn_equivalent_rise_s(p)
    assert tau_star == pytest.approx(4.94983e-3, abs=1e-8)
    c = p.dt_s / p.tau_rise_s
    assert rel_err(c * filters.double_exp(impulses, tau_star, p.tau_decay_s, p.dt_s), by_hand) < 1e-12


def test_factor_only_error_is_approximate():
    p = Params()
    acc = C.auryn_error_factor_accuracy(p)
    assert acc["max_deviation_of_peak"] == pytest.approx(0.0082, abs=1e-4)
    assert acc["area_ratio"] == pytest.approx(1.010033, abs=1e-6)
    c, a = p.dt_s / p.tau_rise_s, math.exp(-p.dt_s / p.tau_rise_s)
    assert acc["area_ratio"] == pytest.approx(c / (1 - a), rel=1e-9)
    assert C.conversion_accuracy("auryn", "e") == "exact"
    assert C.conversion_accuracy("auryn", "e", exact_inputs=False).startswith("approximate")
    assert C.conversion_accuracy("auryn", "v").startswith("approximate")
    assert C.conversion_accuracy("genn", "v") == "exact"


def test_genn_error_has_unit_peak():
    p = Params()
    impulses = np.zeros((1000, 1))
    impulses[100] = 1.0
    e = van_rossum_error(impulses, p)
    e_genn = C.from_paper({"e_1": e}, "genn", _ctx(p, layers=(3, 1)))["e_1"]
    assert e_genn.max() == pytest.approx(1.0, rel=1e-14)


# ----------------------------------------------------------------------------------------
# whole traces: by hand against the converters
# ----------------------------------------------------------------------------------------

def _ctx(p, layers=(3, 1)):
    net = Network(layers, tuple(np.zeros((n, m)) for m, n in zip(layers[:-1], layers[1:])), p)
    return C.TraceContext.from_network(net)


def test_auryn_traces_by_hand(run):
    """σ′, λ (add, read, then decay), e (two followers), hidden errors and m with ρ_A, step by step."""
    net, tgt, tr, ctx = run
    p = net.params
    A = C.from_paper(tr, "auryn", ctx)
    c, a, cd, beta = p.dt_s / p.tau_rise_s, math.exp(-p.dt_s / p.tau_rise_s), p.dt_s / p.tau_decay_s, p.beta_per_V
    rho_A = C.rho_to("auryn", p.rho, p)
    shapes = [(5, 20), (2, 5)]
    x, e_A = np.zeros(2), np.zeros(2)
    el = [np.zeros(s) for s in shapes]
    elf = [np.zeros(s) for s in shapes]
    m = [np.zeros(s) for s in shapes]
    zh = np.zeros(5)
    hand = {key: [] for key in ("e_1", "e_2", "lambda_0", "lambda_1", "m_0", "m_1")}
    for n in range(600):
        err = tgt[n % 300].astype(float) - tr["S_2"][n]
        x += c * (err - x)
        e_A += cd * (x - e_A)
        W = [tr["W_0"][n // p.n_batch], tr["W_1"][n // p.n_batch]]
        B = W[1] if net.feedback == "symmetric" else net.feedback_matrices[0]
        errors = [e_A @ B, e_A.copy()]
        zh = math.exp(-p.dt_s / p.tau_het_s) * zh + tr["S_1"][n]
        for k in range(2):
            el[k] += np.multiply.outer(beta * tr[f"sigma_prime_{k + 1}"][n], tr[f"z_tilde_{k}"][n])
            elf[k] += cd * (el[k] - elf[k])
            el[k] *= a
            m[k] += errors[k][:, None] * elf[k]
            if k == 0:
                m[k] -= rho_A * W[0] * (zh**p.a)[:, None]
            if (n + 1) % p.n_batch == 0:
                m[k] = np.zeros(shapes[k])
            hand[f"lambda_{k}"].append(elf[k].copy())
            hand[f"m_{k}"].append(m[k].copy())
            hand[f"e_{k + 1}"].append(errors[k])
    for key, values in hand.items():
        assert rel_err(A[key], np.array(values)) < 1e-12, key
    assert rel_err(A["sigma_prime_1"], beta * tr["sigma_prime_1"]) < 1e-15
    assert np.array_equal(A["W_0"], tr["W_0"]) and np.array_equal(A["S_1"], tr["S_1"])
    # SPEC §5's factor-only form is off by about a percent
    assert 1e-3 < rel_err(A["e_2"], c * tr["e_2"]) < 3e-2


def test_genn_traces_by_hand(run):
    net, tgt, tr, ctx = run
    p = net.params
    G = C.from_paper(tr, "genn", ctx)
    peak, dt_ms = C.kernel_peak_discrete(p), 1e3 * p.dt_s
    hops = 1 if net.feedback == "symmetric" else 0
    e_out = tr["e_2"] / peak
    B = [1e3 * tr["W_1"][n // p.n_batch] if hops else net.feedback_matrices[0] for n in range(600)]
    e_hid = np.einsum("no,nol->nl", e_out, np.array(B))
    elig = [filters.double_exp(dt_ms * p.beta_per_V * np.einsum("ni,nj->nij", tr[f"sigma_prime_{k + 1}"],
                                                                 tr[f"z_tilde_{k}"]), p.tau_rise_s, p.tau_decay_s, p.dt_s)
            for k in range(2)]
    assert rel_err(G["e_2"], e_out) < 1e-14
    assert rel_err(G["e_1"], e_hid) < 1e-12
    assert rel_err(G["lambda_0"], elig[0]) < 1e-12 and rel_err(G["lambda_1"], elig[1]) < 1e-12
    assert rel_err(G["U_tilde_1"], 1e3 * tr["U_tilde_1"]) < 1e-15
    assert rel_err(G["W_1"], 1e3 * tr["W_1"]) < 1e-15
    # m: per batch, Σ e_G λ_G - ρ_G w_mV zh^a equals k m
    k0 = C.gradient_factor("genn", p, hops)
    assert rel_err(G["m_0"], k0 * tr["m_0"]) < 1e-14
    assert rel_err(G["v_0"], k0**2 * tr["v_0"]) < 1e-14


@pytest.mark.parametrize("convention", C.CONVENTIONS)
def test_round_trip(run, convention):
    _, _, tr, ctx = run
    back = C.to_paper(C.from_paper(tr, convention, ctx), convention, ctx)
    assert set(back) == set(tr)
    for key, value in tr.items():
        if value.dtype == bool:
            assert np.array_equal(back[key], value)
        elif np.abs(value).max() > 0:
            assert rel_err(back[key], value) < 1e-12, key


def test_convert_traces_between_conventions(run):
    _, _, tr, ctx = run
    A = C.from_paper(tr, "auryn", ctx)
    G = C.convert_traces(A, "auryn", "genn", ctx)
    direct = C.from_paper(tr, "genn", ctx)
    for key in ("sigma_prime_2", "lambda_1", "e_2", "e_1", "m_0", "W_1"):
        assert rel_err(G[key], direct[key]) < 1e-11, key


def test_converters_leave_input_alone(run):
    _, _, tr, ctx = run
    before = {k: v.copy() for k, v in tr.items()}
    C.from_paper(tr, "auryn", ctx)
    C.to_paper(tr, "genn", ctx)
    assert all(np.array_equal(before[k], tr[k]) for k in tr)


def test_rmaxprop_step_in_genn_units():
    """Δw_genn = 1000 Δw when g is scaled by k and eps by k too (the scale cancels)."""
    p = Params()
    k = C.gradient_factor("genn", p)
    rng = np.random.default_rng(2)
    w0, m = rng.normal(0, 5e-3, (3, 4)), rng.normal(0, 1e-3, (3, 4)) * p.n_batch
    w, v = optimizer_step("rmaxprop", w0, m, np.zeros_like(w0), p.n_batch, p.r0, p)
    q = p.replace(eps=k * p.eps, w_min_V=-100.0, w_max_V=100.0)
    w_g, v_g = optimizer_step("rmaxprop", 1e3 * w0, k * m, np.zeros_like(w0), q.n_batch, 1e3 * p.r0, q)
    np.testing.assert_allclose(w_g, 1e3 * w, rtol=1e-12)
    np.testing.assert_allclose(v_g, k**2 * v, rtol=1e-12)

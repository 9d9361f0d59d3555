"""SPEC variants (superspike_ref.variants, issue P10 item 3): each one changes the reference as
documented, a candidate built with it fails the default check, passes when it declares it, and the
failing report names the variant that would explain the difference.
"""
from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from superspike_ref import conventions as conv
from superspike_ref.__main__ import main
from superspike_ref.cases import load_case, run_case
from superspike_ref.files import save_npz
from superspike_ref.neuron import LIFState, lif_step, membrane_update, membrane_update_exact
from superspike_ref.params import Params
from superspike_ref.validation import validate
from superspike_ref.variants import VARIANTS, Discretisation, apply_variants, check_variants

CASES = Path(__file__).resolve().parent / "data" / "cases"
CASE = CASES / "two-layer-dw-symmetric"


def _expected(case_dir: Path) -> dict:
    with np.load(case_dir / "expected.npz") as f:
        return {k: f[k] for k in f.files}


# --------------------------------------------------------------------------------------
# the variants at the unit level, against independent oracles
# --------------------------------------------------------------------------------------

def test_exact_membrane_step_is_the_ode_solution_with_constant_current():
    """A constant current from rest: U(t) = u_rest + I (1 - exp(-t/τ_mem)) at every step (closed form)."""
    p = Params()
    U, I = np.array([p.u_rest_V]), np.array([4e-3])
    for n in range(1, 301):
        U = membrane_update_exact(U, I, p)
        closed = p.u_rest_V + I * (1 - math.exp(-n * p.dt_s / p.tau_mem_s))
        np.testing.assert_allclose(U, closed, rtol=1e-12, atol=0)
    euler = membrane_update(np.array([p.u_rest_V]), I, p)
    exact = membrane_update_exact(np.array([p.u_rest_V]), I, p)
    assert abs(exact - euler)[0] > 1e-3 * abs(euler - p.u_rest_V)[0]   # the two forms really differ


def test_threshold_ge_spikes_where_u_tilde_equals_theta_exactly():
    """With U = θ and I = θ - u_rest, eq. (b) gives Ũ = θ exactly: '>' does not spike, '>=' does."""
    p = Params()
    state = LIFState(I_V=np.zeros(1), U_V=np.array([p.theta_V]), r=np.zeros(1, dtype=np.int64))
    drive = np.array([p.theta_V - p.u_rest_V])
    _, U_tilde, S = lif_step(state, drive, p)
    assert U_tilde[0] == p.theta_V and not S[0]
    new, U_tilde, S = lif_step(state, drive, p, Discretisation(threshold_ge=True))
    assert U_tilde[0] == p.theta_V and S[0] and new.U_V[0] == p.u_rest_V and new.r[0] == p.n_ref


def test_registry_and_names():
    assert list(VARIANTS) == ["exact-integration", "threshold-ge", "no-delay", "auryn-error-kernel"]
    assert check_variants("no-delay") == ("no-delay",)
    assert check_variants(["no-delay", "no-delay"]) == ("no-delay",)
    with pytest.raises(ValueError, match="unknown variant 'euler'"):
        check_variants(["euler"])
    with pytest.raises(TypeError):
        check_variants([3])
    case = load_case(CASE)
    network, discretisation = apply_variants((), case.network)
    assert network is case.network and discretisation == Discretisation()
    network, discretisation = apply_variants(["no-delay", "exact-integration"], case.network)
    assert network.params.delay_s == 0.0 and network.params.n_delay == 0
    assert discretisation == Discretisation(exact_membrane=True)


def test_fast_engine_refuses_variants():
    with pytest.raises(ValueError, match="literal engine only"):
        run_case(CASE, engine="fast", variants=["no-delay"])


# --------------------------------------------------------------------------------------
# a candidate built with a variant: fails by default, passes when declared, is explained
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, first", [("exact-integration", "U_tilde_1"), ("no-delay", "z_0"),
                                         ("auryn-error-kernel", "e_2")])
def test_candidate_with_a_variant_is_explained(name, first):
    candidate = run_case(CASE, variants=[name])
    assert not np.array_equal(candidate[first], _expected(CASE)[first])
    report = validate(candidate, CASE)
    assert not report.ok and report.first_failure.key == first
    assert report.explained_by == (name,)
    assert f"variant {name} would explain the difference" in report.format_table()
    assert report.to_dict()["explained_by"] == [name] and report.to_dict()["variants"] == []
    declared = validate(candidate, CASE, variants=[name])
    assert declared.ok and declared.variants == (name,) and declared.explained_by == ()
    assert f"SPEC variants declared: {name}" in declared.format_table()


def test_independent_exact_integration_candidate():
    """An exact-integration LIF written here from the equation (not the library's) passes with the variant."""
    case = load_case(CASE)
    p, (W0, W1) = case.network.params, case.network.weights
    decay_mem, decay_syn = math.exp(-p.dt_s / p.tau_mem_s), math.exp(-p.dt_s / p.tau_syn_s)
    inputs = case.task.input_block(0, case.n_steps)
    traces, pre = {}, [inputs]
    for l, W in ((1, W0), (2, W1)):
        arriving = np.zeros_like(pre[-1])
        arriving[p.n_delay:] = pre[-1][:case.n_steps - p.n_delay]
        I, U, r = np.zeros(W.shape[0]), np.full(W.shape[0], p.u_rest_V), np.zeros(W.shape[0], int)
        U_tilde, S = np.zeros((case.n_steps, W.shape[0])), np.zeros((case.n_steps, W.shape[0]), bool)
        for n in range(case.n_steps):
            I = decay_syn * I + W @ arriving[n]
            U_tilde[n] = np.where(r > 0, p.u_rest_V, p.u_rest_V + (U - p.u_rest_V) * decay_mem + I * (1 - decay_mem))
            S[n] = (r == 0) & (U_tilde[n] > p.theta_V)
            U, r = np.where(S[n], p.u_rest_V, U_tilde[n]), np.where(S[n], p.n_ref, np.maximum(r - 1, 0))
        traces[f"U_tilde_{l}"], traces[f"S_{l}"] = U_tilde, S
        pre.append(S)
    keys = ["S_1", "S_2", "U_tilde_1", "U_tilde_2"]
    skip = [k for k in _expected(CASE) if k not in keys]
    report = validate(traces, CASE, skip=skip)
    assert not report.ok and report.explained_by == ("exact-integration",)
    assert validate(traces, CASE, skip=skip, variants=["exact-integration"]).ok


def _threshold_case(tmp_path: Path) -> Path:
    """One input, one LIF neuron, dyadic numbers: the first arriving spike makes Ũ = θ exactly.

    With ``dt/τ_mem = 1/8``, ``u_rest = 0``, ``θ = 2^-6`` and ``w = 8θ``, eq. (b) from rest gives
    ``Ũ = w/8 = θ`` without rounding.
    """
    d = tmp_path / "threshold"
    d.mkdir()
    dt = 2.0**-14
    params = {"dt_s": dt, "tau_mem_s": 8 * dt, "tau_syn_s": 40 * dt, "tau_rise_s": 50 * dt, "tau_decay_s": 100 * dt,
              "u_rest_V": 0.0, "theta_V": 2.0**-6, "t_ref_s": 4 * dt, "delay_s": 2 * dt, "t_batch_s": 100 * dt,
              "w_max_V": 0.25}
    spec = {"format": "superspike-case/1", "n_steps": 200, "layers": [1, 1], "params": params,
            "feedback": "symmetric", "optimizer": "rmaxprop", "record": ["S", "U_tilde", "e", "W"]}
    (d / "case.json").write_text(json.dumps(spec))
    inputs, target = np.zeros((200, 1), bool), np.zeros((200, 1), bool)
    inputs[[10, 120], 0] = True
    target[60, 0] = True
    save_npz(d / "arrays.npz", {"input": inputs, "target": target, "W0_0": np.array([[8 * 2.0**-6]])})
    return d


def test_threshold_ge_candidate_is_explained(tmp_path):
    case = _threshold_case(tmp_path)
    default, candidate = run_case(case), run_case(case, variants=["threshold-ge"])
    assert default["U_tilde_1"][12, 0] == 2.0**-6                    # θ exactly: '>' waits one step
    assert np.flatnonzero(default["S_1"])[0] == 13 and np.flatnonzero(candidate["S_1"])[0] == 12
    report = validate(candidate, case)
    assert report.first_failure.key == "S_1" and report.first_failure.first_step == 12
    assert report.explained_by == ("threshold-ge",)
    assert validate(candidate, case, variants=["threshold-ge"]).ok


def test_a_candidate_no_variant_explains_gets_none():
    candidate = _expected(CASE)
    candidate["e_2"] = 4 * candidate["e_2"]
    report = validate(candidate, CASE)
    assert not report.ok and report.explained_by == ()
    assert "would explain" not in report.format_table()


def test_auryn_convention_with_the_auryn_error_kernel_is_exact():
    """The original code's numbers (auryn convention) of a run with its error kernel pass when declared."""
    case = load_case(CASE)
    paper = run_case(CASE, variants=["auryn-error-kernel"])
    context = conv.TraceContext.from_network(case.network, [paper["W_0"], paper["W_1"]])
    auryn = conv.from_paper(paper, "auryn", replace(context, euler_error_rise=True))
    c = case.network.params.dt_s / case.network.params.tau_rise_s
    np.testing.assert_array_equal(auryn["e_2"], paper["e_2"] * c)
    report = validate(auryn, CASE, convention="auryn", variants=["auryn-error-kernel"])
    assert report.ok and report.result("v_0").converter == "exact"
    undeclared = validate(auryn, CASE, convention="auryn")
    assert not undeclared.ok and undeclared.explained_by == ("auryn-error-kernel",)
    assert undeclared.result("v_0").converter.startswith("approximate")


def test_cli_variant(tmp_path, capsys):
    traces = tmp_path / "traces.npz"
    save_npz(traces, run_case(CASE, variants=["no-delay"]))
    assert main(["validate", str(traces), "--against", str(CASE)]) == 1
    assert "variant no-delay would explain the difference" in capsys.readouterr().out
    assert main(["validate", str(traces), "--against", str(CASE), "--variant", "no-delay", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["variants"] == ["no-delay"]
    assert main(["validate", str(traces), "--against", str(CASE), "--variant", "exact"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown variant 'exact'" in err
    golden = CASES / "surrogate-grid"
    assert main(["validate", str(traces), "--against", str(golden), "--variant", "no-delay"]) == 2
    assert main(["run-case", str(CASE), "--out", str(tmp_path / "v.npz"), "--variant", "no-delay",
                 "--engine", "fast", "--no-progress"]) == 2

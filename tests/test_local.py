"""Stage-local diagnosis, ``validate --local`` (issue P10 item 2): every key recomputed from the
candidate's own upstream keys, so that independent bugs fail exactly their stages.

The buggy float64 candidates are the reference engine with one derivation function replaced
(``core`` calls them by name); the float32 candidate is ``tests/test_precision.py``'s.
"""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from superspike_ref import core
from superspike_ref.__main__ import main
from superspike_ref.cases import run_case
from superspike_ref.eligibility import psp_trace_step
from superspike_ref.feedback import hidden_errors
from superspike_ref.filters import follow_step
from superspike_ref.local import LocalReport, local_inputs
from superspike_ref.neuron import LIFState, lif_step
from superspike_ref.validation import load_case, load_npz, validate

CASES = Path(__file__).parent / "data" / "cases"
SPEC_CASES = sorted(p.parent.name for p in CASES.glob("*/case.json"))
TWO_LAYER = [name for name in SPEC_CASES if name.startswith("two-layer")]
SYMMETRIC = "two-layer-dw-symmetric"


def _precision_tests():
    spec = importlib.util.spec_from_file_location("precision_tests", Path(__file__).parent / "test_precision.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run_float32 = _precision_tests().run_float32


def expected(name: str) -> dict:
    return load_npz(CASES / name / "expected.npz")


def slow_z_tilde(z, z_tilde, arriving, params):
    """Bug 1: the z̃ follower with a 5 % too long τ_mem (z itself is right)."""
    z, _ = psp_trace_step(z, z_tilde, arriving, params)
    return z, follow_step(z_tilde, z, params.dt_s / (1.05 * params.tau_mem_s))


def strong_feedback(e_out, weights, kind, feedback_matrices):
    """Bug 2: hidden errors 1 % too large."""
    return [1.01 * e for e in hidden_errors(e_out, weights, kind, feedback_matrices)]


def buggy_run(monkeypatch, name: str, **replaced) -> dict:
    """The reference engine's traces on a case with ``core``'s functions ``replaced``."""
    with monkeypatch.context() as patch:
        for function, bug in replaced.items():
            patch.setattr(core, function, bug)
        return run_case(CASES / name)


def failing(report) -> set:
    return {r.key for r in report.results if not r.ok}


# --------------------------------------------------------------------------------------
# a correct candidate passes
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SPEC_CASES)
def test_the_reference_passes_locally_bit_for_bit(name):
    report = validate(expected(name), CASES / name, local=True)
    assert isinstance(report, LocalReport) and report.ok and report.failing_stages == ()
    assert report.first_failure is None
    for r in report.results:
        assert r.verdict in ("pass", "not checkable"), r.key
        assert r.verdict == "not checkable" or r.max_abs == 0.0, (r.key, r.max_abs)


def test_keys_whose_inputs_the_case_does_not_record_are_not_checkable():
    """short-training-run records U_tilde, S, e, W, v: no I for Ũ, no m or λ for W and v."""
    report = validate(expected("short-training-run"), CASES / "short-training-run", local=True)
    verdicts = {r.key: (r.verdict, r.missing) for r in report.results}
    assert verdicts["U_tilde_1"] == ("not checkable", ("I_1",))
    assert verdicts["W_0"] == ("not checkable", ("m_0", "lambda_0"))
    assert verdicts["S_1"][0] == verdicts["e_1"][0] == verdicts["e_2"][0] == "pass"
    assert report.ok and "not checkable locally: U_tilde_1 (needs I_1)" in report.format_table()


@pytest.mark.parametrize("name", TWO_LAYER + ["one-synapse-eligibility"])
def test_a_float32_run_passes_locally_in_the_float32_tier_only(name):
    traces = run_float32(CASES / name)
    assert validate(traces, CASES / name, precision="float32", local=True).ok
    strict = validate(traces, CASES / name, local=True)
    assert not strict.ok and "S" not in strict.failing_stages         # float32 rounding, spikes all kept


# --------------------------------------------------------------------------------------
# bugs: exactly their stages
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", TWO_LAYER)
def test_two_independent_bugs_fail_exactly_their_two_stages(monkeypatch, name):
    traces = buggy_run(monkeypatch, name, psp_trace_step=slow_z_tilde, hidden_errors=strong_feedback)
    local = validate(traces, CASES / name, local=True)
    assert local.failing_stages == ("z_tilde", "e")
    assert failing(local) == {"z_tilde_0", "z_tilde_1", "e_1"}
    assert local.result("e_1").max_rel == pytest.approx(0.01, rel=1e-6)
    table = local.format_table()
    assert "failing stages: z_tilde, e" in table and "first wrong" not in table
    whole = validate(traces, CASES / name)
    assert whole.first_failure.stage == "z_tilde"
    assert failing(whole) >= failing(local) | {"lambda_0", "lambda_1", "m_0", "m_1"}   # downstream of z̃


@pytest.mark.parametrize("name", TWO_LAYER)
def test_float32_bugs_fail_their_stages_in_the_float32_tier(name):
    slow_syn = validate(run_float32(CASES / name, tau_syn_factor=1.05), CASES / name, precision="float32", local=True)
    assert slow_syn.failing_stages == ("I", "z")               # both filter with the wrong decay_syn
    feedback = validate(run_float32(CASES / name, feedback_scale=1.01), CASES / name, precision="float32", local=True)
    assert failing(feedback) == {"e_1"}


def test_a_spike_that_diverges_once_leaves_every_later_stage_checkable(monkeypatch):
    """One forced extra spike of hidden neuron 0 at step 60: globally everything after it fails,
    locally only ``S_1`` at that step (the candidate stays consistent with its own spike)."""
    params = load_case(CASES / SYMMETRIC).network.params
    assert not expected(SYMMETRIC)["S_1"][55:70, 0].any()
    calls = []

    def extra_spike(state, drive_V, p, *discretisation):
        new, U_tilde, S = lif_step(state, drive_V, p, *discretisation)
        calls.append(None)
        if len(calls) == 2 * 60 + 1:                          # step 60, first LIF layer (two layers per step)
            S = S.copy()
            S[0] = True
            new = LIFState(new.I_V, np.where(S, p.u_rest_V, new.U_V), np.where(S, p.n_ref, new.r))
        return new, U_tilde, S

    traces = buggy_run(monkeypatch, SYMMETRIC, lif_step=extra_spike)
    local = validate(traces, CASES / SYMMETRIC, local=True)
    assert failing(local) == {"S_1"}
    s_1 = local.result("S_1")
    assert (s_1.n_bad, s_1.first_index) == (1, (60, 0))
    assert traces["U_tilde_1"][61:60 + params.n_ref + 1, 0].tolist() == [params.u_rest_V] * params.n_ref
    whole = validate(traces, CASES / SYMMETRIC)
    assert whole.first_failure.key == "S_1"
    assert failing(whole) >= {"S_1", "U_tilde_1", "z_1", "I_2", "lambda_0", "e_1", "m_0"}


def test_two_hidden_layers_symmetric_feedback_goes_back_layer_by_layer(tmp_path, small_hidden_setup, monkeypatch):
    """e_1 is recomputed from the candidate's own e_2 (not from e_3): scaling every hidden error by
    1.01 is wrong at e_2 only, since e_1 = W_1.T e_2 still holds for the candidate's own e_2."""
    net, task = small_hidden_setup(3, layers=(20, 6, 4, 2), feedback="symmetric", w0_V=0.5)
    case = tmp_path / "deep"
    case.mkdir()
    (case / "case.json").write_text(json.dumps({
        "format": "superspike-case/1", "n_steps": 400, "layers": [20, 6, 4, 2],
        "params": {"t_batch_s": 0.01, "r0": 0.002}, "feedback": "symmetric", "optimizer": "rmaxprop",
        "record": ["U_tilde", "S", "I", "z", "z_tilde", "sigma_prime", "e", "lambda", "m", "W", "v"]}))
    np.savez(case / "arrays.npz", input=task.input, target=task.target,
             **{f"W0_{k}": w for k, w in enumerate(net.weights)})
    traces = run_case(case)
    assert all(traces[f"S_{l}"].any() for l in (1, 2, 3))
    assert validate(traces, case, local=True).ok
    with monkeypatch.context() as patch:
        patch.setattr(core, "hidden_errors", strong_feedback)
        buggy = run_case(case)
    assert failing(validate(buggy, case, local=True)) == {"e_2"}
    assert {"e_1", "e_2"} <= failing(validate(buggy, case))


def test_a_float32_run_passes_the_public_conformance_cases_locally(conformance_dir):
    for case in sorted(p.parent for p in conformance_dir.glob("*/case.json")):
        report = validate(run_float32(case), case, precision="float32", local=True)
        assert report.ok and not report.not_checkable, (case.name, report.failing_stages)


# --------------------------------------------------------------------------------------
# missing and skipped keys
# --------------------------------------------------------------------------------------

def test_a_missing_key_fails_and_leaves_its_downstream_stage_not_checkable():
    traces = expected(SYMMETRIC)
    del traces["I_1"]
    report = validate(traces, CASES / SYMMETRIC, local=True)
    assert not report.ok and failing(report) == {"I_1"} and report.failing_stages == ("I",)
    assert report.result("I_1").problem == "missing" and report.result("I_1").verdict == "fail"
    not_checkable = report.result("U_tilde_1")
    assert (not_checkable.verdict, not_checkable.missing, not_checkable.ok) == ("not checkable", ("I_1",), True)
    assert report.result("U_tilde_2").verdict == "pass"
    assert "not checkable (needs I_1)" in report.format_table()


def test_skipped_traces_are_not_read_as_inputs():
    report = validate(expected(SYMMETRIC), CASES / SYMMETRIC, skip=("lambda", "m"), local=True)
    assert report.ok
    assert {r.key: r.missing for r in report.not_checkable} == {
        "W_0": ("m_0", "lambda_0"), "W_1": ("m_1", "lambda_1"),
        "v_0": ("m_0", "lambda_0"), "v_1": ("m_1", "lambda_1")}


def test_without_an_update_the_weights_need_no_input(tmp_path):
    """A run shorter than a batch: ``W_k`` is only the initial weights, compared with ``W0_k``."""
    case = tmp_path / "short"
    case.mkdir()
    spec = json.loads((CASES / SYMMETRIC / "case.json").read_text())
    (case / "case.json").write_text(json.dumps(spec | {"n_steps": 100, "record": ["S", "W"]}))
    (case / "arrays.npz").write_bytes((CASES / SYMMETRIC / "arrays.npz").read_bytes())
    traces = run_case(case)
    report = validate(traces, case, local=True)
    assert report.ok and report.result("W_0").verdict == "pass" and report.result("W_0").inputs == ()
    assert report.result("S_1").missing == ("U_tilde_1",)
    traces["W_1"] = traces["W_1"] + 1e-3
    assert validate(traces, case, local=True).failing_stages == ("W",)


def test_the_inputs_of_every_stage():
    case = load_case(CASES / "two-layer-dw-random")                   # random feedback, rho > 0
    assert local_inputs("z_0", case) == ()
    assert local_inputs("I_2", case) == ("W_1", "S_1")
    assert local_inputs("e_1", case) == ("e_2",)
    assert local_inputs("m_0", case) == ("e_1", "lambda_0", "W_0", "S_1")
    assert local_inputs("W_1", case) == ("m_1", "e_2", "lambda_1")
    assert local_inputs("e_1", load_case(CASES / SYMMETRIC)) == ("e_2", "W_1")


# --------------------------------------------------------------------------------------
# command line and JSON
# --------------------------------------------------------------------------------------

def test_cli_local_json_marks_every_key_with_stage_and_verdict(tmp_path, capsys):
    good = tmp_path / "good.npz"
    np.savez(good, **expected(SYMMETRIC))
    assert main(["validate", str(good), "--against", str(CASES / SYMMETRIC), "--local", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "local" and out["ok"] and out["failing_stages"] == [] and out["first_failure"] is None
    assert {(k["key"], k["stage"], k["verdict"]) for k in out["keys"]} >= {("S_1", "S", "pass"), ("W_1", "W", "pass")}
    assert all(k["verdict"] == "pass" for k in out["keys"])
    assert main(["validate", str(good), "--against", str(CASES / SYMMETRIC), "--json"]) == 0
    whole = json.loads(capsys.readouterr().out)
    assert "mode" not in whole and all("verdict" not in k for k in whole["keys"])   # global output unchanged


def test_cli_local_exit_status_and_float32(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.npz"
    np.savez(bad, **buggy_run(monkeypatch, SYMMETRIC, psp_trace_step=slow_z_tilde, hidden_errors=strong_feedback))
    assert main(["validate", str(bad), "--against", str(CASES / SYMMETRIC), "--local", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["failing_stages"] == ["z_tilde", "e"] and out["n_failed"] == 3
    assert {k["key"] for k in out["keys"] if k["verdict"] == "fail"} == {"z_tilde_0", "z_tilde_1", "e_1"}
    single = tmp_path / "float32.npz"
    np.savez(single, **run_float32(CASES / SYMMETRIC))
    against = ["--against", str(CASES / SYMMETRIC)]
    assert main(["validate", str(single), *against, "--local", "--precision", "float32"]) == 0
    assert "PASS: all 22 checkable keys agree" in capsys.readouterr().out
    assert main(["validate", str(single), *against, "--local", "--rtol", "0", "--atol-scale", "0"]) == 1
    capsys.readouterr()


def test_cli_local_against_a_golden_directory_is_a_user_error(tmp_path, capsys):
    golden = CASES / "kernel-impulse-responses"
    candidate = tmp_path / "c.npz"
    np.savez(candidate, **load_npz(golden / "expected.npz"))
    assert main(["validate", str(candidate), "--against", str(golden), "--local"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(golden) in err[0] and "case.json" in err[0]

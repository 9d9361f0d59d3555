"""The golden cases of real networks (issue P10 item 5): each pins down what its name says.

tests/test_validation_kit.py runs every golden case through both engines; these tests check that
each new case exercises its feature: two feedback hops, no delay, XOR error impulses, the
regulariser with the gate, and a 200-256-200 network that records only S, W and v.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from superspike_ref.cases import load_case
from superspike_ref.error import van_rossum_error
from superspike_ref.files import load_npz
from superspike_ref.network import LiteralEngine
from superspike_ref.validation import validate

CASES_DIR = Path(__file__).resolve().parent / "data" / "cases"


def _case(name: str):
    return load_case(CASES_DIR / name), load_npz(CASES_DIR / name / "expected.npz")


def test_two_hidden_layers_carry_the_output_error_through_their_feedback_matrices():
    case, exp = _case("two-hidden-layers")
    B = case.network.feedback_matrices
    assert case.network.layers == (6, 4, 3, 2) and len(B) == 2
    for l in (1, 2):
        np.testing.assert_allclose(exp[f"e_{l}"], exp["e_3"] @ B[l - 1], rtol=1e-12, atol=1e-15)
        assert np.abs(exp[f"e_{l}"]).max() > 0 and np.abs(exp[f"m_{l - 1}"]).max() > 0


def test_delay_zero_lets_a_spike_act_in_its_own_step():
    case, exp = _case("delay-zero")
    assert case.network.params.n_delay == 0
    first = int(np.flatnonzero(case.task.input[:, 0])[0])
    assert exp["z_0"][first, 0] == 1.0 and exp["z_0"][:first, 0].max() == 0.0


def test_xor_case_error_is_the_window_rule():
    case, exp = _case("xor-error-impulses")
    impulses, _ = case.task.error_impulses(0, exp["S_2"], False)
    assert impulses.max() == 1.0 and impulses.min() == -1.0       # an unanswered window and a wrong spike
    np.testing.assert_allclose(exp["e_2"], van_rossum_error(impulses, case.network.params), rtol=1e-12, atol=1e-15)
    target_error = van_rossum_error(-exp["S_2"].astype(float), case.network.params)
    assert not np.allclose(exp["e_2"], target_error)              # not the van Rossum error of an empty target


def test_regulariser_and_gate_both_act():
    case, exp = _case("regulariser-gate")
    p = case.network.params
    assert p.rho > 0 and p.e_gate > 0
    gated = np.abs(exp["e_1"]) < p.e_gate
    assert gated.any() and not gated.all()
    for changes in ({"e_gate": 0.0}, {"rho": 0.0}):
        network = replace(case.network, params=p.replace(**changes))
        other = LiteralEngine(network, case.task).run(case.n_steps, record=["m"]).traces
        assert not np.allclose(other["m_0"], exp["m_0"], rtol=1e-6, atol=0), changes


def test_large_network_records_only_spikes_weights_and_v():
    case, exp = _case("layers-200-256-200")
    assert case.network.layers == (200, 256, 200) and case.record == ("S", "W", "v")
    assert sorted(exp) == ["S_1", "S_2", "W_0", "W_1", "v_0", "v_1"]
    assert exp["W_0"].shape == (2, 256, 200) and exp["v_1"].shape == (1, 200, 256)
    assert exp["S_1"].sum() > 10 and exp["S_2"].sum() > 10
    candidate = dict(exp, S_2=exp["S_2"].copy())
    candidate["S_2"][30, 7] ^= True
    report = validate(candidate, CASES_DIR / "layers-200-256-200")
    assert report.first_failure.key == "S_2" and report.first_failure.first_index == (30, 7)

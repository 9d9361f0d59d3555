"""Gradient cases (issue P10 item 4): ``dL_dW_<k>`` by BPTT in run_case and validate, without PyTorch."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from superspike_ref.network import LiteralEngine
from superspike_ref.precision import float32_coefficients
from superspike_ref.validation import load_case, run_case, validate

CASES = Path(__file__).parent / "data" / "cases"
GRADIENT_CASES = ("gradient-free", "gradient-detached-reset")


def expected(name: str) -> dict:
    with np.load(CASES / name / "expected.npz") as f:
        return {k: f[k] for k in f.files}


@pytest.mark.parametrize("name", GRADIENT_CASES)
def test_the_golden_gradient_cases_hold_their_gradients(name):
    traces = run_case(CASES / name)
    stored = expected(name)
    assert {"dL_dW_0", "dL_dW_1"} <= set(stored)
    for key in ("dL_dW_0", "dL_dW_1"):
        assert traces[key].shape == stored[key].shape
        np.testing.assert_allclose(traces[key], stored[key], rtol=1e-9, atol=1e-10 * np.abs(stored[key]).max())
        assert np.count_nonzero(stored[key]) > 0.8 * stored[key].size   # most synapses get a gradient in the window


def test_the_variants_differ_in_every_layer():
    free, detached = expected("gradient-free"), expected("gradient-detached-reset")
    for key in ("dL_dW_0", "dL_dW_1"):
        assert np.max(np.abs(free[key] - detached[key])) > 0.1 * np.max(np.abs(free[key]))


def test_the_output_accumulator_is_the_free_gradient():
    """SPEC §3: for the output layer, m after the window's last step is -(1/dt) dL/dW (free)."""
    case, stored = load_case(CASES / "gradient-free"), expected("gradient-free")
    window = case.gradient["window_steps"]
    assert window < case.network.params.n_batch
    m = LiteralEngine(case.network, case.task).run(window, record=("m",)).traces["m_1"]
    np.testing.assert_allclose(m[-1], -stored["dL_dW_1"] / case.network.params.dt_s,
                               rtol=1e-9, atol=1e-12 * np.abs(m).max())


@pytest.mark.parametrize("name", GRADIENT_CASES)
def test_a_wrong_gradient_fails_in_its_own_stage(name):
    traces = expected(name)
    report = validate(traces, CASES / name)
    assert report.ok and report.result("dL_dW_0").stage == "dL_dW"
    traces["dL_dW_0"] = traces["dL_dW_0"] * (1 + 1e-6)
    report = validate(traces, CASES / name)
    assert not report.ok and [r.key for r in report.results if not r.ok] == ["dL_dW_0"]
    first = report.first_failure
    assert first.key == "dL_dW_0" and first.first_step is None and len(first.first_index) == 2
    assert "one value for the window" in report.describe_failure()


def test_the_other_variant_fails():
    traces = expected("gradient-free")
    traces.update({k: v for k, v in expected("gradient-detached-reset").items() if k.startswith("dL_dW")})
    report = validate(traces, CASES / "gradient-free")
    assert {r.key for r in report.results if not r.ok} == {"dL_dW_0", "dL_dW_1"}


def test_float32_tier_holds_the_gradient_to_its_coefficient():
    traces = {k: v if v.dtype == bool else v.astype(np.float32) for k, v in expected("gradient-free").items()}
    report = validate(traces, CASES / "gradient-free", precision="float32")
    assert report.ok
    net = load_case(CASES / "gradient-free").network
    c = float32_coefficients(net.params, net.layers, net.feedback, {k: traces[k] for k in ("W_0", "W_1")})
    # the output gradient's c_k is m's with the window (120 steps) instead of the batch (150 steps)
    assert report.tolerances["dL_dW_1"][0] == pytest.approx((c["m_1"] - 30) * 2.0**-24)
    traces["dL_dW_1"] = traces["dL_dW_1"] * (1 + 1e-2)
    assert not validate(traces, CASES / "gradient-free", precision="float32").ok


def test_local_check_skips_the_gradient():
    report = validate(expected("gradient-free"), CASES / "gradient-free", local=True)
    assert report.ok and {"dL_dW_0", "dL_dW_1"} <= set(report.skipped)


@pytest.mark.parametrize("gradient, message", [
    ({"window_steps": 0, "variant": "free"}, "window_steps"),
    ({"window_steps": 10, "variant": "soft"}, "variant"),
    ({"window_steps": 10}, "exactly"),
    ({"window_steps": 201, "variant": "free"}, "at most n_steps"),
])
def test_a_bad_gradient_field_is_one_error_naming_it(tmp_path, gradient, message):
    case = tmp_path / "case"
    shutil.copytree(CASES / "gradient-free", case)
    spec = json.loads((case / "case.json").read_text())
    (case / "case.json").write_text(json.dumps({**spec, "gradient": gradient}))
    with pytest.raises(ValueError, match=f"field 'gradient'.*{message}"):
        load_case(case)

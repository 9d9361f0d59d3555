"""The PyTorch example (examples/pytorch_superspike.py) validated by the kit; skipped without PyTorch.

``make test-torch`` installs the ``torch`` extra and runs these tests (marker ``torch``).
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from superspike_ref.validation import validate  # noqa: E402

pytestmark = pytest.mark.torch
ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "data" / "cases"
GRADIENT_CASES = ("gradient-free", "gradient-detached-reset")


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("pytorch_superspike", ROOT / "examples" / "pytorch_superspike.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(example, case: str, dtype: str, tmp_path) -> Path:
    out = tmp_path / f"{case}-{dtype}.npz"
    example.main([str(CASES / case), "--dtype", dtype, "--out", str(out)])
    return out


@pytest.mark.parametrize("case", GRADIENT_CASES + ("two-layer-dw-random", "short-training-run"))
def test_float64_passes_the_default_tier(example, case, tmp_path):
    report = validate(run(example, case, "float64", tmp_path), CASES / case)
    assert report.ok, report.format_table()


@pytest.mark.parametrize("case", GRADIENT_CASES)
def test_float32_passes_its_tier_and_fails_the_default(example, case, tmp_path):
    path = run(example, case, "float32", tmp_path)
    with np.load(path) as f:
        assert f["dL_dW_0"].dtype == np.float32 and f["U_tilde_1"].dtype == np.float32
    report = validate(path, CASES / case, precision="float32")
    assert report.ok, report.format_table()
    assert {r.key for r in report.results if r.stage == "dL_dW"} == {"dL_dW_0", "dL_dW_1"}
    assert not validate(path, CASES / case).ok


@pytest.mark.parametrize("case", GRADIENT_CASES)
def test_surrogate_at_the_potential_after_the_reset_fails(example, case, tmp_path, monkeypatch):
    """A planted bug: σ′ of the potential after the reset (u_rest at a spike), in the online rule and in BPTT."""
    right = example.surrogate

    def after_reset(U_tilde, P):
        return right(torch.where(U_tilde > P["theta_V"], torch.full_like(U_tilde, P["u_rest_V"]), U_tilde), P)

    monkeypatch.setattr(example, "surrogate", after_reset)
    report = validate(run(example, case, "float64", tmp_path), CASES / case)
    failed = {r.key for r in report.results if not r.ok}
    assert {"dL_dW_0", "dL_dW_1"} <= failed
    if case == "gradient-free":                         # the only one that records σ′
        assert report.first_failure.stage == "sigma_prime"


def test_the_wrong_variant_fails_only_in_the_gradient(example, tmp_path, monkeypatch):
    spec, P, arrays = example.read_case(CASES / "gradient-free")
    spec["gradient"]["variant"] = "detached_reset"
    gradients = example.bptt_gradients(spec, P, arrays, torch.float64)
    with np.load(run(example, "gradient-free", "float64", tmp_path)) as f:
        traces = {**{k: f[k] for k in f.files}, **gradients}
    report = validate(traces, CASES / "gradient-free")
    assert {r.key for r in report.results if not r.ok} == {"dL_dW_0", "dL_dW_1"}

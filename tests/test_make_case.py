"""make-case (superspike_ref.make_case, issue P10 item 5): a case of any size, valid and with its own
expected traces; XOR cases; refusing to overwrite; the memory check.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from superspike_ref.__main__ import main
from superspike_ref.cases import load_case
from superspike_ref.error import van_rossum_error
from superspike_ref.files import load_npz
from superspike_ref.make_case import case_arrays, make_case
from superspike_ref.validation import validate
from superspike_ref.xor import XorRasterTask


def test_made_case_loads_and_validates_its_own_traces(tmp_path, capsys):
    out = tmp_path / "net"
    args = ["make-case", "--layers", "40", "24", "8", "6", "--steps", "400", "--feedback", "random", "--seed", "3",
            "--rho", "0.2", "--e-gate", "1e-6", "--delay-s", "0.0005", "--param", "t_batch_s=0.01",
            "--rate-hz", "40", "--w0", "0.4", "--record", "S", "U_tilde", "e", "W", "v", "--out", str(out)]
    assert main(args) == 0
    case = load_case(out)
    p = case.network.params
    assert case.network.layers == (40, 24, 8, 6) and case.network.feedback == "random"
    assert (p.rho, p.e_gate, p.delay_s, p.n_batch) == (0.2, 1e-6, 0.0005, 100)
    expected = load_npz(out / "expected.npz")
    assert expected["W_0"].shape == (5, 24, 40) and expected["v_2"].shape == (4, 6, 8)
    assert expected["S_1"].any() and not np.array_equal(expected["W_0"][0], expected["W_0"][-1])
    assert validate(expected, out).ok
    wrong = dict(expected, U_tilde_2=expected["U_tilde_2"] + 1e-6)
    assert validate(wrong, out).first_failure.key == "U_tilde_2"
    assert main(args) == 2                                                 # refuses to overwrite
    assert f"{out / 'case.json'} exists" in capsys.readouterr().err
    assert main(args + ["--force"]) == 0
    assert load_npz(out / "expected.npz")["W_0"].tobytes() == expected["W_0"].tobytes()   # same seed, same case


def test_same_seed_same_arrays_other_seed_other_arrays():
    _, a = case_arrays((10, 5, 2), 300, "uniform", seed=1)
    _, b = case_arrays((10, 5, 2), 300, "uniform", seed=1)
    _, c = case_arrays((10, 5, 2), 300, "uniform", seed=2)
    assert sorted(a) == ["B_1", "W0_0", "W0_1", "input", "target"]
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["W0_0"], c["W0_0"])


def test_xor_case(tmp_path):
    out = make_case(tmp_path / "xor", (30, 10, 2), 1500, task="xor", seed=5, record=("S", "e"), rate_Hz=20.0)
    spec = json.loads((out / "case.json").read_text())
    assert spec["task"] == "xor" and spec["xor_window_steps"] == 250
    case = load_case(out)
    assert isinstance(case.task, XorRasterTask)
    onsets, labels = case.task.onset_steps, case.task.labels
    assert onsets[0] == 100 and np.all(onsets + 250 <= 1500) and set(labels) <= {0, 1}
    expected = load_npz(out / "expected.npz")
    impulses, _ = case.task.error_impulses(0, expected["S_2"], False)
    assert np.any(impulses > 0)                  # +1 where a window closed unanswered: not Ŝ - S with Ŝ = 0
    np.testing.assert_allclose(expected["e_2"], van_rossum_error(impulses, case.network.params), rtol=1e-12, atol=1e-15)
    assert validate(expected, out).ok
    with pytest.raises(ValueError, match="2 outputs"):
        case_arrays((30, 10, 3), 1500, task="xor")
    with pytest.raises(ValueError, match="too short"):
        case_arrays((30, 10, 2), 200, task="xor")


def test_xor_case_fields_are_checked(tmp_path):
    out = make_case(tmp_path / "xor", (12, 4, 2), 400, task="xor", record=("S",))
    spec = json.loads((out / "case.json").read_text())
    del spec["xor_window_steps"]
    (out / "case.json").write_text(json.dumps(spec))
    with pytest.raises(ValueError, match="field 'xor_window_steps'"):
        load_case(out)
    spec.update(xor_window_steps=250, n_steps=401)
    (out / "case.json").write_text(json.dumps(spec))
    with pytest.raises(ValueError, match="field 'n_steps'"):
        load_case(out)


def test_memory_check_and_bad_input_are_one_line(tmp_path, capsys):
    base = ["make-case", "--layers", "200", "256", "200", "--steps", "2000", "--out", str(tmp_path / "big")]
    assert main(base + ["--max-memory", "1M"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--steps 2000" in err and not (tmp_path / "big").exists()
    small = ["make-case", "--layers", "5", "2", "--steps", "10", "--out", str(tmp_path / "small"), "--param"]
    assert main(small + ["rho"]) == 2
    assert "--param must be NAME=NUMBER" in capsys.readouterr().err
    assert main(small + ["tau=1"]) == 2
    assert "unknown parameter name" in capsys.readouterr().err
    assert main(small[:-1] + ["--optimizer", "fixed"]) == 2            # records v by default: nothing left behind
    assert "cannot record 'v'" in capsys.readouterr().err and not any((tmp_path / "small").iterdir())

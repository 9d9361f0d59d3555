"""Tests of superspike_ref.validation: case files (SPEC §9), running them, comparing traces."""
from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from superspike_ref import LiteralEngine, Params
from superspike_ref import validation as V

CASES = ["public-single-rmsprop-ucut", "public-hidden-symmetric-burnin", "public-hidden-random-regulariser"]


# --------------------------------------------------------------------------------------
# public conformance cases
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CASES)
def test_conformance_case(name, conformance_dir):
    case_dir = conformance_dir / name
    if not case_dir.is_dir():
        pytest.skip(f"{case_dir} is absent")
    traces = V.run_case(case_dir)
    with np.load(case_dir / "expected.npz") as f:
        expected = {k: f[k] for k in f.files}
    report = V.compare_traces(traces, expected)
    assert set(report) == set(expected)
    bad = {k: r for k, r in report.items() if not r["ok"]}
    assert not bad, bad
    # the case really exercises something: spikes and learning happened
    assert any(expected[k].any() for k in expected if k.startswith("S_"))
    assert not np.array_equal(expected["W_0"][0], expected["W_0"][-1])


def test_conformance_case_in_two_pieces(conformance_dir):
    """engine.run() in two calls gives the same traces as the expected single run."""
    case_dir = conformance_dir / "public-hidden-random-regulariser"
    if not case_dir.is_dir():
        pytest.skip(f"{case_dir} is absent")
    case = V.load_case(case_dir)
    eng = LiteralEngine(case.network, case.task)
    split = 1234  # mid-batch (n_b = 100) and mid-cycle (1500)
    a = eng.run(split, record=case.record).traces
    b = eng.run(case.n_steps - split, record=case.record).traces
    joined = {}
    for key in a:
        if key.startswith("W_"):
            joined[key] = np.concatenate([a[key], b[key][1:]])   # b[key][0] repeats a[key][-1]
            np.testing.assert_array_equal(b[key][0], a[key][-1])
        else:
            joined[key] = np.concatenate([a[key], b[key]])
    with np.load(case_dir / "expected.npz") as f:
        expected = {k: f[k] for k in f.files}
    report = V.compare_traces(joined, expected)
    assert all(r["ok"] for r in report.values()), {k: r for k, r in report.items() if not r["ok"]}


# --------------------------------------------------------------------------------------
# a case written here, then broken one field at a time
# --------------------------------------------------------------------------------------

def make_case():
    rng = np.random.default_rng(0)
    spec = {
        "format": "superspike-case/1",
        "name": "unit-random",
        "n_steps": 300,
        "layers": [6, 3, 2],
        "params": {"t_batch_s": 0.01, "r0": 0.002},
        "feedback": "random",
        "optimizer": "rmaxprop",
        "schedule": [[0.0, 1.0]],
        "t_burn_s": 0.0,
        "record": ["S", "W", "e"],
    }
    arrays = {
        "input": rng.random((100, 6)) < 0.05,
        "target": rng.random((100, 2)) < 0.01,
        "W0_0": rng.normal(0, 0.05, (3, 6)),
        "W0_1": rng.normal(0, 0.05, (2, 3)),
        "B_1": rng.normal(size=(2, 3)),
    }
    return spec, arrays


def write_case(path: Path, spec: dict, arrays: dict) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "case.json").write_text(json.dumps(spec))
    np.savez(path / "arrays.npz", **arrays)
    return path


def test_load_valid_case(tmp_path):
    spec, arrays = make_case()
    case = V.load_case(write_case(tmp_path / "c", spec, arrays))
    assert case.name == "unit-random" and case.n_steps == 300 and case.record == ("S", "W", "e")
    net = case.network
    assert net.layers == (6, 3, 2) and net.feedback == "random" and net.optimizer == "rmaxprop"
    assert net.params == Params(t_batch_s=0.01, r0=0.002)
    assert net.schedule == ((0.0, 1.0),) and net.t_burn_s == 0.0
    np.testing.assert_array_equal(net.weights[0], arrays["W0_0"])
    np.testing.assert_array_equal(net.weights[1], arrays["W0_1"])
    np.testing.assert_array_equal(net.feedback_matrices[0], arrays["B_1"])
    np.testing.assert_array_equal(case.task.input, arrays["input"])
    np.testing.assert_array_equal(case.task.target, arrays["target"])
    traces = V.run_case(tmp_path / "c")
    assert set(traces) == {"S_1", "S_2", "W_0", "W_1", "e_1", "e_2"}
    assert traces["W_0"].shape == (4, 3, 6)


def test_optional_fields_default(tmp_path):
    spec, arrays = make_case()
    for key in ("name", "params", "schedule", "t_burn_s"):
        del spec[key]
    case = V.load_case(write_case(tmp_path / "my-case", spec, arrays))
    assert case.name == "my-case" and case.network.params == Params()
    assert case.network.schedule == () and case.network.t_burn_s == 0.0


def test_symmetric_case_needs_no_B(tmp_path):
    spec, arrays = make_case()
    spec["feedback"] = "symmetric"
    del arrays["B_1"]
    assert V.load_case(write_case(tmp_path / "c", spec, arrays)).network.feedback_matrices is None


def _broken_spec(change):
    spec, arrays = make_case()
    change(spec)
    return spec, arrays


def _set(key, value):
    def change(spec):
        spec[key] = value
    return change


def _del(key):
    def change(spec):
        del spec[key]
    return change


def raises_naming(tmp_path, fn, field, exc_type=ValueError) -> str:
    """Call ``fn``; it must raise ``exc_type`` whose message names ``field`` (a regex) and a case file
    outside the path of ``tmp_path`` (which holds the test's name). Returns the message."""
    with pytest.raises(exc_type) as info:
        fn()
    message = str(info.value).replace(str(tmp_path), "<tmp>")
    assert re.search(field, message), message
    assert re.search(r"<tmp>/c/(case\.json|arrays\.npz)", message), message
    return message


JSON_BREAKS = [
    ("format", _set("format", "superspike-case/2")),
    ("format", _del("format")),
    ("n_steps", _del("n_steps")),
    ("layers", _del("layers")),
    ("feedback", _del("feedback")),
    ("optimizer", _del("optimizer")),
    ("record", _del("record")),
    ("field 'n_step'", _set("n_step", 300)),                 # unknown field
    ("seed", _set("seed", 1)),
    ("tau_membrane_s", _set("params", {"tau_membrane_s": 0.01})),   # unknown param name
    ("tau_mem_s", _set("params", {"tau_mem_s": 0.0})),               # bad param value
    ("t_batch_s", _set("params", {"t_batch_s": 0.01005})),
    ("theta_V", _set("params", {"theta_V": "high"})),
    ("params", _set("params", [0.01])),
    ("n_steps", _set("n_steps", 0)),
    ("n_steps", _set("n_steps", 1.5)),
    ("n_steps", _set("n_steps", "300")),
    ("n_steps", _set("n_steps", True)),
    ("layers", _set("layers", [6])),
    ("layers", _set("layers", [6, 0, 2])),
    ("layers", _set("layers", "6,3,2")),
    ("W0_0", _set("layers", [6, 4, 2])),                     # W0_0 then has the wrong shape
    ("record", _set("record", ["S", "voltage"])),
    ("record", _set("record", "S")),
    ("feedback", _set("feedback", "transpose")),
    ("optimizer", _set("optimizer", "adam")),
    ("t_burn_s", _set("t_burn_s", -1.0)),
    ("schedule", _set("schedule", [[1.0, 1.0], [0.5, 0.1]])),
    # ill-typed values of every field
    ("format", _set("format", ["superspike-case/1"])),
    ("name", _set("name", [1, 2])),
    ("layers", _set("layers", [6, True, 2])),
    ("layers", _set("layers", [6, 3.0, 2])),
    ("feedback", _set("feedback", ["random"])),
    ("feedback", _set("feedback", {"kind": "random"})),
    ("feedback", _set("feedback", None)),
    ("optimizer", _set("optimizer", [1])),
    ("optimizer", _set("optimizer", None)),
    ("schedule", _set("schedule", {"0": 1.0})),
    ("schedule", _set("schedule", ["ab"])),
    ("schedule", _set("schedule", [[0.0, 1.0, 2.0]])),
    ("schedule", _set("schedule", [[10**400, 1.0]])),
    ("schedule", _set("schedule", [[float("nan"), 1.0]])),
    ("schedule", _set("schedule", [[0.0, -1.0]])),
    ("schedule", _set("schedule", [[True, 1.0]])),
    ("t_burn_s", _set("t_burn_s", 10**400)),
    ("t_burn_s", _set("t_burn_s", float("inf"))),
    ("t_burn_s", _set("t_burn_s", [1])),
    ("t_burn_s", _set("t_burn_s", None)),
    ("theta_V", _set("params", {"theta_V": 10**400})),
    ("theta_V", _set("params", {"theta_V": [1]})),
    ("theta_V", _set("params", {"theta_V": None})),
    ("theta_V", _set("params", {"theta_V": True})),
    ("dt_s", _set("params", {"dt_s": 5e-324})),
    ("params", _set("params", "t_batch_s=0.01")),
    ("record", _set("record", {"S": 1})),
    ("record", _set("record", [["S"]])),
]


@pytest.mark.parametrize("field, change", JSON_BREAKS, ids=[f"{i}-{f}" for i, (f, _) in enumerate(JSON_BREAKS)])
def test_broken_json_field(tmp_path, field, change):
    spec, arrays = _broken_spec(change)
    raises_naming(tmp_path, lambda: V.load_case(write_case(tmp_path / "c", spec, arrays)), field)


def test_u_cut_may_be_null(tmp_path):
    spec, arrays = _broken_spec(_set("params", {"u_cut_V": None, "t_batch_s": 0.01}))
    assert V.load_case(write_case(tmp_path / "c", spec, arrays)).network.params.u_cut_V is None


SECRET = "SECRET-TEXT-0451"


@pytest.mark.parametrize("change", [
    _set("format", SECRET), _set("name", [SECRET]), _set("feedback", SECRET), _set("optimizer", SECRET),
    _set("record", ["S", SECRET]), _set("params", {"theta_V": SECRET}), _set("schedule", [[0.0, SECRET]]),
    _set("t_burn_s", SECRET), _set("layers", [6, SECRET, 2]), _set("n_steps", SECRET),
    _set("params", {SECRET * 5: 1.0}), _set(SECRET * 5, 1),
], ids=range(12))
def test_messages_never_echo_file_contents(tmp_path, change):
    spec, arrays = _broken_spec(change)
    with pytest.raises(ValueError) as info:
        V.load_case(write_case(tmp_path / "c", spec, arrays))
    assert SECRET not in str(info.value) and "case.json" in str(info.value)


def _array_break(key, value):
    def change(arrays):
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value(arrays[key])
    return change


ARRAY_BREAKS = [
    ("input", _array_break("input", None)),                                    # missing arrays
    ("target", _array_break("target", None)),
    ("W0_1", _array_break("W0_1", None)),
    ("B_1", _array_break("B_1", None)),
    ("input", _array_break("input", lambda a: a.astype(np.int64))),           # wrong dtypes
    ("target", _array_break("target", lambda a: a.astype(np.float64))),
    ("input", _array_break("input", lambda a: a[:, :5])),                     # wrong shapes
    ("target", _array_break("target", lambda a: np.zeros((100, 3), bool))),
    ("target", _array_break("target", lambda a: a[:99])),                     # period mismatch
    ("input", _array_break("input", lambda a: a[:, 0])),                      # 1-D
    ("B_1", _array_break("B_1", lambda a: a.T.copy())),
    ("B_1", _array_break("B_1", lambda a: a.astype(np.float32))),
    ("W0_1", _array_break("W0_1", lambda a: np.full_like(a, np.nan))),
    ("W0_0", _array_break("W0_0", lambda a: a.T.copy())),
    ("W0_0", _array_break("W0_0", lambda a: a.astype(np.float32))),
    ("W0_1", _array_break("W0_1", lambda a: a.astype(np.int64))),
    ("input", _array_break("input", lambda a: np.array(["x"] * 6))),
]


@pytest.mark.parametrize("field, change", ARRAY_BREAKS, ids=[f"{i}-{f}" for i, (f, _) in enumerate(ARRAY_BREAKS)])
def test_broken_array(tmp_path, field, change):
    spec, arrays = make_case()
    change(arrays)
    message = raises_naming(tmp_path, lambda: V.load_case(write_case(tmp_path / "c", spec, arrays)), field)
    assert "arrays.npz" in message


def _write_bytes(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _zip(path: Path, name: str, data) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(name, data)


def _npy_bytes(array=None, header: dict | None = None, data: bytes = b"") -> bytes:
    """A .npy file's bytes: of ``array``, or a ``header`` (dict) followed by ``data``."""
    buffer = io.BytesIO()
    if array is not None:
        np.save(buffer, array)
    else:
        np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + data


NPZ_BREAKS = [
    ("empty file", lambda p: _write_bytes(p, b"")),
    ("not a .npz archive", lambda p: _write_bytes(p, b"PK\x03\x04 " + SECRET.encode())),
    ("not a .npz archive", lambda p: _write_bytes(p, _npy_bytes(np.zeros(3)))),      # a bare .npy
    ("pickled \\(object\\) data", lambda p: np.savez(p, input=np.array([1, "a"], dtype=object))),
    ("array 'W0_0' has a malformed .npy header",
     lambda p: _zip(p, "W0_0.npy", b"\x93NUMPY\x01\x00\x20\x00{'descr': " + SECRET.encode())),
    ("array 'W0_0' is not a .npy array", lambda p: _zip(p, "W0_0.npy", SECRET)),
    (r"header saying shape \(1000000000000, 1000000000000\)",
     lambda p: _zip(p, "W0_0.npy", _npy_bytes(header={"descr": "<f8", "fortran_order": False,
                                                      "shape": (10**12, 10**12)}, data=b"\0" * 8))),
    ("structured", lambda p: np.savez(p, W0_0=np.zeros(2, dtype=[(SECRET, "<f8")]))),
    ("member .* is not a .npy array", lambda p: _zip(p, "notes.txt", SECRET)),
]


@pytest.mark.parametrize("reason, write", NPZ_BREAKS, ids=range(len(NPZ_BREAKS)))
def test_broken_arrays_npz_is_read_safely(tmp_path, reason, write):
    """load_case reads arrays.npz through the candidate's reader: one ValueError with the real reason."""
    spec, arrays = make_case()
    case = write_case(tmp_path / "c", spec, arrays)
    write(case / "arrays.npz")
    message = raises_naming(tmp_path, lambda: V.load_case(case), reason)
    assert "arrays.npz" in message and SECRET not in message


def test_case_json_not_json(tmp_path):
    spec, arrays = make_case()
    case = write_case(tmp_path / "c", spec, arrays)
    for data, reason in [(b"\xff\xfe\x00" + SECRET.encode(), "not UTF-8"), (b"[" * 100_000, "nested too deeply"),
                         (b'{"n_steps": ' + b"9" * 5000 + b"}", "too many digits"),
                         (SECRET.encode(), r"Expecting value: line 1, column 1")]:
        (case / "case.json").write_bytes(data)
        message = raises_naming(tmp_path, lambda: V.load_case(case), reason)
        assert SECRET not in message


def test_missing_files(tmp_path):
    spec, arrays = make_case()
    case = write_case(tmp_path / "c", spec, arrays)
    (case / "arrays.npz").unlink()
    with pytest.raises(FileNotFoundError, match="arrays.npz"):
        V.load_case(case)
    (case / "case.json").unlink()
    with pytest.raises(FileNotFoundError, match="case.json"):
        V.load_case(case)
    with pytest.raises(FileNotFoundError):
        V.load_case(tmp_path / "nowhere")


def test_invalid_json(tmp_path):
    spec, arrays = make_case()
    case = write_case(tmp_path / "c", spec, arrays)
    (case / "case.json").write_text("{format: 1")
    with pytest.raises(ValueError, match="case.json"):
        V.load_case(case)
    (case / "case.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="case.json"):
        V.load_case(case)


def test_run_case_unknown_engine(tmp_path):
    spec, arrays = make_case()
    with pytest.raises(ValueError, match="warp"):
        V.run_case(write_case(tmp_path / "c", spec, arrays), engine="warp")


# --------------------------------------------------------------------------------------
# compare_traces
# --------------------------------------------------------------------------------------

@pytest.fixture
def traces():
    rng = np.random.default_rng(3)
    return {
        "S_1": rng.random((50, 4)) < 0.2,
        "U_tilde_1": rng.normal(-0.055, 0.003, (50, 4)),
        "m_0": rng.normal(0, 1.0, (50, 4, 3)),
    }


def test_compare_identical(traces):
    report = V.compare_traces({k: v.copy() for k, v in traces.items()}, traces)
    assert set(report) == set(traces)
    for r in report.values():
        assert r["ok"] and r["max_abs"] == 0.0 and r["first_step"] is None


def test_compare_within_tolerance(traces):
    cand = {k: v.copy() for k, v in traces.items()}
    cand["U_tilde_1"] = cand["U_tilde_1"] * (1 + 5e-10)
    # an absolute error of 5e-11 × max|m| anywhere (also near zero) is inside atol_k
    cand["m_0"] = cand["m_0"] + 5e-11 * np.max(np.abs(traces["m_0"]))
    assert all(r["ok"] for r in V.compare_traces(cand, traces).values())


def test_compare_reports_first_step(traces):
    cand = {k: v.copy() for k, v in traces.items()}
    cand["U_tilde_1"][17, 2] *= 1 + 1e-8
    cand["U_tilde_1"][30, 0] *= 1 + 1e-6
    cand["S_1"][23, 1] = ~cand["S_1"][23, 1]
    cand["m_0"][41, 3, 2] += 1e-6
    report = V.compare_traces(cand, traces)
    assert report["U_tilde_1"] == pytest.approx(
        {"ok": False, "max_abs": abs(traces["U_tilde_1"][30, 0]) * 1e-6, "max_rel": 1e-6, "first_step": 17}, rel=1e-6
    )
    assert not report["S_1"]["ok"] and report["S_1"]["first_step"] == 23 and report["S_1"]["max_abs"] == 1.0
    assert not report["m_0"]["ok"] and report["m_0"]["first_step"] == 41
    assert report["m_0"]["max_abs"] == pytest.approx(1e-6, rel=1e-6)


def test_compare_missing_and_shape(traces):
    cand = {"S_1": traces["S_1"], "U_tilde_1": traces["U_tilde_1"][:-1]}
    report = V.compare_traces(cand, traces)
    assert report["S_1"]["ok"]
    assert not report["U_tilde_1"]["ok"] and "shape" in report["U_tilde_1"]["problem"]
    assert not report["m_0"]["ok"] and report["m_0"]["problem"] == "missing"


def test_compare_empty_keys():
    report = V.compare_traces({"v_0": np.zeros((0, 2, 3))}, {"v_0": np.zeros((0, 2, 3))})
    assert report["v_0"]["ok"]


def test_case_shorter_than_a_batch_compares(tmp_path):
    spec, arrays = make_case()
    spec["record"] = ["S", "W", "v"]
    spec["params"]["t_batch_s"] = 0.05          # 500 steps > n_steps = 300: no update
    traces = V.run_case(write_case(tmp_path / "c", spec, arrays))
    assert traces["v_0"].shape == (0, 3, 6) and traces["W_0"].shape == (1, 3, 6)
    report = V.compare_traces(traces, {k: v.copy() for k, v in traces.items()})
    assert all(r["ok"] for r in report.values())

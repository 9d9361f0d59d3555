"""Malformed and hostile inputs of the validation kit: case files, candidate .npz files, CSV folders.

Every bad input must give one clear ``ValueError`` / ``TypeError`` / ``FileNotFoundError`` from the
API (``load_case``, ``load_candidate``, ``read_csv_dir``, ``validate``), naming the file, never
quoting its contents, never reading a file outside the candidate's folder, in bounded time. The
first half tests named probes, the second half random inputs (hypothesis).
"""
from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from superspike_ref import validation as V
from superspike_ref.csv_mirror import CSV_DTYPES

API_ERRORS = (ValueError, TypeError, FileNotFoundError)
SECRET = "SECRET"                      # text planted in bad files: no message may quote it
OUTSIDE_VALUE = 4242.4242              # the only number in the file outside the candidate folder

PROPERTY = settings(max_examples=60, deadline=2000, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


# ----------------------------------------------------------------------------------------
# a small case (2 -> 2 -> 1, 40 steps, two updates) and its reference traces
# ----------------------------------------------------------------------------------------

def small_case_files() -> tuple:
    rng = np.random.default_rng(7)
    spec = {"format": V.CASE_FORMAT, "name": "tiny", "n_steps": 40, "layers": [2, 2, 1],
            "params": {"t_batch_s": 0.002}, "feedback": "random", "optimizer": "rmsprop",
            "schedule": [[0.0, 1.0]], "t_burn_s": 0.0, "record": ["S", "U_tilde", "e", "m", "W", "v"]}
    arrays = {"input": rng.random((20, 2)) < 0.2, "target": np.zeros((20, 1), bool),
              "W0_0": rng.normal(0.05, 0.01, (2, 2)), "W0_1": rng.normal(0.05, 0.01, (1, 2)),
              "B_1": rng.normal(size=(1, 2))}
    arrays["target"][10, 0] = True
    return spec, arrays


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory) -> Path:
    spec, arrays = small_case_files()
    path = tmp_path_factory.mktemp("case") / "tiny"
    path.mkdir()
    (path / "case.json").write_text(json.dumps(spec))
    V.save_npz(path / "arrays.npz", arrays)
    return path


@pytest.fixture(scope="module")
def traces(case_dir) -> dict:
    return V.run_case(case_dir)


def check_error(exc: Exception, *names: str) -> str:
    """The message of an API error: it names one of ``names`` and quotes nothing planted."""
    message = str(exc)
    assert isinstance(exc, API_ERRORS), repr(exc)
    assert not names or any(name in message for name in names), message
    assert SECRET not in message and str(OUTSIDE_VALUE) not in message, message
    return message


def write_folder(folder: Path, files: dict, index=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    if index is not None:
        (folder / "index.json").write_text(index if isinstance(index, str) else json.dumps(index))
    return folder


def entry(file="x.csv", shape=(2,), dtype="float64") -> dict:
    return {"file": file, "shape": list(shape), "dtype": dtype}


GOOD_CSV = "i0,x\n0,1.5\n1,2.5\n"


# ----------------------------------------------------------------------------------------
# CSV candidates stay inside their folder
# ----------------------------------------------------------------------------------------

@pytest.fixture
def outside(tmp_path) -> Path:
    """A CSV file outside every candidate folder, holding OUTSIDE_VALUE and SECRET."""
    path = tmp_path / "outside.csv"
    path.write_text(f"i0,x\n0,{OUTSIDE_VALUE}\n1,{SECRET}\n")
    return path


@pytest.mark.parametrize("file, problem", [
    ("../outside.csv", "inside"),
    ("sub/../../outside.csv", "inside"),
    ("ABSOLUTE", "relative"),
    ("/etc/hostname", "relative"),
    ("", "relative"),
    (["x.csv"], "relative"),
])
def test_index_file_must_stay_inside_the_folder(tmp_path, outside, file, problem):
    file = str(outside) if file == "ABSOLUTE" else file
    folder = write_folder(tmp_path / "cand", {"x.csv": GOOD_CSV}, {"x": entry(file)})
    with pytest.raises(ValueError) as info:
        V.read_csv_dir(folder)
    message = check_error(info.value, "index.json")
    assert "key 'x': field 'file'" in message and problem in message
    with pytest.raises(ValueError, match="field 'file'"):
        V.load_candidate(folder)


def test_symlink_leading_out_is_refused(tmp_path, outside):
    folder = write_folder(tmp_path / "cand", {}, {"x": entry("link.csv")})
    (folder / "link.csv").symlink_to(outside)
    with pytest.raises(ValueError) as info:
        V.read_csv_dir(folder)
    assert "symlink" in check_error(info.value, "index.json")
    (folder / "index.json").unlink()                              # without an index: the same rule
    with pytest.raises(ValueError) as info:
        V.read_csv_dir(folder)
    check_error(info.value, str(folder))


def test_symlink_inside_the_folder_is_fine(tmp_path):
    folder = write_folder(tmp_path / "cand", {"real.csv": GOOD_CSV}, {"x": entry("sub/../link.csv")})
    (folder / "link.csv").symlink_to(folder / "real.csv")
    (folder / "sub").mkdir()
    assert np.array_equal(V.read_csv_dir(folder)["x"], [1.5, 2.5])


def test_index_file_that_does_not_exist(tmp_path):
    folder = write_folder(tmp_path / "cand", {}, {"x": entry("absent.csv")})
    with pytest.raises(FileNotFoundError) as info:
        V.read_csv_dir(folder)
    assert "field 'file'" in check_error(info.value, "index.json")


# ----------------------------------------------------------------------------------------
# malformed index.json and CSV files: one ValueError naming the file and the field or line
# ----------------------------------------------------------------------------------------

INDEX_BREAKS = [
    ([1, 2], "must hold a JSON object"),
    ("{not json", "not valid JSON"),
    ({"x": "x.csv"}, "key 'x': must be an object"),
    ({"x": {"shape": [2], "dtype": "float64"}}, "field 'file' is missing"),
    ({"x": {"file": "x.csv", "dtype": "float64"}}, "field 'shape' is missing"),
    ({"x": {"file": "x.csv", "shape": [2]}}, "field 'dtype' is missing"),
    ({"x": entry(dtype="flaot")}, "field 'dtype' must be one of"),
    ({"x": entry(dtype="object")}, "field 'dtype' must be one of"),
    ({"x": entry(dtype=["float64"])}, "field 'dtype' must be one of"),
    ({"x": entry(dtype="i4,i4")}, "field 'dtype' must be one of"),
    ({"x": entry(shape=[10**12, 10**12])}, "expected shape (1000000000000, 1000000000000)"),
    ({"x": entry(shape=[3])}, "expected shape (3,)"),
    ({"x": entry(shape=[2, 1])}, "expected shape (2, 1)"),
    ({"x": {"file": "x.csv", "shape": [-2], "dtype": "float64"}}, "field 'shape' must be a list of non-negative"),
    ({"x": {"file": "x.csv", "shape": [True, 1], "dtype": "float64"}}, "field 'shape'"),
    ({"x": {"file": "x.csv", "shape": "2", "dtype": "float64"}}, "field 'shape'"),
    ({"x": {"file": "x.csv", "shape": [2**70], "dtype": "float64"}}, "field 'shape'"),
    ({SECRET * 20: entry(dtype="flaot")}, "key <a name of 120 characters>"),
]


@pytest.mark.parametrize("index, problem", INDEX_BREAKS, ids=range(len(INDEX_BREAKS)))
def test_malformed_index(tmp_path, index, problem):
    folder = write_folder(tmp_path / "cand", {"x.csv": GOOD_CSV}, index)
    with pytest.raises(ValueError) as info:
        V.read_csv_dir(folder)
    assert problem in check_error(info.value, "index.json", "x.csv")


def test_huge_long_format_shape_is_not_allocated(tmp_path):
    folder = write_folder(tmp_path / "cand", {"x.csv": "i0,i1,i2,x\n0,0,0,1.0\n"},
                          {"x": entry(shape=[10**6, 10**6, 10**6])})
    with pytest.raises(ValueError, match=r"1 rows of 3 indices do not fill shape \(1000000, 1000000, 1000000\)"):
        V.read_csv_dir(folder)


CSV_BREAKS = [
    (b"i0,x\n0,\xff\xfe\n", "line 2: not ASCII text"),
    (b"\x00\x01\xff", "line 1: not ASCII text"),
    (f"i0,x\n0,1.0\n1,{SECRET}\n".encode(), "line 3: a field is not a number"),
    (b"i0,x\n0,1.0\n1,2.0,3.0\n", "line 3: expected 2 fields, got 3"),
    (b"", "empty file"),
    (b"a,b\n1,2\n", "line 1: a header starts with i0"),
    (b"i0,x\n0,1.0\n5,2.0\n", "column i0 must count the rows"),
    (b"i0,x\nzero,1.0\n1,2.0\n", "line 2: a field is not an integer"),
    (b"i0,i1,x\n0,0,1.0\n0,0,2.0\n", "do not fill shape"),
    (b"i0,i1,x\n0,0,1.0\n0,5,2.0\n", "do not fill shape"),
    (b"i0,i1,x\n0,0,1.0\n0,-1,2.0\n", "do not fill shape"),
    (b"i0,i1,i2,x\n0,0,0,1\n0,0,0,2\n1,0,0,3\n1,0,0,4\n", "do not fill shape"),
    (b"i0,i3,x\n0,0,1.0\n", "line 1: a 2-D header is i0,<key>[0]"),
    (b"i0,i1,i3,x\n0,0,0,1.0\n", "line 1: a long-format header"),
    (b"x\n1.0\n2.0\n", "expected one value"),
]


@pytest.mark.parametrize("content, problem", CSV_BREAKS, ids=range(len(CSV_BREAKS)))
def test_malformed_csv_without_index(tmp_path, content, problem):
    folder = write_folder(tmp_path / "cand", {"x.csv": content})
    with pytest.raises(ValueError) as info:
        V.read_csv_dir(folder)
    assert problem in check_error(info.value, "x.csv")


def test_long_format_checks_every_element_once(tmp_path):
    good = "i0,i1,x\n1,0,3.0\n0,1,2.0\n0,0,1.0\n1,1,4.0\n"             # any order
    folder = write_folder(tmp_path / "cand", {"x.csv": good}, {"x": entry(shape=[2, 2])})
    assert np.array_equal(V.read_csv_dir(folder)["x"], [[1.0, 2.0], [3.0, 4.0]])
    folder = write_folder(tmp_path / "dup", {"x.csv": good.replace("1,1,4.0", "1,0,4.0")}, {"x": entry(shape=[2, 2])})
    with pytest.raises(ValueError, match="listed twice"):
        V.read_csv_dir(folder)
    folder = write_folder(tmp_path / "range", {"x.csv": good.replace("1,1,4.0", "1,2,4.0")}, {"x": entry(shape=[2, 2])})
    with pytest.raises(ValueError, match="out of range"):
        V.read_csv_dir(folder)


def test_integer_out_of_range(tmp_path):
    folder = write_folder(tmp_path / "cand", {"x.csv": "i0,x\n0,300\n1,1\n"}, {"x": entry(dtype="uint8")})
    with pytest.raises(ValueError, match="out of range for uint8"):
        V.read_csv_dir(folder)


# ----------------------------------------------------------------------------------------
# candidate .npz files
# ----------------------------------------------------------------------------------------

def npz_bytes(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def flip_data_byte(data: bytes) -> bytes:
    """A valid stored (uncompressed) .npz with one byte of array data changed: a CRC error."""
    raw = bytearray(data)
    raw[raw.index(b"\n", raw.index(b"NUMPY")) + 3] ^= 0xFF
    return bytes(raw)


CANDIDATE_BREAKS = [
    (b"", "empty file"),
    (os.urandom(300), "not a .npz archive"),
    (b"PK\x03\x04" + SECRET.encode(), "not a .npz archive"),
    (npz_bytes({"S_1": np.array([1, "a"], dtype=object)}), "array 'S_1' holds pickled (object) data"),
    (flip_data_byte(npz_bytes({"U_tilde_1": np.arange(8.0)})), "array 'U_tilde_1' is corrupt"),
    (npz_bytes({"e_1": np.zeros(4)})[:-30], "not a .npz archive"),
]


@pytest.mark.parametrize("content, problem", CANDIDATE_BREAKS, ids=range(len(CANDIDATE_BREAKS)))
def test_malformed_candidate_npz(tmp_path, case_dir, content, problem):
    path = tmp_path / "cand.npz"
    path.write_bytes(content)
    for call in (lambda: V.load_candidate(path), lambda: V.validate(path, case_dir)):
        with pytest.raises(ValueError) as info:
            call()
        assert problem in check_error(info.value, "cand.npz")


def test_valid_candidate_with_odd_arrays_is_reported_not_raised(tmp_path, case_dir, traces):
    cand = dict(traces)
    cand["S_1"] = np.array(["a", "b"])                             # a string array: a problem, reported
    cand["e_2"] = traces["e_2"].astype(np.complex128)
    cand["m_0"] = traces["m_0"][:, :1]
    V.save_npz(tmp_path / "cand.npz", cand)
    for convention in ("paper", "auryn", "genn"):
        report = V.validate(tmp_path / "cand.npz", case_dir, convention=convention)
        problems = {r.key: r.problem for r in report.results if r.problem}
        assert set(problems) == {"S_1", "e_2", "m_0"}, problems


# ----------------------------------------------------------------------------------------
# random inputs (hypothesis): a clear error or a result, never another exception
# ----------------------------------------------------------------------------------------

TEXT_VALUES = st.text(max_size=6).map(lambda s: SECRET + s)
NUMBERS = (st.integers() | st.sampled_from([0, -1, 2**63, 10**400]) | st.floats()
           | st.floats(min_value=1e-6, max_value=1.0))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | NUMBERS | TEXT_VALUES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
NEAR_VALID = {
    "n_steps": st.integers(-3, 100),
    "layers": st.lists(st.integers(-1, 4), max_size=4),
    "params": st.dictionaries(st.sampled_from(["dt_s", "t_batch_s", "tau_mem_s", "u_cut_V", "r0", "theta_V"]),
                              NUMBERS | st.none(), max_size=3),
    "feedback": st.sampled_from(["symmetric", "random", "uniform", "transpose"]),
    "optimizer": st.sampled_from(["rmaxprop", "rmsprop", "fixed", "adam"]),
    "schedule": st.lists(st.lists(NUMBERS, min_size=1, max_size=3), max_size=3),
    "t_burn_s": NUMBERS,
    "record": st.lists(st.sampled_from(["S", "W", "e", "voltage", 3]), max_size=4),
}
CASE_FIELDS = ["format", "name", "n_steps", "layers", "params", "feedback", "optimizer", "schedule",
               "t_burn_s", "record"]


@st.composite
def case_specs(draw):
    """case.json contents: the small case with fields deleted or replaced, maybe an unknown one."""
    spec, _ = small_case_files()
    for key in draw(st.lists(st.sampled_from(CASE_FIELDS), unique=True, min_size=1, max_size=3)):
        action = draw(st.sampled_from(["delete", "random", "near"]))
        if action == "delete":
            del spec[key]
        else:
            spec[key] = draw(NEAR_VALID.get(key, JSON_VALUES) if action == "near" else JSON_VALUES)
    if draw(st.integers(0, 9)) == 0:
        spec[draw(st.text(max_size=8))] = draw(JSON_VALUES)
    return draw(st.just(spec) | JSON_VALUES) if draw(st.integers(0, 9)) == 0 else spec


def _load_case_or_error(folder: Path):
    try:
        return V.load_case(folder)
    except API_ERRORS as exc:
        check_error(exc, "case.json", "arrays.npz", str(folder))
        return None


@PROPERTY
@given(spec=case_specs())
def test_any_case_json_gives_a_case_or_a_clear_error(case_dir, spec):
    _check_case_with(case_dir, "case.json", json.dumps(spec).encode())


def _check_case_with(case_dir, name: str, content: bytes) -> None:
    """A copy of ``case_dir`` with file ``name`` replaced by ``content`` loads or fails clearly."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "c"
        shutil.copytree(case_dir, folder)
        (folder / name).write_bytes(content)
        case = _load_case_or_error(folder)
        assert case is None or isinstance(case, V.Case)


ARRAY_DTYPES = st.sampled_from([np.bool_, np.int64, np.float32, np.float64, np.complex128, np.dtype("<U3")])
ARRAYS = hnp.arrays(ARRAY_DTYPES, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))


@st.composite
def mutated_bytes(draw, data: bytes):
    """``data`` truncated, with bytes overwritten, or replaced by random bytes."""
    kind = draw(st.sampled_from(["truncate", "overwrite", "random"]))
    if kind == "random":
        return draw(st.binary(max_size=400))
    at = draw(st.integers(0, len(data)))
    if kind == "truncate":
        return data[:at]
    return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at + 8:]


@st.composite
def arrays_npz_files(draw):
    """arrays.npz contents: arrays removed, replaced by odd ones, added; or the bytes mutated."""
    _, arrays = small_case_files()
    for key in draw(st.lists(st.sampled_from(["input", "target", "W0_0", "W0_1", "B_1", "extra"]),
                             unique=True, max_size=3)):
        if draw(st.booleans()):
            arrays.pop(key, None)
        else:
            arrays[key] = draw(ARRAYS)
    data = npz_bytes(arrays)
    return draw(mutated_bytes(data)) if draw(st.booleans()) else data


@PROPERTY
@given(content=arrays_npz_files())
def test_any_arrays_npz_gives_a_case_or_a_clear_error(case_dir, content):
    _check_case_with(case_dir, "arrays.npz", content)


@st.composite
def candidate_npz_files(draw, traces):
    cand = dict(traces)
    for key in draw(st.lists(st.sampled_from(sorted(traces) + ["extra"]), unique=True, max_size=3)):
        cand[key] = draw(ARRAYS)
    data = npz_bytes(cand)
    return draw(mutated_bytes(data)) if draw(st.booleans()) else data


@PROPERTY
@given(data=st.data(), convention=st.sampled_from(["paper", "auryn", "genn"]))
def test_any_candidate_npz_gives_a_report_or_a_clear_error(case_dir, traces, data, convention):
    content = data.draw(candidate_npz_files(traces))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cand.npz"
        path.write_bytes(content)
        try:
            cand = V.load_candidate(path)
            report = V.validate(path, case_dir, convention=convention)
        except API_ERRORS as exc:
            check_error(exc, "cand.npz")
        else:
            assert isinstance(cand, dict) and isinstance(report, V.Report)
            assert len(report.results) == len(traces)


CSV_TOKENS = st.sampled_from(["0", "1", "2.5", "-1e-3", "nan", "inf", "1e400", "9" * 30, ",", ",", "\n", "\n",
                              "i0", "i1", "i2", "x", "x[0]", "x[1]", SECRET, " ", "\r", "[", "\x00"])
CSV_CONTENT = st.lists(CSV_TOKENS, max_size=40).map("".join).map(str.encode) | st.binary(max_size=60)
KEYS_XYS = st.sampled_from(["x", "y", "S_1"])
FIELD_VALUES = (st.sampled_from(["x.csv", "y.csv", "S_1.csv", "../outside.csv", "OUTSIDE", "sub/../x.csv", ".", "",
                                 "/etc/hostname", [10**12, 10**12], [2], [2, 1], [-1], [2**64], "object", "flaot",
                                 "<U3"] + list(CSV_DTYPES))
                | st.lists(st.integers(-1, 3), max_size=3) | JSON_VALUES)
CSV_MUTATIONS = st.one_of(
    st.tuples(st.just("content"), KEYS_XYS, CSV_CONTENT),                      # a file replaced
    st.tuples(st.just("mutate"), KEYS_XYS, st.integers(0, 200), st.binary(min_size=1, max_size=4)),
    st.tuples(st.just("field"), KEYS_XYS, st.sampled_from(["file", "shape", "dtype"]), FIELD_VALUES),
    st.tuples(st.just("drop"), KEYS_XYS, st.sampled_from(["file", "shape", "dtype"])),
    st.tuples(st.just("index"), JSON_VALUES),                                   # index.json replaced
    st.tuples(st.just("no index")),
    st.tuples(st.just("link"), KEYS_XYS),                                       # a symlink leading out
)


def mutate_csv_folder(folder: Path, outside: Path, mutation: tuple) -> None:
    """Apply one mutation to a folder written by write_csv_dir."""
    kind, *args = mutation
    index_path = folder / "index.json"
    index = json.loads(index_path.read_text()) if index_path.is_file() else None
    entries = index if isinstance(index, dict) else {}
    if kind == "content":
        (folder / f"{args[0]}.csv").write_bytes(args[1])
    elif kind == "mutate" and (folder / f"{args[0]}.csv").is_file():
        data = (folder / f"{args[0]}.csv").read_bytes()
        (folder / f"{args[0]}.csv").write_bytes(data[:args[1]] + args[2] + data[args[1] + len(args[2]):])
    elif kind in ("field", "drop", "link") and isinstance(entries.get(args[0]), dict):
        if kind == "field":
            entries[args[0]][args[1]] = str(outside) if args[2] == "OUTSIDE" else args[2]
        elif kind == "drop":
            entries[args[0]].pop(args[1], None)
        else:
            (folder / "link.csv").unlink(missing_ok=True)
            (folder / "link.csv").symlink_to(outside)
            entries[args[0]]["file"] = "link.csv"
        index_path.write_text(json.dumps(entries))
    elif kind == "index":
        index_path.write_text(json.dumps(args[0]))
    elif kind == "no index":
        index_path.unlink(missing_ok=True)
    elif kind == "link":
        (folder / "link.csv").unlink(missing_ok=True)
        (folder / "link.csv").symlink_to(outside)


def _read_folder(folder: Path):
    try:
        arrays = V.read_csv_dir(folder)
    except API_ERRORS as exc:
        check_error(exc, str(folder))
        return None
    assert all(OUTSIDE_VALUE not in np.asarray(a, dtype=float) for a in arrays.values())
    return arrays


SMALL_ARRAYS = hnp.arrays(st.sampled_from(["bool", "int64", "float64"]).map(np.dtype),
                          hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))


@PROPERTY
@given(arrays=st.dictionaries(KEYS_XYS, SMALL_ARRAYS, min_size=1, max_size=3),
       mutations=st.lists(CSV_MUTATIONS, min_size=1, max_size=3))
def test_any_csv_folder_gives_arrays_or_a_clear_error(case_dir, arrays, mutations):
    with tempfile.TemporaryDirectory() as tmp:
        outside = Path(tmp) / "outside.csv"
        outside.write_text(f"i0,x\n0,{OUTSIDE_VALUE}\n1,{SECRET}\n")
        folder = Path(tmp) / "cand"
        V.write_csv_dir(folder, arrays)
        for mutation in mutations:
            mutate_csv_folder(folder, outside, mutation)
        if _read_folder(folder) is not None:
            try:
                report = V.validate(folder, case_dir)
            except API_ERRORS as exc:
                check_error(exc)
            else:
                assert not report.ok                                # nothing here is the reference


# ----------------------------------------------------------------------------------------
# valid inputs: round trips
# ----------------------------------------------------------------------------------------

KEYS = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,8}", fullmatch=True)
CSV_ARRAYS = hnp.arrays(st.sampled_from(CSV_DTYPES).map(np.dtype),
                        hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


@PROPERTY
@given(arrays=st.dictionaries(KEYS, CSV_ARRAYS, max_size=4), form=st.sampled_from(["csv", "npz"]))
def test_csv_and_npz_round_trip(arrays, form):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("mirror" if form == "csv" else "a.npz")
        write = V.write_csv_dir if form == "csv" else V.save_npz
        write(path, arrays)
        back = V.load_candidate(path)
        assert set(back) == set(arrays)
        assert all(_same(arrays[k], back[k]) for k in arrays), {k: (arrays[k], back[k]) for k in arrays}


@PROPERTY
@given(key=st.sampled_from(["U_tilde_1", "e_2", "m_0", "W_1", "v_0"]),
       scale=st.sampled_from([1e-14, 1e-12, 1e-7, 1e-3]), pick=st.integers(0, 39))
def test_validate_flags_exactly_what_leaves_tolerance(case_dir, traces, key, scale, pick):
    """A value at least half the key's largest, changed by ``scale`` relative: out of tolerance
    (1e-9 |exp| + 1e-10 max|exp|, at most 1.2e-9 relative there) if and only if scale >= 1e-7."""
    cand = {k: v.copy() for k, v in traces.items()}
    large = np.argwhere(np.abs(cand[key]) >= 0.5 * np.abs(cand[key]).max())
    index = tuple(int(i) for i in large[pick % len(large)])
    cand[key][index] *= 1 + scale
    report = V.validate(cand, case_dir)
    result = report.result(key)
    assert result.ok == (scale < 1e-9) and report.ok == result.ok
    if not result.ok:
        assert result.first_index == index and report.first_failure.key == key

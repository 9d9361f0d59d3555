"""Tests of the validation kit: validate(), its report and CLI, the golden cases and their mirrors."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from superspike_ref import conventions as C
from superspike_ref import validation as V
from superspike_ref.__main__ import main
from superspike_ref.io import read_ras

ROOT = Path(__file__).resolve().parents[1]
CASES_DIR = ROOT / "tests" / "data" / "cases"
SIM_CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "case.json").is_file())
VECTORS = sorted(p.name for p in CASES_DIR.iterdir() if (p / "golden.json").is_file())
SYMMETRIC = CASES_DIR / "two-layer-dw-symmetric"


def _load_script():
    spec = importlib.util.spec_from_file_location("make_golden_cases", ROOT / "scripts" / "make_golden_cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def expected(case_dir: Path) -> dict:
    with np.load(case_dir / "expected.npz") as f:
        return {k: f[k] for k in f.files}


NPZ_ONLY = ["layers-200-256-200"]
"""Cases without CSV mirrors (scripts/make_golden_cases.py NPZ_ONLY)."""


def test_golden_cases_exist():
    assert SIM_CASES == ["delay-zero", "gradient-detached-reset", "gradient-free", "layers-200-256-200", "one-synapse-eligibility", "regulariser-gate",
                         "short-training-run", "two-hidden-layers", "two-layer-dw-random",
                         "two-layer-dw-symmetric", "two-layer-dw-uniform", "xor-error-impulses"]
    assert VECTORS == ["kernel-impulse-responses", "surrogate-grid", "van-rossum-pairs"]
    assert _load_script().NPZ_ONLY == tuple(NPZ_ONLY)
    assert not (CASES_DIR / NPZ_ONLY[0] / "csv").exists()


def test_golden_cases_are_small():
    """1.8 MB before issue P10, which added at most 2 MB (five network cases, 0.96 MB)."""
    size = sum(p.stat().st_size for p in CASES_DIR.rglob("*") if p.is_file())
    assert size < 3.0e6, f"tests/data/cases holds {size / 1e6:.2f} MB"


# ----------------------------------------------------------------------------------------
# regression: the current code reproduces every golden case
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SIM_CASES)
def test_golden_case_reproduced(name):
    case_dir = CASES_DIR / name
    exp = expected(case_dir)
    traces = V.run_case(case_dir)
    assert set(traces) == set(exp)
    report = V.compare_traces(traces, exp)
    assert all(r["ok"] for r in report.values()), {k: r for k, r in report.items() if not r["ok"]}
    for key in exp:
        if key.startswith("S_"):
            assert traces[key].dtype == bool and np.array_equal(traces[key], exp[key])
    # the case exercises something: spikes in every layer, learning, an error signal
    assert all(exp[k].any() for k in exp if k.startswith("S_"))
    assert all(not np.array_equal(exp[k][0], exp[k][-1]) for k in exp if k.startswith("W_"))


@pytest.mark.parametrize("name", SIM_CASES)
def test_golden_case_fast_engine(name):
    case_dir = CASES_DIR / name
    report = V.validate(V.run_case(case_dir, engine="fast"), case_dir, skip=("lambda", "m"))
    assert report.ok, report.format_table()


def test_one_update_per_dw_case():
    for feedback in ("symmetric", "random", "uniform"):
        exp = expected(CASES_DIR / f"two-layer-dw-{feedback}")
        assert exp["W_0"].shape[0] == exp["W_1"].shape[0] == 2
        assert np.all(exp["m_0"][-1] == 0)                      # reset after the update


@pytest.mark.parametrize("name", VECTORS)
def test_golden_vector_reproduced(name):
    script = _load_script()
    _, inputs, exp = V.load_golden(CASES_DIR / name)
    fresh = script.compute_vector(name, inputs)
    assert set(fresh) == set(exp)
    report = V.compare_traces(fresh, exp)
    assert all(r["ok"] for r in report.values()), report
    assert V.validate(fresh, CASES_DIR / name).ok


def test_golden_vectors_science():
    _, _, sg = V.load_golden(CASES_DIR / "surrogate-grid")
    assert sg["sigma_prime_paper"].max() == 1.0 and sg["sigma_prime_auryn"].max() == 1000.0
    np.testing.assert_allclose(sg["sigma_prime_auryn"], sg["sigma_prime_genn"], rtol=1e-15)
    spec, _, vr = V.load_golden(CASES_DIR / "van-rossum-pairs")
    d = dict(zip((p["name"] for p in spec["pairs"]), vr["vr_distance"]))
    assert d["identical"] == 0.0 and d["empty"] == 0.0
    assert d["missing"] == pytest.approx(1.0, abs=5e-3) and d["extra"] == d["missing"]      # kernel cut after 40 ms
    assert d["shift_1ms"] < d["shift_5ms"] < d["shift_20ms"] < 2.0
    assert d["missing_near_end"] < 0.5
    _, _, k = V.load_golden(CASES_DIR / "kernel-impulse-responses")
    assert k["error_kernel_genn"].max() == pytest.approx(1.0, rel=1e-15)
    assert k["psp_kernel"].max() == pytest.approx(0.25, abs=0.005)


# ----------------------------------------------------------------------------------------
# manifest, provenance, determinism, mirrors
# ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def script():
    return _load_script()


@pytest.fixture(scope="module")
def fresh_cases(script, tmp_path_factory):
    """The golden cases generated afresh, once per module (it takes about a second)."""
    out = tmp_path_factory.mktemp("fresh") / "cases"
    script.generate(out)
    return out


def test_manifest_matches_files(script):
    lines = (CASES_DIR / "MANIFEST.sha256").read_text().splitlines()
    listed = {}
    for line in lines:
        digest, path = line.split("  ", 1)
        listed[path] = digest
    on_disk = {p.relative_to(CASES_DIR).as_posix() for p in CASES_DIR.rglob("*") if p.is_file()}
    assert set(listed) == on_disk - {"MANIFEST.sha256", "PROVENANCE.json"}
    assert set(script.NOT_DATA) == {"MANIFEST.sha256", "PROVENANCE.json"} <= on_disk
    for path, digest in listed.items():
        assert hashlib.sha256((CASES_DIR / path).read_bytes()).hexdigest() == digest, path


def test_provenance_records_how_and_where(script):
    prov = json.loads((CASES_DIR / "PROVENANCE.json").read_text())
    for field in ("superspike_ref", "numpy", "python", "platform", "machine", "processor", "blas", "environment"):
        assert field in prov, field
    assert prov["numpy"].count(".") >= 1 and prov["python"].count(".") == 2 and prov["machine"]
    manifest = (CASES_DIR / "MANIFEST.sha256").read_bytes()
    assert prov["manifest_sha256"] == hashlib.sha256(manifest).hexdigest()     # written with this data
    here = script.provenance(CASES_DIR)
    assert set(here) == set(prov) and here["manifest_sha256"] == prov["manifest_sha256"]


def test_committed_cases_equal_a_fresh_generation_within_tolerance(script, fresh_cases):
    """On any machine: the same files; arrays within SPEC §9 tolerance (spikes exact), text identical."""
    result = script.compare_dirs(CASES_DIR, fresh_cases)
    assert result["out"] == {}
    assert sorted(result["identical"] + result["within"]) == script.data_files(CASES_DIR)
    assert all(rel.endswith((".npz", ".csv")) for rel in result["within"])
    assert "README.md" in result["identical"] and "two-layer-dw-symmetric/case.json" in result["identical"]


def test_generation_is_bitwise_deterministic_in_one_process(script, fresh_cases, tmp_path):
    script.generate(tmp_path / "again")
    assert script.manifest_lines(tmp_path / "again") == script.manifest_lines(fresh_cases)
    assert (tmp_path / "again" / "MANIFEST.sha256").read_bytes() == (fresh_cases / "MANIFEST.sha256").read_bytes()


def test_generation_is_bitwise_deterministic_across_blas_threads(tmp_path):
    """Same machine, 1 or 2 OpenBLAS threads: the same bytes (the manifest hashes every data file)."""
    manifests = []
    for n in ("1", "2"):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=n, OMP_NUM_THREADS=n,          # this checkout's package
                   PYTHONPATH=os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))))
        out = tmp_path / f"threads{n}"
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_golden_cases.py"), "--out", str(out)],
                       env=env, check=True, capture_output=True, timeout=300)
        assert json.loads((out / "PROVENANCE.json").read_text())["environment"]["OPENBLAS_NUM_THREADS"] == n
        manifests.append((out / "MANIFEST.sha256").read_bytes())
    assert manifests[0] == manifests[1] and len(manifests[0].splitlines()) > 150


def test_compare_dirs_tells_bitwise_within_and_out_of_tolerance(script, fresh_cases, tmp_path, capsys):
    changed = tmp_path / "cases"
    shutil.copytree(fresh_cases, changed)

    def change_npz(rel, key, change):
        arrays = V.load_candidate(changed / rel)
        arrays[key] = change(arrays[key])
        V.save_npz(changed / rel, arrays)

    change_npz("two-layer-dw-random/expected.npz", "W_0", lambda w: w * (1 + 1e-13))        # last bits
    change_npz("short-training-run/expected.npz", "e_1", lambda e: e * (1 + 1e-6))          # beyond 1e-9
    change_npz("two-layer-dw-symmetric/expected.npz", "S_1", lambda s: ~s)                   # spikes exact
    mirror = changed / "short-training-run/csv/expected"
    v_0 = V.read_csv_dir(mirror)["v_0"]
    V.write_csv_array(mirror / "v_0.csv", "v_0", v_0 * (1 + 1e-12))
    with open(changed / "one-synapse-eligibility/ras/id0/S_1.ras", "a") as f:
        f.write("0.0599 0\n")
    result = script.compare_dirs(changed, fresh_cases)
    assert sorted(result["within"]) == ["short-training-run/csv/expected/v_0.csv", "two-layer-dw-random/expected.npz"]
    assert result["out"] == {"one-synapse-eligibility/ras/id0/S_1.ras": ["text differs"],
                             "short-training-run/expected.npz": ["e_1"],
                             "two-layer-dw-symmetric/expected.npz": ["S_1"]}
    script.write_manifest(changed)
    assert script.main(["--check", "--out", str(changed)]) == 1
    out = capsys.readouterr().out
    assert "2 within SPEC §9 tolerance, 3 out of tolerance" in out
    assert "OUT OF TOLERANCE: short-training-run/expected.npz: e_1" in out and "MANIFEST.sha256 matches" in out


def test_check_passes_on_the_committed_cases(script, capsys):
    assert script.main(["--check"]) == 0
    out = capsys.readouterr().out
    assert "0 out of tolerance" in out and "MANIFEST.sha256 matches" in out


@pytest.mark.parametrize("name", sorted(set(SIM_CASES + VECTORS) - set(NPZ_ONLY)))
def test_csv_mirrors_equal_npz(name):
    case_dir = CASES_DIR / name
    for group in ("arrays", "expected"):
        with np.load(case_dir / f"{group}.npz") as f:
            arrays = {k: f[k] for k in f.files}
        mirrored = V.read_csv_dir(case_dir / "csv" / group)
        assert set(mirrored) == set(arrays)
        for key, value in arrays.items():
            assert mirrored[key].dtype == value.dtype and mirrored[key].shape == value.shape, key
            assert np.array_equal(mirrored[key], value), key


@pytest.mark.parametrize("name", SIM_CASES)
def test_ras_mirrors(name):
    case_dir = CASES_DIR / name
    case = V.load_case(case_dir)
    exp = expected(case_dir)
    dt_s = case.network.params.dt_s
    rasters = {"input": case.task.input, "target": case.task.target}
    rasters.update({k: v for k, v in exp.items() if k.startswith("S_")})
    for id_base in (0, 1):
        for key, raster in rasters.items():
            back = read_ras(case_dir / "ras" / f"id{id_base}" / f"{key}.ras", raster.shape[1], dt_s,
                            duration_s=raster.shape[0] * dt_s, id_base=id_base)
            assert np.array_equal(back, raster), (key, id_base)


def test_csv_round_trip_shapes(tmp_path):
    arrays = {
        "scalar": np.array(2.5),
        "vec": np.array([1e-300, -0.0, 1 / 3]),
        "S_1": np.array([[True, False], [False, True]]),
        "cube": np.arange(24, dtype=float).reshape(2, 3, 4) / 7,
        "empty": np.zeros((0, 2, 3)),
        "no_columns": np.zeros((3, 0)),
        "ints": np.array([[1, 2], [3, 4]], dtype=np.int64),
    }
    V.write_csv_dir(tmp_path, arrays)
    back = V.read_csv_dir(tmp_path)
    for key, value in arrays.items():
        assert back[key].dtype == value.dtype and np.array_equal(back[key], value), key
    (tmp_path / "index.json").unlink()                        # without the index: inferred
    (tmp_path / "no_columns.csv").unlink()                    # its shape (3, 0) needs the index
    back = V.read_csv_dir(tmp_path)
    assert back["S_1"].dtype == bool and np.array_equal(back["cube"], arrays["cube"])
    (tmp_path / "bad.csv").write_text("i0,bad\n0,1,2\n")
    with pytest.raises(ValueError, match="bad.csv"):
        V.read_csv_array(tmp_path / "bad.csv")


def test_save_npz_is_reproducible(tmp_path):
    arrays = {"b": np.arange(3.0), "a": np.ones((2, 2), dtype=bool)}
    V.save_npz(tmp_path / "x.npz", arrays)
    V.save_npz(tmp_path / "y.npz", dict(reversed(list(arrays.items()))))
    assert (tmp_path / "x.npz").read_bytes() == (tmp_path / "y.npz").read_bytes()
    with np.load(tmp_path / "x.npz") as f:
        assert np.array_equal(f["a"], arrays["a"]) and f["a"].dtype == bool


def test_export_ras(tmp_path):
    paths = V.export_case_ras(SYMMETRIC, tmp_path / "r", id_base=1)
    assert [p.name for p in paths] == ["input.ras", "target.ras"]
    case = V.load_case(SYMMETRIC)
    back = read_ras(paths[1], 2, 1e-4, duration_s=case.task.n_cycle * 1e-4, id_base=1)
    assert np.array_equal(back, case.task.target)
    paths = V.export_traces_ras(SYMMETRIC / "expected.npz", tmp_path / "r", 1e-4)
    assert [p.name for p in paths] == ["S_1.ras", "S_2.ras"]


# ----------------------------------------------------------------------------------------
# validate(): the report
# ----------------------------------------------------------------------------------------

def test_validate_reference_passes():
    report = V.validate(SYMMETRIC / "expected.npz", SYMMETRIC)      # committed traces: any machine
    assert report.ok and report.first_failure is None
    assert [r.stage for r in report.results] == sorted((r.stage for r in report.results), key=V.STAGES.index)
    assert len(report.results) == 22 and all(r.max_rel <= 1e-12 for r in report.results)
    assert "PASS" in report.format_table()
    fresh = V.validate(V.run_case(SYMMETRIC), SYMMETRIC)             # this machine's run: bitwise
    assert fresh.ok and all(r.max_abs == 0.0 for r in fresh.results)


def test_validate_dict_candidate_with_extra_and_float_spikes():
    cand = expected(SYMMETRIC)
    cand["S_1"] = cand["S_1"].astype(float)
    cand["my_debug_trace"] = np.zeros(3)
    report = V.validate(cand, SYMMETRIC)
    assert report.ok and report.ignored == ("my_debug_trace",)


def test_validate_missing_and_wrong_shape_are_reported():
    cand = expected(SYMMETRIC)
    del cand["lambda_0"]
    cand["I_2"] = cand["I_2"][:, :1]
    cand["S_2"] = cand["S_2"].astype(float) * 2
    report = V.validate(cand, SYMMETRIC)
    assert not report.ok
    assert report.result("lambda_0").problem == "missing"
    assert "shape (150, 1)" in report.result("I_2").problem
    assert "0/1" in report.result("S_2").problem
    assert report.first_failure.key == "S_2"                  # no timed failure: the first problem in table order
    text = report.format_table()
    assert "missing" in text and "first wrong" in text


def test_first_failure_is_earliest_then_derivation_order():
    exp = expected(SYMMETRIC)
    n0 = int(np.nonzero(np.abs(exp["e_2"]).max(axis=1) > 0)[0][0])
    cand = {k: v.copy() for k, v in exp.items()}
    cand["e_2"][n0:] *= 1.01                                  # the error, and everything it feeds
    cand["e_1"][n0:] *= 1.01
    cand["m_1"][n0:-1] *= 1.01
    cand["W_1"][1] += 1e-6
    report = V.validate(cand, SYMMETRIC)
    first = report.first_failure
    assert (first.key, first.first_step, first.stage) == ("e_2", n0, "e")
    assert report.result("e_1").first_step == n0 and report.result("m_1").first_step == n0
    w = report.result("W_1")
    assert w.first_index[0] == 1 and w.first_step == 149          # update 1 ends step n_b - 1
    assert w.candidate - w.expected == pytest.approx(1e-6)
    assert f"step {n0}" in report.describe_failure()


def test_nan_fails():
    cand = expected(SYMMETRIC)
    cand["U_tilde_1"] = cand["U_tilde_1"].copy()
    cand["U_tilde_1"][40, 2] = np.nan
    report = V.validate(cand, SYMMETRIC)
    r = report.result("U_tilde_1")
    assert not r.ok and r.first_index == (40, 2) and r.max_abs == np.inf
    json.loads(report.to_json())                               # inf is written as a string


def test_skip():
    cand = {k: v for k, v in expected(SYMMETRIC).items() if not k.startswith(("lambda", "m_"))}
    assert not V.validate(cand, SYMMETRIC).ok
    report = V.validate(cand, SYMMETRIC, skip=("lambda", "m"))
    assert report.ok and set(report.skipped) == {"lambda_0", "lambda_1", "m_0", "m_1"}
    report = V.validate(cand, SYMMETRIC, skip=("lambda_0", "lambda_1", "m_0", "m_1"))
    assert report.ok and len(report.results) == 18


def test_skip_unknown_name_is_refused():
    with pytest.raises(ValueError, match=r"unknown name\(s\) \['lamda'\].*'lambda'.*'m_0'"):
        V.validate(expected(SYMMETRIC), SYMMETRIC, skip=("lamda",))
    with pytest.raises(ValueError, match="m_2"):                 # no connection 2 in a 5 -> 3 -> 2 network
        V.validate(expected(SYMMETRIC), SYMMETRIC, skip="m_2")
    with pytest.raises(ValueError, match="unknown"):
        V.validate({}, CASES_DIR / "surrogate-grid", skip=("sigma_prime_pepper",))
    with pytest.raises(TypeError, match="skip"):
        V.validate(expected(SYMMETRIC), SYMMETRIC, skip=(1,))
    short = CASES_DIR / "short-training-run"                     # a trace name the case does not record
    assert V.validate(expected(short), short, skip=("lambda",)).ok


def test_skipping_every_key_is_refused(capsys):
    with pytest.raises(ValueError, match="nothing to compare: every key was skipped"):
        V.validate(expected(SYMMETRIC), SYMMETRIC, skip=V.STAGES)
    golden = CASES_DIR / "kernel-impulse-responses"
    with pytest.raises(ValueError, match="nothing to compare"):
        V.validate(expected(golden), golden, skip=tuple(expected(golden)))
    args = ["validate", str(SYMMETRIC / "expected.npz"), "--against", str(SYMMETRIC), "--skip", *V.STAGES]
    assert main(args) == 2
    assert "nothing to compare" in capsys.readouterr().err


def test_table_columns_are_as_wide_as_their_content():
    golden = CASES_DIR / "kernel-impulse-responses"
    text = V.validate(expected(golden), golden).format_table(header=False)
    lines = text.splitlines()
    rows = lines[2:8]
    assert len(rows) == 6 and lines[1] == "-" * len(lines[1])
    for row in rows:                                           # stage and key are long: still two columns
        stage, key, shape, *rest = row.split()
        assert stage == key and key in expected(golden) and shape == "800" and rest[-1] == "ok"
        assert row.index(key, len(stage)) == lines[0].index("key")    # the key under its title
    assert "error_kernel_aurynerror" not in text and "error_kernel_auryn  error_kernel_auryn" in text


@pytest.mark.parametrize("convention", ["auryn", "genn"])
@pytest.mark.parametrize("name", ["two-layer-dw-symmetric", "two-layer-dw-random"])
def test_validate_other_conventions(convention, name):
    case_dir = CASES_DIR / name
    exp = expected(case_dir)
    case = V.load_case(case_dir)
    ctx = C.TraceContext.from_network(case.network, [exp["W_0"], exp["W_1"]])
    cand = C.from_paper(exp, convention, ctx)
    report = V.validate(cand, case_dir, convention=convention)
    assert report.ok, report.format_table()
    assert report.result("v_0").converter.startswith("approximate" if convention == "auryn" else "exact")
    wrong = V.validate(cand, case_dir)                         # the same numbers read as paper's
    first = wrong.first_failure
    if convention == "genn":                                   # weights in mV: wrong before the first step
        assert (first.key, first.first_step, first.first_index[0]) == ("W_0", -1, 0)
    else:                                                      # β·σ′ at rest, from step 0 on
        assert (first.key, first.first_step) == ("sigma_prime_1", 0)


def test_validate_csv_candidate(tmp_path):
    V.write_csv_dir(tmp_path / "cand", expected(SYMMETRIC))
    assert V.validate(tmp_path / "cand", SYMMETRIC).ok


def test_validate_golden_vector_dir():
    cand = {"sigma_prime_paper": expected(CASES_DIR / "surrogate-grid")["sigma_prime_paper"]}
    report = V.validate(cand, CASES_DIR / "surrogate-grid", skip=("sigma_prime_auryn",))
    assert not report.ok and {r.key for r in report.results if r.problem == "missing"} == {
        "sigma_prime_genn", "sigma_prime_paper_ucut"}
    with pytest.raises(ValueError, match="convention"):
        V.validate(cand, CASES_DIR / "surrogate-grid", convention="auryn")


def test_validate_format_errors(tmp_path):
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="junk.npz"):
        V.validate(tmp_path / "junk.npz", SYMMETRIC)
    with pytest.raises(FileNotFoundError):
        V.validate(tmp_path / "absent.npz", SYMMETRIC)
    with pytest.raises(FileNotFoundError):
        V.validate(expected(SYMMETRIC), tmp_path)
    with pytest.raises(ValueError, match="convention"):
        V.validate(expected(SYMMETRIC), SYMMETRIC, convention="norse")


# ----------------------------------------------------------------------------------------
# the command line
# ----------------------------------------------------------------------------------------

def test_cli_pass_and_fail(tmp_path, capsys):
    good = SYMMETRIC / "expected.npz"
    assert main(["validate", str(good), "--against", str(SYMMETRIC)]) == 0
    assert "PASS" in capsys.readouterr().out
    cand = expected(SYMMETRIC)
    cand["sigma_prime_1"] = 1000.0 * cand["sigma_prime_1"]     # β·σ′: the original code's scale
    np.savez(tmp_path / "bad.npz", **cand)
    assert main(["validate", str(tmp_path / "bad.npz"), "--against", str(SYMMETRIC)]) == 1
    out = capsys.readouterr().out
    assert "first wrong stage: sigma_prime" in out and "<== first wrong" in out
    assert main(["validate", str(tmp_path / "bad.npz"), "--against", str(SYMMETRIC), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["first_failure"]["key"] == "sigma_prime_1"
    assert report["first_failure"]["first_step"] == 0 and report["n_keys"] == 22


def test_cli_convention_and_skip(tmp_path, capsys):
    exp = expected(SYMMETRIC)
    ctx = C.TraceContext.from_network(V.load_case(SYMMETRIC).network, [exp["W_0"], exp["W_1"]])
    cand = {k: v for k, v in C.from_paper(exp, "genn", ctx).items() if not k.startswith("lambda")}
    np.savez(tmp_path / "genn.npz", **cand)
    args = ["validate", str(tmp_path / "genn.npz"), "--against", str(SYMMETRIC), "--convention", "genn"]
    assert main(args) == 1
    assert main(args + ["--skip", "lambda"]) == 0
    capsys.readouterr()


def test_cli_usage_errors(tmp_path, capsys):
    (tmp_path / "junk.npz").write_text("not a zip")
    assert main(["validate", str(tmp_path / "junk.npz"), "--against", str(SYMMETRIC)]) == 2
    assert main(["validate", str(SYMMETRIC / "expected.npz"), "--against", str(tmp_path)]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["validate", str(SYMMETRIC / "expected.npz"), "--against", str(SYMMETRIC), "--convention", "norse"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["validate", str(SYMMETRIC / "expected.npz")])
    assert exc.value.code == 2
    capsys.readouterr()

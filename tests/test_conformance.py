"""Capabilities, unsupported cases, the report's schema and provenance, and running a candidate directly (issue P10 items 6, 7)."""
import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import superspike_ref
from superspike_ref import conformance as C
from superspike_ref.__main__ import main
from superspike_ref.capabilities import Capabilities, as_capabilities, load_capabilities, unsupported_reasons
from superspike_ref.cases import load_case, run_case
from superspike_ref.provenance import REPORT_SCHEMA, case_sha256, report_schema
from superspike_ref.validation import validate

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "data" / "cases"
SMALL = [CASES / name for name in ("delay-zero", "regulariser-gate", "xor-error-impulses")]
CYCLIC_ONLY = {"tasks": ["cyclic"], "regulariser": False}


def reference_adapter(case):
    """A correct candidate: the reference itself, run on the case's folder."""
    return run_case(case["dir"])


def late_spikes(case):
    """A broken candidate: every potential 1 % too high."""
    traces = reference_adapter(case)
    return {k: v * 1.01 if k.startswith("U_tilde") else v for k, v in traces.items()}


# ---------------------------------------------------------------------------------- capabilities

def test_an_empty_declaration_declares_everything_and_round_trips():
    caps = as_capabilities({})
    assert caps == Capabilities() and "xor" in caps.tasks and caps.regulariser
    assert as_capabilities(caps.to_dict()) == caps
    assert all(not unsupported_reasons(caps, load_case(d)) for d in SMALL)


@pytest.mark.parametrize("declared, fragment", [
    ({"feedbak": ["random"]}, "unknown field 'feedbak'"),
    ({"feedback": ["random", "backprop"]}, "field 'feedback': must be a list of names from"),
    ({"optimizers": []}, "field 'optimizers': must not be empty"),
    ({"regulariser": "yes"}, "field 'regulariser': must be true or false"),
    ({"precision": "float16"}, "field 'precision': must be one of"),
    ({"records": "S"}, "field 'records'"),
    ([1, 2], "must be an object"),
])
def test_a_bad_declaration_names_the_field(declared, fragment):
    with pytest.raises(ValueError, match="^capabilities: ") as info:
        as_capabilities(declared)
    assert fragment in str(info.value)


def test_a_bad_capabilities_file_names_the_file_and_the_field(tmp_path):
    path = tmp_path / "caps.json"
    path.write_text(json.dumps({"tasks": ["cyclic", "picture"]}))
    with pytest.raises(ValueError, match=f"^{path}: field 'tasks'"):
        load_capabilities(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_capabilities(tmp_path / "none.json")


def test_each_requirement_of_a_case_is_named():
    regulariser_gate, xor = load_case(CASES / "regulariser-gate"), load_case(CASES / "xor-error-impulses")
    narrow = as_capabilities({"feedback": ["symmetric"], "optimizers": ["rmsprop"], "regulariser": False,
                              "error_gate": False, "tasks": ["cyclic"]})
    reasons = unsupported_reasons(narrow, regulariser_gate)
    assert [r.split(" ")[1] for r in reasons] == ["feedback", "optimizer", "regulariser", "error"]
    assert "rho = 0.2" in reasons[2] and "e_gate = 0.02" in reasons[3]
    assert unsupported_reasons(narrow, xor) == ("needs optimizer rmaxprop, not declared",
                                                "needs task xor, not declared")
    only_i = as_capabilities({"records": ["I", "lambda"]})
    assert unsupported_reasons(only_i, xor) == ("records ['S', 'e', 'W', 'v'], none of which the candidate records",)


def test_an_unsupported_case_is_reported_not_failed_and_the_candidate_is_not_run():
    called = []
    report = C.validate_declared(lambda: called.append(1), CASES / "xor-error-impulses", CYCLIC_ONLY)
    assert not called and report.verdict == "unsupported" and not report.ok and report.results == ()
    assert "UNSUPPORTED: needs task xor, not declared" in report.format_table()
    assert report.to_dict()["unsupported"] == ["needs task xor, not declared"]


def test_traces_the_candidate_does_not_record_are_skipped():
    case = CASES / "delay-zero"
    traces = {k: v for k, v in run_case(case).items() if not k.startswith(("z", "sigma_prime"))}
    assert not validate(traces, case).ok                            # missing keys fail without a declaration
    report = C.validate_declared(traces, case, {"records": ["S", "U_tilde", "I", "e", "W", "v"]})
    assert report.ok and set(report.skipped) == {"z_0", "z_1", "z_tilde_0", "z_tilde_1", "sigma_prime_1",
                                                 "sigma_prime_2"}
    assert report.provenance["options"]["skip"] == ["z", "z_tilde", "sigma_prime"]


def test_the_declared_convention_precision_and_variants_are_used():
    case = CASES / "delay-zero"
    report = C.validate_declared(run_case(case), case, {"precision": "float32", "variants": ["threshold-ge"]})
    assert report.precision == "float32" and report.variants == ("threshold-ge",)
    assert C.validate_declared(run_case(case), case, {"precision": "float32"}, precision="float64").precision == "float64"
    with pytest.raises(ValueError, match="golden vectors"):
        C.validate_declared({}, CASES / "surrogate-grid", {})


# ---------------------------------------------------------------------------------- provenance

def test_provenance_records_versions_options_and_the_case_hash(tmp_path):
    case = CASES / "delay-zero"
    prov = validate(run_case(case), case, skip="lambda", rtol=1e-8).to_dict()["provenance"]
    assert (prov["superspike_ref"], prov["numpy"]) == (superspike_ref.__version__, np.__version__)
    assert prov["python"] == ".".join(map(str, sys.version_info[:3]))
    assert prov["options"] == {"convention": "paper", "precision": "float64", "rtol": 1e-8, "atol_scale": None,
                               "local": False, "variants": [], "skip": ["lambda"]}
    assert prov["case_sha256"] == case_sha256(case)
    copy = tmp_path / "case"
    copy.mkdir()
    for name in ("case.json", "arrays.npz"):
        (copy / name).write_bytes((case / name).read_bytes())
    first = case_sha256(copy)
    (copy / "case.json").write_text((case / "case.json").read_text().replace('"n_steps": 100', '"n_steps": 99'))
    assert case_sha256(copy) != first


# ---------------------------------------------------------------------------------- schema

def _report_dicts() -> dict:
    case = CASES / "two-layer-dw-symmetric"
    good = run_case(case)
    bad = {k: v * 1.01 if k == "U_tilde_1" else v for k, v in good.items()}
    bad["extra"] = np.zeros(2)
    _, _, surrogate = superspike_ref.validation.load_golden(CASES / "surrogate-grid")
    return {
        "pass": validate(good, case).to_dict(),
        "fail": validate({k: v for k, v in bad.items() if k != "m_0"}, case).to_dict(),
        "local": validate(bad, case, local=True).to_dict(),
        "float32": validate(good, case, precision="float32").to_dict(),
        "variants": validate(good, case, variants=["threshold-ge"]).to_dict(),
        "golden": validate({k: np.full(v.shape, np.inf) for k, v in surrogate.items()}, CASES / "surrogate-grid").to_dict(),
        "unsupported": C.validate_declared(good, CASES / "xor-error-impulses", CYCLIC_ONLY).to_dict(),
        "conformance": C.run_conformance(late_spikes, CYCLIC_ONLY, SMALL).to_dict(),
    }


def test_every_kind_of_report_follows_the_shipped_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for kind, report in _report_dicts().items():
        report = json.loads(json.dumps(report))                     # as a reader of the file sees it
        assert report["schema"] == REPORT_SCHEMA
        errors = sorted(validator.iter_errors(report), key=str)
        assert not errors, (kind, errors[0].message, list(errors[0].absolute_path))
    broken = _report_dicts()["pass"]
    del broken["provenance"]["case_sha256"]
    assert not validator.is_valid(broken)
    assert not validator.is_valid({**_report_dicts()["pass"], "verdict": "maybe"})


def test_the_schema_is_package_data():
    text = (ROOT / "pyproject.toml").read_text()
    assert '[tool.setuptools.package-data]\n' in text and 'superspike_ref = ["schemas/*.json"]' in text
    assert (Path(superspike_ref.__file__).parent / "schemas" / "report-v1.json").is_file()
    assert report_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


# ---------------------------------------------------------------------------------- conformance

def test_the_case_description_is_plain_data_with_every_parameter():
    description = C.case_description(CASES / "xor-error-impulses")
    spec = json.loads((CASES / "xor-error-impulses" / "case.json").read_text())
    assert {k: description[k] for k in ("name", "layers", "n_steps", "feedback", "optimizer", "record", "task",
                                        "xor_window_steps")} == {k: spec[k] for k in (
        "name", "layers", "n_steps", "feedback", "optimizer", "record", "task", "xor_window_steps")}
    assert description["params"]["t_batch_s"] == 0.02 and description["params"]["tau_mem_s"] == 10e-3
    assert set(description["arrays"]) == {"input", "target", "W0_0", "W0_1", "xor_onset_steps", "xor_labels"}
    json.dumps({k: v for k, v in description.items() if k != "arrays"})     # everything else is JSON


def test_a_correct_adapter_passes_every_case_it_supports():
    reference_adapter.capabilities = CYCLIC_ONLY
    try:
        report = C.assert_conforms(reference_adapter, cases=SMALL)
    finally:
        del reference_adapter.capabilities
    assert [r.verdict for r in report.reports] == ["pass", "unsupported", "unsupported"]
    assert report.ok and report.adapter.endswith(":reference_adapter")
    assert "PASS: 1 cases pass, 2 unsupported." in report.format_table()
    assert C.run_conformance(reference_adapter, cases=SMALL).ok     # no declaration: everything, and it can


def test_a_broken_adapter_fails_with_the_table_and_nothing_run_is_not_a_pass():
    with pytest.raises(AssertionError) as info:
        C.assert_conforms(late_spikes, cases=CASES / "delay-zero")
    assert "FAIL: 1 of 1 cases that ran fail." in str(info.value) and "first wrong U_tilde_1" in str(info.value)
    nothing = C.run_conformance(reference_adapter, {"tasks": ["xor"]}, SMALL[:2])
    assert not nothing.ok and "no case ran" in nothing.format_table()


@pytest.mark.parametrize("adapter, fragment", [
    (lambda case: 1 / 0, "raised ZeroDivisionError on case delay-zero: division by zero"),
    (lambda case: [case], "returned a list on case delay-zero"),
    (lambda case: {"S_1": np.array(["a"])}, "returned key 'S_1' on case delay-zero"),
    (lambda case: {1: np.zeros(3)}, "returned a key of type int on case delay-zero"),
    (lambda case: {"W_0": [[1.0], [1.0, 2.0]]}, "returned key 'W_0' on case delay-zero"),
])
def test_an_adapter_that_raises_or_returns_rubbish_is_one_error_naming_the_case(adapter, fragment):
    with pytest.raises(C.AdapterError) as info:
        C.run_conformance(adapter, cases=CASES / "delay-zero", name="mine:simulate")
    assert str(info.value).startswith("adapter mine:simulate ") and fragment in str(info.value)


def test_cases_are_found_in_folders_and_missing_ones_are_named(tmp_path):
    assert C.find_cases() == tuple(sorted(p for p in CASES.iterdir() if (p / "case.json").is_file()))
    assert C.find_cases(CASES / "delay-zero") == (CASES / "delay-zero",)
    with pytest.raises(FileNotFoundError, match="nowhere does not exist"):
        C.find_cases([tmp_path / "nowhere"])
    with pytest.raises(ValueError, match="no SPEC §9 case"):
        C.find_cases(CASES / "surrogate-grid")


ADAPTER_MODULE = textwrap.dedent("""
    import numpy as np
    from superspike_ref.cases import run_case

    def simulate(case):
        return run_case(case["dir"])

    simulate.capabilities = {"tasks": ["cyclic"]}

    def broken(case):
        return {"S_1": "no"}

    NOT_A_FUNCTION = 3
""")


@pytest.fixture
def adapter_module(tmp_path, monkeypatch):
    (tmp_path / "p10e_user_adapter.py").write_text(ADAPTER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "p10e_user_adapter"
    sys.modules.pop("p10e_user_adapter", None)


def test_conformance_command_writes_one_report_and_exits_0(adapter_module, tmp_path, capsys):
    out = tmp_path / "report.json"
    args = ["conformance", "--adapter", f"{adapter_module}:simulate", "--cases", str(SMALL[0]), str(SMALL[2])]
    assert main(args + ["--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert "delay-zero          PASS" in table and "xor-error-impulses  UNSUPPORTED" in table
    written = json.loads(out.read_text())
    assert written["ok"] and written["adapter"] == f"{adapter_module}:simulate"
    assert [c["verdict"] for c in written["cases"]] == ["pass", "unsupported"]
    assert main(args[:-2] + [str(SMALL[2]), "--json"]) == 1         # only the XOR case: nothing ran
    assert json.loads(capsys.readouterr().out)["n_unsupported"] == 1


@pytest.mark.parametrize("adapter, fragment", [
    (":broken", "returned key 'S_1' on case delay-zero"),
    (":NOT_A_FUNCTION", "'NOT_A_FUNCTION' is not callable"),
    (":missing", "has no attribute 'missing'"),
    ("_nope:simulate", "importing module"),
    ("", "must be MODULE:FUNCTION"),
])
def test_conformance_errors_are_one_line_and_exit_2(adapter_module, adapter, fragment, capsys, one_line_error):
    spec = adapter_module + adapter if adapter.startswith((":", "_")) else adapter
    assert main(["conformance", "--adapter", spec, "--cases", str(SMALL[0])]) == 2
    one_line_error(fragment)


def test_conformance_debug_shows_the_adapters_traceback(adapter_module):
    with pytest.raises(C.AdapterError) as info:
        main(["conformance", "--adapter", f"{adapter_module}:broken", "--cases", str(SMALL[0]), "--debug"])
    assert "returned key 'S_1'" in str(info.value)


def test_validate_with_capabilities_exit_3_when_unsupported(tmp_path, capsys, one_line_error):
    caps, traces = tmp_path / "caps.json", tmp_path / "traces.npz"
    caps.write_text(json.dumps(CYCLIC_ONLY))
    np.savez(traces, **run_case(CASES / "delay-zero"))
    base = ["validate", str(traces), "--capabilities", str(caps), "--against"]
    assert main(base + [str(CASES / "delay-zero")]) == 0
    capsys.readouterr()
    assert main(base + [str(CASES / "xor-error-impulses"), "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["verdict"] == "unsupported"
    assert main(base + [str(CASES / "delay-zero"), "--convention", "genn"]) == 2
    one_line_error("drop --convention")
    caps.write_text(json.dumps({"optimisers": ["fixed"]}))
    assert main(base + [str(CASES / "delay-zero")]) == 2
    one_line_error("caps.json", "unknown field 'optimisers'")

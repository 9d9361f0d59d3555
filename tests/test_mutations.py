"""The kit tests itself (issue P10 item 8): realistic misreadings of SPEC, each caught at its stage.

``tests/mutants.py`` holds an independent NumPy implementation of SPEC §2-§4 and the table of
mutations, each with the stage where its bug lives. Without a mutation the implementation passes
the kit; every mutant fails the global check with its first failure at that stage, and
``--local`` (``validate(..., local=True)``) names that stage among its failing ones.
``docs/validation.md`` §16 shows the table that ``scripts/mutation_table.py`` prints.
"""
import ast
import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from superspike_ref.cases import load_case
from superspike_ref.validation import validate


def _load_mutants():
    """``tests/mutants.py`` as the module ``mutants`` (the tests are imported with ``--import-mode=importlib``)."""
    if "mutants" not in sys.modules:
        spec = importlib.util.spec_from_file_location("mutants", Path(__file__).parent / "mutants.py")
        sys.modules["mutants"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules["mutants"])
    return sys.modules["mutants"]


mutants = _load_mutants()
CASES, MUTATIONS, SUITE_PARAMS = mutants.CASES, mutants.MUTATIONS, mutants.SUITE_PARAMS
kit_verdicts, mutation_table, simulate, write_suite_case = (mutants.kit_verdicts, mutants.mutation_table,
                                                            mutants.simulate, mutants.write_suite_case)

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "validation.md"
GOLDEN = ("two-layer-dw-symmetric", "two-layer-dw-random", "two-layer-dw-uniform", "short-training-run",
          "two-hidden-layers", "delay-zero", "one-synapse-eligibility")
"""Golden cyclic cases the unmutated implementation must pass too (every feedback and optimiser, two hidden
layers, delay 0)."""


@pytest.fixture(scope="module")
def suite_case(tmp_path_factory):
    return write_suite_case(tmp_path_factory.mktemp("mutants"))


_VERDICTS: dict = {}


def verdicts(case_dir, mutation):
    """:func:`kit_verdicts`, each mutation run once per session."""
    if mutation not in _VERDICTS:
        _VERDICTS[mutation] = kit_verdicts(case_dir, mutation)
    return _VERDICTS[mutation]


@pytest.mark.parametrize("name", GOLDEN)
def test_the_unmutated_implementation_passes_the_golden_cases(name):
    report = validate(simulate(CASES / name), CASES / name)
    assert report.ok, report.describe_failure()


def test_the_unmutated_implementation_passes_the_suite_case_globally_and_locally(suite_case):
    v = verdicts(suite_case, None)
    assert v["global_ok"] and v["local_ok"] and v["local_stages"] == (), v


def test_the_suite_case_exercises_what_the_mutations_need(suite_case):
    """Several updates (optimiser memory, feedback following W), a weight at a bound, refractory spikes."""
    case = load_case(suite_case)
    p = case.network.params
    assert {k: getattr(p, k) for k in SUITE_PARAMS} == SUITE_PARAMS
    assert case.n_steps // p.n_batch >= 2
    assert any(np.any(w == p.w_max_V) or np.any(w == p.w_min_V) for w in case.network.weights)
    S = simulate(suite_case)["S_1"]
    spike_steps = np.nonzero(S[:, 0])[0]
    assert len(spike_steps) >= 2 and np.diff(spike_steps).min() < p.n_ref + 5   # a spike right after refractoriness


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_every_mutant_fails_globally_at_its_stage_and_local_names_it(suite_case, mutation):
    stage, v = MUTATIONS[mutation].stage, verdicts(suite_case, mutation)
    assert not v["global_ok"], f"{mutation} passes the global check"
    assert v["first_stage"] == stage, v
    assert not v["local_ok"] and stage in v["local_stages"], v
    assert len(v["local_stages"]) <= 3, v                    # the local check localises: not every stage downstream


def test_an_unknown_mutation_is_refused(suite_case):
    with pytest.raises(ValueError, match="unknown mutation 'threshold-ge'"):
        simulate(suite_case, "threshold-ge")


def test_the_mutants_use_nothing_of_the_package_but_the_case_reader_and_the_kit():
    """``mutants.py`` imports ``load_case`` (inputs) and, to run the kit, ``validate``: no engine, no derivation."""
    tree = ast.parse((Path(__file__).parent / "mutants.py").read_text())
    used = {(node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            for alias in node.names if (node.module or "").startswith("superspike_ref")}
    plain = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    assert used == {("superspike_ref.cases", "load_case"), ("superspike_ref.validation", "validate")}
    assert not [name for name in plain if name.startswith("superspike_ref")]


def _doc_table() -> str:
    """The table of docs/validation.md §16 (its lines starting with ``|``)."""
    section = DOC.read_text().split("## 16. The kit tests itself (mutation suite)", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("|"))


def test_the_docs_table_is_what_the_script_prints(suite_case):
    assert _doc_table() == mutation_table(suite_case)


def test_the_docs_name_the_command_and_every_mutation():
    section = DOC.read_text().split("## 16. The kit tests itself (mutation suite)", 1)[1].split("\n## ", 1)[0]
    assert "scripts/mutation_table.py" in section
    assert re.findall(r"^\| `([a-z-]+)` \|", section, re.M) == list(MUTATIONS)

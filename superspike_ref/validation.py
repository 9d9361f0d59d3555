"""The validation kit (SPEC §9): validate a candidate's traces against the reference, stage by stage.

:func:`validate` runs the reference (literal engine) on a case (:mod:`superspike_ref.cases`),
converts a candidate implementation's traces from its convention (``"paper"``, ``"auryn"``,
``"genn"``, see :mod:`superspike_ref.conventions`) and returns a :class:`Report`
(:mod:`superspike_ref.report`): per key the largest absolute and relative error and the first
step and neuron or synapse index where the candidate leaves tolerance, listed stage by stage in
the order of the derivation (:data:`STAGES`), with the stage that goes wrong first marked. From
the shell: ``python -m superspike_ref validate traces.npz --against CASE_DIR``. Golden cases are
in ``tests/data/cases`` (``scripts/make_golden_cases.py``), with CSV mirrors
(:func:`write_csv_array`) and ``.ras`` spike files for implementations outside Python;
see ``docs/validation.md``. The tolerance is a precision tier (:mod:`superspike_ref.precision`):
SPEC §9's for a float64 candidate (the default), or per key from a float32 error model
(``precision="float32"``, ``--precision float32``); spikes must match exactly in both. With
``local=True`` (``--local``) every key is judged against its recomputation from the candidate's
own upstream keys instead (stage-local diagnosis, :mod:`superspike_ref.local`).

Every name of :mod:`superspike_ref.cases` and :mod:`superspike_ref.report` is importable from
here too.

Case and candidate files are untrusted data: they are read without unpickling, a ``.npz``
array's header is checked before its data are allocated, a CSV folder's ``index.json`` may only
name files inside the folder, and every malformed file raises one ``ValueError`` (or
``FileNotFoundError``) naming the file and the field, key or line. Messages never quote text
or lines of a file: only short field and key names, and numbers, appear.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from . import cases, report
from .cases import (
    CASE_FORMAT,
    ENGINES,
    Case,
    _as_comparable,
    compare_traces,
    load_case,
    out_of_tolerance,
    run_case,
)
from .csv_mirror import read_csv_array, read_csv_dir, write_csv_array, write_csv_dir
from .files import load_npz, read_json, save_npz
from .gradient_cases import GRADIENT_STAGE, case_gradients
from .local import LocalReport, local_results
from .network import LiteralEngine
from .precision import (
    check_tolerance_args,
    float32_coefficients,
    float32_gradient_coefficients,
    float32_step_coefficients,
    key_tolerances,
)
from .provenance import run_provenance
from .report import (
    STAGES,
    KeyResult,
    Report,
    _first_failure,
    _table_order,
    compare_key,
    key_stage,
)
from .variants import VARIANTS, apply_variants, check_variants

__all__ = cases.__all__ + report.__all__ + [
    "GOLDEN_FORMAT",
    "validate",
    "load_candidate",
    "load_golden",
    "save_npz",
    "write_csv_array",
    "read_csv_array",
    "write_csv_dir",
    "read_csv_dir",
    "export_case_ras",
    "export_traces_ras",
]

GOLDEN_FORMAT = "superspike-golden/1"
"""Format tag of a golden-vector directory (``golden.json`` + ``arrays.npz`` + ``expected.npz``)."""


def _skip_matches(key: str, skip) -> bool:
    return key in skip or key_stage(key) in skip


def load_candidate(path) -> dict:
    """Read a candidate's traces: a ``.npz`` file or a directory of CSV files (:func:`write_csv_array`).

    A directory may hold an ``index.json`` (as the golden cases' CSV mirrors do); without it every
    ``<key>.csv`` is read with the dtype inferred (bool for spike keys ``S_<l>``, float otherwise).
    A ``.npz`` is read without unpickling anything, each array's header checked before its data.
    Raises ``ValueError`` naming the file and the reason if it cannot be read.
    """
    path = Path(path)
    if path.is_dir():
        return read_csv_dir(path)
    if not path.exists():
        raise FileNotFoundError(f"candidate {path} does not exist")
    return load_npz(path)


def _reference_traces(case: Case, extra_record=(), variants=()) -> dict:
    """The literal engine's traces of ``case`` with the SPEC ``variants`` (:mod:`superspike_ref.variants`).

    A gradient case adds ``dL_dW_<k>`` (:mod:`superspike_ref.gradient_cases`), as SPEC states it
    whatever the variants.
    """
    record = tuple(case.record) + tuple(r for r in extra_record if r not in case.record)
    network, discretisation = apply_variants(variants, case.network)
    sim = LiteralEngine(network, case.task, discretisation)
    return {**sim.run(case.n_steps, record=record).traces, **case_gradients(case)}


def _float32_tier_coefficients(case: Case, reference_weights: dict, converted: dict, expected: dict) -> dict:
    """:math:`c_k` of the float32 tier for every key of ``case``, the gradient keys' included.

    The candidate's weights, where comparable, enter ``c_I`` (:func:`float32_step_coefficients`);
    the gradient's are those of the initial weights (:func:`float32_gradient_coefficients`).
    """
    net = case.network
    usable = {k: converted[k] for k in reference_weights if k in expected and k in converted}
    coefficients = float32_step_coefficients(net.params, net.layers, net.feedback, reference_weights, usable,
                                             case.n_steps)
    if case.gradient is not None:
        loop_free = float32_coefficients(net.params, net.layers, net.feedback, reference_weights)
        coefficients.update(float32_gradient_coefficients(net.params, net.layers, loop_free,
                                                          case.gradient["window_steps"]))
    return coefficients


def _check_skip(skip, keys, where) -> tuple:
    """``skip`` as a tuple of names; ``ValueError`` for unknown names or if nothing is left to compare.

    Valid names are the trace names :data:`STAGES` (whether or not ``where`` records them) and
    the keys ``where`` records.
    """
    skip = (skip,) if isinstance(skip, str) else tuple(skip)
    if not all(isinstance(name, str) for name in skip):
        raise TypeError(f"skip must be trace names or keys (strings), got {skip!r}")
    unknown = [name for name in skip if name not in STAGES and name not in keys]
    if unknown:
        raise ValueError(f"skip: unknown name(s) {unknown}; valid are the trace names {list(STAGES)} "
                         f"and the keys {where} records: {sorted(keys)}")
    if all(_skip_matches(key, skip) for key in keys):
        what = f"every key was skipped (skip {list(skip)})" if keys else f"{where} records no traces"
        raise ValueError(f"nothing to compare: {what}")
    return skip


def _exact_inputs(key: str, converted: dict, n_layers: int) -> bool:
    """Whether the keys an exact auryn converter of ``key`` needs are there (output error; ``lambda_k`` for ``m_k``)."""
    return f"e_{n_layers}" in converted and (key_stage(key) != "m" or f"lambda_{key.rpartition('_')[2]}" in converted)


def _to_paper(cand: dict, expected: dict, convention: str, context, cand_name: str) -> dict:
    """The candidate's keys that can be compared, converted to the paper convention.

    Keys with a wrong shape or dtype are left out (:func:`compare_key` reports them), so that a
    converter never sees them.
    """
    from . import conventions as conv

    usable = {k: v for k, v in cand.items()
              if k not in expected or (np.shape(v) == expected[k].shape
                                       and _as_comparable(np.asarray(v), expected[k])[1] is None)}
    try:
        return conv.to_paper(usable, convention, context)
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"{cand_name}: cannot convert the traces from the {convention!r} convention "
                         "(keys the case does not record have shapes that do not fit)") from None


def validate(candidate, case_dir, convention: str = "paper", skip=(), rtol: float | None = None,
             atol_scale: float | None = None, precision: str = "float64", local: bool = False,
             variants=()) -> Report:
    r"""Validate an implementation's traces against the reference on a case, stage by stage.

    Parameters
    ----------
    candidate : dict of arrays, or path
        The candidate's traces with SPEC §9 keys (a dict, a ``.npz`` file, or a directory of CSV
        files, see :func:`load_candidate`).
    case_dir : path
        A SPEC §9 case (``case.json`` + ``arrays.npz``): the reference (literal engine) is run on
        it. Or a golden-vector directory (``golden.json``): the candidate is compared with its
        ``expected.npz``.
    convention : ``"paper"``, ``"auryn"`` or ``"genn"``
        The convention of the candidate's numbers; they are converted to the paper's first
        (:mod:`superspike_ref.conventions`).
    skip : iterable of str
        Trace names (``"lambda"``) or keys (``"m_0"``) not to compare (unknown names, or nothing
        left to compare: ``ValueError``), e.g. for an engine that never forms ``lambda`` and ``m``.
    rtol, atol_scale : float >= 0 or None
        Override the tier's tolerance for every key: a float passes where
        :math:`|c - x| \le \mathrm{rtol}\,|x| + \mathrm{atol\_scale}\,\max|x_k|`. None (default):
        the tier's value.
    precision : ``"float64"`` or ``"float32"``
        The precision tier (:mod:`superspike_ref.precision`): SPEC §9's tolerance (default), or a
        tolerance per key from the float32 error model (``docs/validation.md`` §8; needs a SPEC §9
        case unless both overrides are given). Spikes must match exactly in every tier.
    local : bool
        Stage-local diagnosis (:mod:`superspike_ref.local`): every key against its recomputation
        from the candidate's own upstream keys, so that every failing stage is named. Needs a
        SPEC §9 case; returns a :class:`~superspike_ref.local.LocalReport`.
    variants : iterable of str
        SPEC variants the candidate declares (:mod:`superspike_ref.variants`), run by the
        reference; on failure ``report.explained_by`` names the variants with which it would pass
        (:func:`_explaining_variants`). Unknown names, or variants with ``local``, raise ``ValueError``.

    Returns
    -------
    Report
        Per key: max abs and rel error, first step and index out of tolerance, the values there;
        missing keys and wrong shapes are reported, not raised; candidate keys the case does not
        record are listed as ignored; the tolerance of every key (``report.tolerances``); the
        options, versions and case hash (``report.provenance``, :mod:`superspike_ref.provenance`).
    """
    options = _checked_options(convention, skip, rtol, atol_scale, precision, local, variants)
    variants, skip, case_dir = tuple(options["variants"]), tuple(options["skip"]), Path(case_dir)
    tier = (precision, rtol, atol_scale)
    cand, cand_name = (dict(candidate), "<dict>") if isinstance(candidate, dict) else (load_candidate(candidate),
                                                                                         str(candidate))
    golden = (case_dir / "golden.json").is_file() and not (case_dir / "case.json").is_file()
    report = (_validate_golden if golden else _validate_case)(cand, cand_name, case_dir, convention, skip, tier,
                                                              variants, local)
    if not (golden or local or report.ok):
        report = replace(report, explained_by=_explaining_variants(cand, cand_name, case_dir, convention, skip,
                                                                   tier, variants))
    return replace(report, provenance=run_provenance(case_dir, options))


def _checked_options(convention, skip, rtol, atol_scale, precision, local, variants) -> dict:
    """:func:`validate`'s options, checked (``ValueError`` naming the bad one), as ``report.provenance`` records them."""
    from . import conventions as conv

    conv.check_convention(convention)
    check_tolerance_args(precision, rtol, atol_scale)
    variants = check_variants(variants)
    if local and variants:
        raise ValueError("the local check (--local) recomputes every stage as SPEC states it; "
                         "it cannot be combined with SPEC variants (--variant)")
    return {"convention": convention, "precision": precision, "rtol": rtol, "atol_scale": atol_scale,
            "local": local, "variants": list(variants), "skip": [skip] if isinstance(skip, str) else list(skip)}


def _explaining_variants(cand, cand_name, case_dir, convention, skip, tier, variants) -> tuple:
    """The variants not in ``variants`` with which, added alone, the candidate passes.

    Each is tried on top of the declared ones: one more reference run per variant, done only for a
    candidate that fails.
    """
    return tuple(name for name in VARIANTS if name not in variants
                 and _validate_case(cand, cand_name, case_dir, convention, skip, tier, variants + (name,)).ok)


def _shared(tolerances: dict) -> tuple:
    """``(rtol, atol_scale)`` if every key has the same (scalars), else ``(None, None)``."""
    if any(np.ndim(t) for pair in tolerances.values() for t in pair):
        return None, None
    values = set(tolerances.values())
    return values.pop() if len(values) == 1 else (None, None)


def _validate_case(cand, cand_name, case_dir, convention, skip, tier, variants=(), local=False) -> Report:
    """:func:`validate` on a SPEC §9 case: run the reference (with ``variants``), convert the candidate, compare.

    With ``local`` every key is compared with its recomputation from the candidate's own keys instead.
    """
    from . import conventions as conv

    case = load_case(case_dir)
    L = len(case.network.layers) - 1
    expected = _reference_traces(case, extra_record=("W",), variants=variants)
    weights = [expected[f"W_{k}"] for k in range(L)]
    reference_weights = {f"W_{k}": w for k, w in enumerate(weights)}
    if "W" not in case.record:
        expected = {k: v for k, v in expected.items() if key_stage(k) != "W"}
    skip = _check_skip(skip, expected, case_dir)
    if local:                                          # the local check has no recomputation of a gradient
        skip += tuple(k for k in expected if key_stage(k) == GRADIENT_STAGE and not _skip_matches(k, skip))
    context = replace(conv.TraceContext.from_network(case.network, weights),
                      euler_error_rise=apply_variants(variants, case.network)[1].euler_error_rise)
    converted = _to_paper(cand, expected, convention, context, cand_name)

    skipped = tuple(k for k in _table_order(expected) if _skip_matches(k, skip))
    accuracy = {k: conv.conversion_accuracy(convention, key_stage(k), _exact_inputs(k, converted, L),
                                            context.euler_error_rise) for k in expected}
    coefficients = None
    if tier[0] == "float32":
        coefficients = _float32_tier_coefficients(case, reference_weights, converted, expected)
    tolerances = key_tolerances([k for k in _table_order(expected) if k not in skipped], *tier, coefficients)
    if local:
        results = local_results(case, cand, converted, expected, tolerances, accuracy)
    else:
        results = [compare_key(key, converted.get(key, cand.get(key)), expected[key], *tolerances[key],
                               n_batch=case.network.params.n_batch, converter=accuracy[key])
                   for key in tolerances]
    ignored = tuple(sorted(k for k in cand if k not in expected and not _skip_matches(k, skip)))
    rtol, atol_scale = _shared(tolerances)
    return (LocalReport if local else Report)(
        case=str(case_dir), candidate=cand_name, convention=convention, results=tuple(results),
        first_failure=None if local else _first_failure(results, L), ignored=ignored, skipped=skipped,
        n_batch=case.network.params.n_batch, dt_s=case.network.params.dt_s, rtol=rtol, atol_scale=atol_scale,
        precision=tier[0], tolerances=tolerances, variants=variants)


def load_golden(golden_dir) -> tuple:
    """Read a golden-vector directory: ``(description dict, inputs dict, expected dict)``."""
    golden_dir = Path(golden_dir)
    path = golden_dir / "golden.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing (a golden-vector directory holds golden.json and expected.npz)")
    spec = read_json(path)
    if not isinstance(spec, dict) or spec.get("format") != GOLDEN_FORMAT:
        raise ValueError(f"{path}: field 'format' must be {GOLDEN_FORMAT!r}")
    inputs = load_npz(golden_dir / "arrays.npz") if (golden_dir / "arrays.npz").is_file() else {}
    return spec, inputs, load_npz(golden_dir / "expected.npz")


def _validate_golden(cand, cand_name, golden_dir, convention, skip, tier, variants, local=False) -> Report:
    if local:
        raise ValueError(f"{golden_dir} is a golden-vector directory: the local check (--local) needs a SPEC §9 "
                         "case (case.json) to recompute the stages")
    if variants:
        raise ValueError(f"{golden_dir} is a golden-vector directory; SPEC variants apply to SPEC §9 cases only")
    if convention != "paper":
        raise ValueError(f"{golden_dir} is a golden-vector directory; its keys name their convention, "
                         f"so validate it with convention 'paper', not {convention!r}")
    _, _, expected = load_golden(golden_dir)
    skip = _check_skip(skip, expected, golden_dir)
    skipped = [key for key in expected if _skip_matches(key, skip)]
    tolerances = key_tolerances([key for key in expected if key not in skipped], *tier)
    results = [compare_key(key, cand.get(key), expected[key], *tolerances[key]) for key in tolerances]
    rtol, atol_scale = _shared(tolerances)
    failed = [r for r in results if not r.ok]
    ignored = tuple(sorted(k for k in cand if k not in expected))
    return Report(case=str(golden_dir), candidate=cand_name, convention=convention, results=tuple(results),
                  first_failure=failed[0] if failed else None, ignored=ignored, skipped=tuple(skipped),
                  rtol=rtol, atol_scale=atol_scale, precision=tier[0], tolerances=tolerances)


# --------------------------------------------------------------------------------------
# .ras export
# --------------------------------------------------------------------------------------

def export_case_ras(case_dir, out_dir, id_base: int = 0) -> list:
    """Write a case's input and target (one cycle) as ``.ras`` files ``input.ras``, ``target.ras``.

    Times are ``step * dt_s``; neuron ids start at ``id_base`` (0, or 1 as in Auryn's targets).
    Returns the paths written.
    """
    from .io import write_ras

    case = load_case(case_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dt_s = case.network.params.dt_s
    paths = []
    for name, raster in (("input", case.task.input), ("target", case.task.target)):
        path = out_dir / f"{name}.ras"
        write_ras(path, raster, dt_s, id_base=id_base)
        paths.append(path)
    return paths


def export_traces_ras(traces, out_dir, dt_s: float, id_base: int = 0) -> list:
    """Write every spike trace ``S_<l>`` of a traces dict (or ``.npz``) as ``S_<l>.ras``."""
    from .io import write_ras

    if not isinstance(traces, dict):
        traces = load_candidate(traces)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for key in sorted(k for k in traces if key_stage(k) == "S"):
        path = out_dir / f"{key}.ras"
        write_ras(path, np.asarray(traces[key], dtype=bool), dt_s, id_base=id_base)
        paths.append(path)
    return paths

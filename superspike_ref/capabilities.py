"""What a candidate implements (issue P10): its capabilities, and the cases it cannot run.

A candidate declares its capabilities as a JSON object (a file for ``validate --capabilities``,
the ``capabilities`` attribute of a ``conformance`` adapter, or a dict). Every field is optional;
a field left out declares everything of its kind:

================  ==========================================================================
field             value
================  ==========================================================================
``feedback``      feedback kinds implemented, from ``symmetric``, ``random``, ``uniform``
``optimizers``    optimisers implemented, from ``rmaxprop``, ``rmsprop``, ``fixed``
``tasks``         tasks whose error rule is implemented: ``cyclic`` (replayed target), ``xor``
``regulariser``   bool: the heterosynaptic regulariser (cases with ``rho > 0``)
``error_gate``    bool: the error gate of the original code (cases with ``e_gate > 0``)
``gradients``     gradient cases it answers (``dL_dW_<k>``), from ``free``, ``detached_reset`` (may be empty)
``records``       trace names the candidate records (SPEC §9, e.g. ``S``, ``U_tilde``, ``W``)
``variants``      SPEC variants it implements (:mod:`superspike_ref.variants`); default none
``convention``    scale convention of its numbers (:mod:`superspike_ref.conventions`); default ``paper``
``precision``     precision tier it is judged in (:mod:`superspike_ref.precision`); default ``float64``
================  ==========================================================================

A case that needs a feedback kind, optimiser, task, the regulariser, the gate or a gradient outside the
declaration is *unsupported* (:func:`unsupported_reasons`): reported with the reason, not failed.
Traces the candidate does not record are skipped (:func:`unrecorded`); a case none of whose
traces it records is unsupported too. A malformed declaration raises one ``ValueError`` naming
the field.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from .cases import TASKS
from .gradient_cases import GRADIENT_VARIANTS
from .conventions import CONVENTIONS
from .feedback import FEEDBACK_KINDS
from .files import describe_value, quoted_name, read_json
from .network import RECORDABLE
from .optimizers import OPTIMIZERS
from .precision import PRECISIONS
from .variants import VARIANTS
from .xor import XorRasterTask

__all__ = ["Capabilities", "as_capabilities", "load_capabilities", "unsupported_reasons", "unrecorded"]

_LISTS = {"feedback": FEEDBACK_KINDS, "optimizers": OPTIMIZERS, "tasks": TASKS, "records": RECORDABLE,
          "variants": tuple(VARIANTS), "gradients": GRADIENT_VARIANTS}
_FLAGS = ("regulariser", "error_gate")
_CHOICES = {"convention": CONVENTIONS, "precision": PRECISIONS}


@dataclass(frozen=True)
class Capabilities:
    """A checked declaration (see the module's table); the defaults declare everything of SPEC."""

    feedback: tuple = FEEDBACK_KINDS
    optimizers: tuple = OPTIMIZERS
    tasks: tuple = TASKS
    regulariser: bool = True
    error_gate: bool = True
    gradients: tuple = GRADIENT_VARIANTS
    records: tuple = RECORDABLE
    variants: tuple = ()
    convention: str = "paper"
    precision: str = "float64"

    def to_dict(self) -> dict:
        """The declaration as JSON-ready data (lists for tuples)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def as_capabilities(declared, where: str = "capabilities") -> Capabilities:
    """Check a declaration (a dict, or a :class:`Capabilities`); ``ValueError`` naming ``where`` and the field.

    Parameters
    ----------
    declared : dict or Capabilities or None
        The declaration; None declares everything (:class:`Capabilities` defaults).
    where : str
        What to name in an error message (a file, or ``"capabilities"``).
    """
    if declared is None or isinstance(declared, Capabilities):
        return declared or Capabilities()
    if not isinstance(declared, dict):
        raise ValueError(f"{where}: must be an object of capability fields, got {describe_value(declared)}")
    known = sorted(list(_LISTS) + list(_FLAGS) + list(_CHOICES))
    for field, value in declared.items():
        if field not in known:
            raise ValueError(f"{where}: unknown field {quoted_name(field)} (known: {known})")
        problem = _field_problem(field, value)
        if problem is not None:
            raise ValueError(f"{where}: field {quoted_name(field)}: {problem}")
    return Capabilities(**{k: tuple(v) if k in _LISTS else v for k, v in declared.items()})


def _field_problem(field: str, value) -> str | None:
    """What is wrong with the value of a known field of a declaration (None if nothing)."""
    if field in _LISTS:
        allowed = _LISTS[field]
        if not isinstance(value, list) or not all(isinstance(v, str) and v in allowed for v in value):
            return f"must be a list of names from {list(allowed)}, got {describe_value(value)}"
        return None if value or field in ("variants", "gradients") else "must not be empty"
    if field in _FLAGS:
        return None if isinstance(value, bool) else f"must be true or false, got {describe_value(value)}"
    return None if value in _CHOICES[field] else f"must be one of {list(_CHOICES[field])}, got {describe_value(value)}"


def load_capabilities(path) -> Capabilities:
    """Read a declaration from a JSON file (``validate --capabilities FILE``); errors name the file and field."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"capabilities file {path} does not exist")
    return as_capabilities(read_json(path), str(path))


def unsupported_reasons(capabilities: Capabilities, case) -> tuple:
    """Why the candidate cannot run ``case`` (a :class:`~superspike_ref.cases.Case`); empty if it can."""
    params, task = case.network.params, "xor" if isinstance(case.task, XorRasterTask) else "cyclic"
    needs = [("feedback", case.network.feedback, case.network.feedback in capabilities.feedback),
             ("optimizer", case.network.optimizer, case.network.optimizer in capabilities.optimizers),
             ("task", task, task in capabilities.tasks),
             ("regulariser", f"rho = {params.rho:g}", params.rho == 0 or capabilities.regulariser),
             ("error gate", f"e_gate = {params.e_gate:g}", params.e_gate == 0 or capabilities.error_gate),
             ("gradient", (case.gradient or {}).get("variant"),
              case.gradient is None or case.gradient["variant"] in capabilities.gradients)]
    reasons = [f"needs {what} {value}, not declared" for what, value, ok in needs if not ok]
    if all(name in unrecorded(capabilities, case) for name in case.record):
        reasons.append(f"records {list(case.record)}, none of which the candidate records")
    return tuple(reasons)


def unrecorded(capabilities: Capabilities, case) -> tuple:
    """The trace names ``case`` records that the candidate does not (to be skipped)."""
    return tuple(name for name in case.record if name not in capabilities.records)

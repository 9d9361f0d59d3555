"""The validation kit's report (SPEC §9): one key compared with the reference, and all keys in table order.

:func:`compare_key` compares one key within the SPEC §9 tolerance and locates the first step
and neuron or synapse index where it leaves it (a :class:`KeyResult`). A :class:`Report` lists
the keys stage by stage in the order of the derivation (:data:`STAGES`), with the stage that
goes wrong first marked, as a table or as JSON. :func:`superspike_ref.validation.validate`
builds it; every name here is importable from :mod:`superspike_ref.validation`.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from .cases import _as_comparable, _tolerance
from .precision import FLOAT64_ATOL_SCALE, FLOAT64_RTOL, UNIT_ROUNDOFF
from .provenance import REPORT_SCHEMA
from .recording import key_stage

__all__ = [
    "STAGES",
    "KeyResult",
    "Report",
    "key_stage",
    "compare_key",
]

STAGES = ("S", "I", "U_tilde", "sigma_prime", "z", "z_tilde", "lambda", "e", "m", "W", "v", "dL_dW")
"""Trace names in the order of the derivation, as the report lists them (last the gradient cases' ``dL_dW``)."""

WINDOW_STAGES = ("dL_dW",)
"""Stages with one value per window, not per step: their index is ``(post, pre)`` and they have no first step."""

STAGE_TITLES = {
    "S": "spikes (SPEC §2 c)",
    "I": "synaptic current (§2 a)",
    "U_tilde": "potential before reset (§2 b)",
    "sigma_prime": "surrogate σ′ (§3)",
    "z": "presynaptic trace z (§3)",
    "z_tilde": "PSP trace z̃ (§3)",
    "lambda": "eligibility λ (§3)",
    "e": "error / learning signal (§3)",
    "m": "accumulator m (§3)",
    "W": "weights (§4)",
    "v": "optimiser state (§4)",
    "dL_dW": "surrogate gradient of the window loss (BPTT)",
}


@dataclass(frozen=True)
class KeyResult:
    """The comparison of one key of a candidate with the reference.

    ``first_step`` is the time step at which the key first leaves tolerance (for ``W`` and ``v``
    the step at whose end the offending update happened; -1 for the initial weights),
    ``first_index`` the full array index of the first offending element (step or update first),
    ``expected`` and ``candidate`` the two values there. ``problem`` is set (and the numbers are
    None) when the key is missing, has the wrong shape or cannot be compared.
    """

    key: str
    stage: str
    ok: bool
    shape: tuple
    max_abs: float | None = None
    max_rel: float | None = None
    n_bad: int = 0
    first_step: int | None = None
    first_index: tuple | None = None
    expected: float | None = None
    candidate: float | None = None
    problem: str | None = None
    converter: str = "exact"

    def to_dict(self) -> dict:
        out = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, float) and not math.isfinite(value):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out


@dataclass(frozen=True)
class Report:
    """What :func:`validate` returns: one :class:`KeyResult` per compared key, in table order.

    ``first_failure`` is the key where the candidate goes wrong first: the earliest step at which
    any key leaves tolerance, and within that step the key the derivation computes first (traces
    of a layer before the next layer's, ``z`` before ``I``, ``e`` of the output before the hidden
    layers', ``v`` before ``W``). Keys that are missing or have the wrong shape count only if no
    key has a first step.

    ``precision`` is the tier (:mod:`superspike_ref.precision`) and ``tolerances`` the
    ``(rtol, atol_scale)`` each compared key was held to (numbers, or arrays ``(n_steps,)`` where
    they change from step to step); ``rtol`` and ``atol_scale`` are the values shared by every
    key, or None when the tier gives each key its own.

    ``variants`` are the SPEC variants the candidate declared (the reference ran with them,
    :mod:`superspike_ref.variants`); ``explained_by`` the variants with which, added alone, a
    failing candidate would pass.
    """

    case: str
    candidate: str
    convention: str
    results: tuple
    first_failure: KeyResult | None
    ignored: tuple = ()
    skipped: tuple = ()
    n_batch: int | None = None
    dt_s: float | None = None
    rtol: float | None = 1e-9
    atol_scale: float | None = 1e-10
    precision: str = "float64"
    tolerances: dict | None = None
    variants: tuple = ()
    explained_by: tuple = ()
    unsupported: tuple = ()
    provenance: dict | None = None

    @property
    def ok(self) -> bool:
        return not self.unsupported and all(r.ok for r in self.results)

    @property
    def verdict(self) -> str:
        """``"pass"``, ``"fail"``, or ``"unsupported"`` (the candidate declares it cannot run the case)."""
        return "unsupported" if self.unsupported else "pass" if self.ok else "fail"

    def result(self, key: str) -> KeyResult:
        """The result of one key (``KeyError`` if it was not compared)."""
        for r in self.results:
            if r.key == key:
                return r
        raise KeyError(key)

    def to_dict(self) -> dict:
        """A JSON-ready dict (non-finite numbers as strings ``"inf"``, ``"nan"``)."""
        return {
            "schema": REPORT_SCHEMA,
            "format": "superspike-validation-report/1",
            "case": self.case,
            "candidate": self.candidate,
            "convention": self.convention,
            "ok": self.ok,
            "tolerance": {"spikes": "exact", "precision": self.precision,
                          "unit_roundoff": UNIT_ROUNDOFF[self.precision], "rtol": self.rtol,
                          "atol_scale": self.atol_scale,
                          "per_key": {k: _tolerance_entry(*t) for k, t in (self.tolerances or {}).items()}},
            "n_keys": len(self.results),
            "n_failed": sum(not r.ok for r in self.results),
            "first_failure": None if self.first_failure is None else self.first_failure.to_dict(),
            "keys": [r.to_dict() for r in self.results],
            "ignored_candidate_keys": list(self.ignored),
            "skipped": list(self.skipped),
            **self._variant_entries(),
            "verdict": self.verdict,
            "unsupported": list(self.unsupported),
            "provenance": self.provenance,
        }

    def _variant_entries(self) -> dict:
        """The JSON report's ``variants`` (declared) and ``explained_by`` (would make the candidate pass)."""
        return {"variants": list(self.variants), "explained_by": list(self.explained_by)}

    def _variant_lines(self) -> list:
        """The table's lines on SPEC variants: those declared, and those that would explain a failure."""
        lines = [f"SPEC variants declared: {', '.join(self.variants)}"] if self.variants else []
        for name in self.explained_by:
            lines.append(f"variant {name} would explain the difference: with --variant {name} "
                         "the candidate passes (docs/validation.md, SPEC variants)")
        return lines

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def _where(self, r: KeyResult) -> str:
        if r.first_index is None:
            return "-"
        rest = tuple(int(i) for i in r.first_index[1:])
        where = f"#{rest[0]}" if len(rest) == 1 else str(rest) if rest else "-"
        if r.stage in WINDOW_STAGES:
            return str(tuple(int(i) for i in r.first_index))
        if r.stage == "W" and r.first_index[0] == 0:
            return f"init {where}"
        return f"upd {r.first_index[0] + (r.stage == 'v')} {where}" if r.stage in ("W", "v") else where

    def describe_failure(self, r: KeyResult | None = None) -> str:
        """One sentence on where ``r`` (default: the first failure) leaves tolerance."""
        r = self.first_failure if r is None else r
        if r is None:
            return "no failure"
        if r.problem is not None:
            return f"{r.key}: {r.problem}"
        idx = tuple(int(i) for i in r.first_index)
        if r.stage == "W" and idx[0] == 0:
            what = f"the initial weights (before step 0), synapse post {idx[1]}, pre {idx[2]}"
        elif r.stage in ("W", "v"):
            what = f"update {idx[0] + (r.stage == 'v')} (end of step {r.first_step}), synapse post {idx[1]}, pre {idx[2]}"
        elif r.stage in WINDOW_STAGES:
            what = f"synapse post {idx[0]}, pre {idx[1]} (one value for the window)"
        elif r.stage in ("lambda", "m"):
            what = f"step {idx[0]}, synapse post {idx[1]}, pre {idx[2]}"
        elif len(idx) == 2:
            unit = "presynaptic neuron" if r.stage in ("z", "z_tilde") else "neuron"
            what = f"step {idx[0]}, {unit} {idx[1]}"
        else:
            what = f"index {idx}"
        if self.dt_s is not None and r.first_step is not None and r.first_step >= 0 and r.stage not in ("W", "v"):
            what += f" (t = {1e3 * r.first_step * self.dt_s:.1f} ms)"
        return f"{r.key} [{STAGE_TITLES.get(r.stage, r.stage)}] at {what}: expected {r.expected:.9g}, candidate {r.candidate:.9g}"

    _TITLES = ("stage", "key", "shape", "max abs err", "max rel err", "first step", "at", "status")
    _RIGHT = (False, False, False, True, True, True, False, False)

    @property
    def _per_key(self) -> bool:
        """Whether the keys have tolerances of their own (then the table shows them in a column)."""
        return self.rtol is None or self.atol_scale is None

    def _tolerance_line(self) -> str:
        rule = "spikes exact; floats |cand - exp| <= "
        if not self._per_key:
            spec = self.precision == "float64" and (self.rtol, self.atol_scale) == (FLOAT64_RTOL, FLOAT64_ATOL_SCALE)
            source = " (SPEC §9)" if spec else " (overridden)"
            return f"{self.precision} tier: {rule}{self.rtol:g}*|exp| + {self.atol_scale:g}*max|exp_k|{source}"
        return (f"{self.precision} tier: {rule}rtol_k*|exp| + atol_k*max|exp_k|, per key in the column "
                f"'rtol, atol' (error model: docs/validation.md, Precision tiers)")

    def _cells(self, r: KeyResult) -> tuple:
        """The table cells of one key (with its tolerance if the keys have their own)."""
        shape = "x".join(str(s) for s in r.shape) if r.shape else "-"
        if r.problem is not None:
            nums, status = ("-", "-", "-", "-"), f"FAIL: {r.problem}"
        else:
            step = "-" if r.first_step is None else str(r.first_step)
            nums = (f"{r.max_abs:.3e}", f"{r.max_rel:.3e}", step, self._where(r))
            status = "ok" if r.ok else f"FAIL ({r.n_bad} values)"
        if self.first_failure is not None and r.key == self.first_failure.key:
            status += "   <== first wrong"
        if self._per_key:
            rtol, atol = (self.tolerances or {}).get(r.key, (self.rtol, self.atol_scale))
            same = np.array_equal(rtol, atol)
            tol = "exact" if r.stage == "S" else _span(rtol) if same else f"{_span(rtol)}, {_span(atol)}"
            return (r.stage, r.key, shape) + nums + (tol, status)
        return (r.stage, r.key, shape) + nums + (status,)

    def format_table(self, header: bool = True) -> str:
        """The report as a readable table; the first failing key is marked ``<== first wrong``.

        Column widths follow the content (two spaces at least between columns).
        ``header=False`` leaves out the lines naming the case, the candidate and the tolerance.
        """
        lines = [
            f"case       {self.case}",
            f"candidate  {self.candidate} (convention {self.convention!r})",
            f"tolerance  {self._tolerance_line()}",
            "",
        ] if header else []
        rows = [self._cells(r) for r in self.results]
        titles, right = self._TITLES, self._RIGHT
        if self._per_key:
            titles, right = titles[:-1] + ("rtol, atol",) + titles[-1:], right[:-1] + (True, False)
        widths = [max(len(cell) for cell in column) for column in zip(titles, *rows)]

        def line(cells) -> str:
            return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)).rstrip()

        lines += [line(titles), "-" * len(line(titles))]
        lines += [line(cells) for cells in rows]
        lines.append("")
        lines += self._verdict_lines()
        if self.skipped:
            lines.append(f"skipped: {', '.join(self.skipped)}")
        if self.ignored:
            lines.append(f"ignored candidate keys (not recorded by the case): {', '.join(self.ignored)}")
        lines += self._variant_lines()
        return "\n".join(lines)

    def _verdict_lines(self) -> list:
        """The lines under the table that give the verdict: PASS, UNSUPPORTED and why, or FAIL and where."""
        if self.unsupported:
            return [f"UNSUPPORTED: {'; '.join(self.unsupported)} (docs/validation.md, Capabilities)"]
        if self.ok:
            return [f"PASS: all {len(self.results)} keys agree with the reference."]
        n_fail = sum(not r.ok for r in self.results)
        return [f"FAIL: {n_fail} of {len(self.results)} keys out of tolerance.",
                f"first wrong stage: {self.first_failure.stage} -- {self.describe_failure()}"]

    def __str__(self) -> str:
        return self.format_table()


def _span(tolerance) -> str:
    """A tolerance for the table: ``1.1e-03``, or ``3.3e-06..2.6e-05`` if it changes from step to step."""
    low, high = float(np.min(tolerance)), float(np.max(tolerance))
    return f"{low:.1e}" if low == high else f"{low:.1e}..{high:.1e}"


def _tolerance_entry(rtol, atol_scale) -> dict:
    """A key's tolerance for JSON: the largest ``rtol`` and ``atol_scale``, and the smallest if they change by step."""
    entry = {"rtol": float(np.max(rtol)), "atol_scale": float(np.max(atol_scale))}
    if np.ndim(rtol) or np.ndim(atol_scale):
        entry.update(rtol_min=float(np.min(rtol)), atol_scale_min=float(np.min(atol_scale)))
    return entry


def _key_rank(key: str, n_layers: int) -> int:
    """Position of ``key`` in the order in which one step of the derivation computes it."""
    stage = key_stage(key)
    if stage == key:
        return 10**6
    index = int(key.rpartition("_")[2])
    if stage in ("z", "z_tilde", "I", "U_tilde", "S", "sigma_prime", "lambda"):
        layer = index + 1 if stage in ("z", "z_tilde", "lambda") else index
        within = ("z", "z_tilde", "I", "U_tilde", "S", "sigma_prime", "lambda").index(stage)
        return 10 * layer + within
    if stage == "e":
        return 1000 + (n_layers - index)
    if stage == "m":
        return 2000 + index
    if stage in WINDOW_STAGES:
        return 4000 + index
    if stage == "v":
        return 3000 + 2 * index
    return 3000 + 2 * index + 1          # W


def compare_key(key: str, candidate, expected, rtol: float = 1e-9, atol_scale: float = 1e-10,
                n_batch: int | None = None, converter: str = "exact") -> KeyResult:
    """Compare one key (SPEC §9 tolerance) and locate its first out-of-tolerance element.

    Spikes (bool ``expected``) must match exactly; floats pass where
    ``|cand - exp| <= rtol |exp| + atol_scale max|exp|``; NaN never passes. ``rtol`` and
    ``atol_scale`` are numbers, or arrays ``(n_steps,)`` with one value per step (axis 0).
    ``n_batch`` turns the update index of ``W``/``v`` into a time step. A key of a window stage
    (:data:`WINDOW_STAGES`, ``dL_dW``) has no first step.
    """
    stage = key_stage(key)
    exp = np.asarray(expected)
    if candidate is None:
        return KeyResult(key, stage, False, exp.shape, problem="missing", converter=converter)
    cand = np.asarray(candidate)
    if cand.shape != exp.shape:
        return KeyResult(key, stage, False, exp.shape, problem=f"shape {cand.shape}, expected {exp.shape}",
                         converter=converter)
    cand, problem = _as_comparable(cand, exp)
    if problem is not None:
        return KeyResult(key, stage, False, exp.shape, problem=problem, converter=converter)
    per_step = [np.reshape(t, np.shape(t) + (1,) * (exp.ndim - 1)) if np.ndim(t) else t for t in (rtol, atol_scale)]
    bad, diff, rel = _tolerance(cand, exp, *per_step)
    n_bad = int(np.count_nonzero(bad))
    first_step = first_index = e_val = c_val = None
    if n_bad:
        first_index = tuple(int(i) for i in np.argwhere(bad)[0])
        e_val, c_val = float(exp[first_index]), float(cand[first_index])
        first_step = None if stage in WINDOW_STAGES else first_index[0]
        if n_batch is not None and stage == "W":
            first_step = first_index[0] * n_batch - 1
        elif n_batch is not None and stage == "v":
            first_step = (first_index[0] + 1) * n_batch - 1
    return KeyResult(
        key, stage, n_bad == 0, exp.shape,
        max_abs=float(np.max(diff)) if diff.size else 0.0,
        max_rel=float(np.max(rel)) if rel.size else 0.0,
        n_bad=n_bad, first_step=first_step, first_index=first_index, expected=e_val, candidate=c_val,
        converter=converter,
    )


def _table_order(keys) -> list:
    """SPEC §9 keys sorted by stage (:data:`STAGES`), then layer or connection."""
    def order(key):
        stage = key_stage(key)
        index = key.rpartition("_")[2]
        return (STAGES.index(stage) if stage in STAGES else len(STAGES), int(index) if index.isdigit() else 0, key)

    return sorted(keys, key=order)


def _first_failure(results, n_layers: int) -> KeyResult | None:
    timed = [r for r in results if not r.ok and r.first_step is not None]
    if timed:
        return min(timed, key=lambda r: (r.first_step, _key_rank(r.key, n_layers)))
    failed = [r for r in results if not r.ok]
    return failed[0] if failed else None

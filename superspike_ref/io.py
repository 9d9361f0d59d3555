"""Spike rasters in Auryn's ``.ras`` text format (docs/paper.md §"Reference data").

One spike per line, ``time_s neuron_id``, separated by white space; blank lines and
lines starting with ``#`` are ignored. Lines need not be in time order. A time ``t``
belongs to step ``round(t / dt_s)``. Neuron ids in a file start at ``id_base`` (0 or
1; the Auryn-logo and Oxford targets are 1-based) and are 0-based in every array.

Every malformed line raises a ``ValueError`` that names the file, the 1-based line
number and what is wrong (e.g. ``spikes.ras: line 7: field 2 (neuron id) is not an
integer``); no message quotes the file's text. Bytes that are not UTF-8 are such an error
too, and :func:`read_ras` checks with :func:`~superspike_ref.memory.check_memory` that the
raster fits in memory before allocating it.
"""
from __future__ import annotations

import math
import os
import re

import numpy as np

from .memory import _short_int, check_memory
from .params import _check_count, _check_real, whole_steps
from .tasks import check_raster

__all__ = ["write_ras", "read_ras", "read_ras_events"]


def _check_id_base(id_base) -> int:
    if isinstance(id_base, (bool, np.bool_)) or not isinstance(id_base, (int, np.integer)):
        raise TypeError(f"id_base must be the integer 0 or 1, got {id_base!r}")
    if id_base not in (0, 1):
        raise ValueError(f"id_base must be 0 or 1 (id of the first neuron in the file), got {id_base!r}")
    return int(id_base)


_ID_PATTERN = re.compile(r"[+-]?[0-9]+")
_INT64_MAX = int(np.iinfo(np.int64).max)


def _line_error(path, lineno: int, reason: str) -> ValueError:
    return ValueError(f"{os.fspath(path)}: line {lineno}: {reason}")


def write_ras(path, raster: np.ndarray, dt_s: float, id_base: int = 0, t_offset_s: float = 0.0) -> int:
    """Write a raster as ``.ras`` text, sorted by time, then by neuron id.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (overwritten).
    raster : bool array ``(n_steps, n_neurons)``
        Spikes; step ``k`` is written as time ``t_offset_s + k * dt_s``.
    dt_s : float
        Time step, > 0.
    id_base : {0, 1}
        Id written for neuron 0.
    t_offset_s : float
        Added to every time, >= 0 (e.g. to append a later cycle).

    Returns
    -------
    int
        Number of spikes written.

    Notes
    -----
    Times are written with ``max(6, 1 - floor(log10(dt_s)))`` decimals (6 for
    ``dt_s = 1e-4``, as Auryn does), so reading them back gives the same steps.
    """
    check_raster(raster, "raster")
    dt_s = _check_real(dt_s, "dt_s", "s", positive=True)
    id_base = _check_id_base(id_base)
    t_offset_s = _check_real(t_offset_s, "t_offset_s", "s")
    decimals = max(6, 1 - math.floor(math.log10(dt_s)))
    steps, ids = np.nonzero(raster)                 # row-major: by step, then by id
    times_s = t_offset_s + steps * dt_s
    with open(path, "w", encoding="ascii") as f:
        f.writelines(f"{t:.{decimals}f} {i}\n" for t, i in zip(times_s, ids + id_base))
    return int(steps.size)


def _lines(path):
    """``(1-based line number, text)`` of every line, split as Python's text files do (``\\n``,
    ``\\r\\n`` or ``\\r``); ``ValueError`` naming the file and line for bytes that are not UTF-8."""
    lineno = 0
    with open(path, "rb") as f:
        for raw in f:
            raw = raw[:-1] if raw.endswith(b"\n") else raw
            raw = raw[:-1] if raw.endswith(b"\r") else raw
            for part in raw.split(b"\r"):
                lineno += 1
                try:
                    yield lineno, part.decode("utf-8")
                except UnicodeDecodeError as exc:
                    reason = f"byte {exc.start + 1} is not UTF-8 text (a binary file?)"
                    raise _line_error(path, lineno, reason) from None


def _parse_line(fields: list, path, lineno: int, id_base: int) -> tuple[float, int]:
    """``(time_s, 0-based id)`` of the fields of a spike line, or ``ValueError`` naming file, line and field."""
    if len(fields) != 2:
        raise _line_error(path, lineno, f"expected 2 fields (time_s neuron_id), got {len(fields)}")
    try:
        t = float(fields[0])
    except ValueError:
        raise _line_error(path, lineno, "field 1 (time) is not a number") from None
    if not math.isfinite(t) or t < 0:
        raise _line_error(path, lineno, "field 1 (time) must be a finite number >= 0 s")
    field = fields[1]
    if not _ID_PATTERN.fullmatch(field):
        raise _line_error(path, lineno, "field 2 (neuron id) is not an integer")
    if len(field.lstrip("+-").lstrip("0")) > 19 or not -_INT64_MAX <= int(field) <= _INT64_MAX:
        raise _line_error(path, lineno, "field 2 (neuron id) is outside the 64-bit integer range")
    neuron = int(field)
    if neuron < id_base:
        raise _line_error(path, lineno, f"field 2 (neuron id) {neuron} is below id_base={id_base}")
    return t, neuron - id_base


def _parse_ras(path, id_base: int):
    """Times, 0-based ids and line numbers of every spike line, in file order."""
    times, ids, linenos = [], [], []
    for lineno, line in _lines(path):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        t, neuron = _parse_line(fields, path, lineno, id_base)
        times.append(t)
        ids.append(neuron)
        linenos.append(lineno)
    return np.array(times, dtype=float), np.array(ids, dtype=np.int64), linenos


def read_ras_events(path, id_base: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Read the spikes of a ``.ras`` file as events, in file order.

    Parameters
    ----------
    path : str or os.PathLike
    id_base : {0, 1}
        Id of neuron 0 in the file; it is subtracted from every id.

    Returns
    -------
    times_s : float array ``(n_spikes,)``
    ids : int array ``(n_spikes,)``, 0-based.

    Raises
    ------
    ValueError
        For a line that is not UTF-8 text, has other than 2 fields, a time that is not a
        finite number >= 0 or an id that is not an integer in the 64-bit range and
        ``>= id_base``, naming the file, the line and the field.
    """
    id_base = _check_id_base(id_base)
    times_s, ids, _ = _parse_ras(path, id_base)
    return times_s, ids


def read_ras(path, n_neurons: int, dt_s: float, duration_s: float | None = None, id_base: int = 0) -> np.ndarray:
    """Read a ``.ras`` file into a boolean raster.

    Parameters
    ----------
    path : str or os.PathLike
    n_neurons : int
        Number of neurons; every 0-based id must be below it.
    dt_s : float
        Time step, > 0; time ``t`` goes to step ``round(t / dt_s)``.
    duration_s : float, optional
        Length of the raster, a whole number of steps; every spike must fall in a step
        below ``duration_s / dt_s``. Default: up to the last spike's step.
    id_base : {0, 1}
        Id of neuron 0 in the file (1 for the Auryn-logo and Oxford targets).

    Returns
    -------
    bool array ``(n_steps, n_neurons)``.

    Raises
    ------
    ValueError
        For a malformed line, an id out of range, a time beyond ``duration_s`` or two
        spikes of one neuron in one step, naming the file, the line and the field; for a
        raster that would not fit in the memory available.
    """
    n_neurons = _check_count(n_neurons, "n_neurons")
    dt_s = _check_real(dt_s, "dt_s", "s", positive=True)
    id_base = _check_id_base(id_base)
    if duration_s is not None:
        duration_s = _check_real(duration_s, "duration_s", "s", positive=True)
    times_s, ids, linenos = _parse_ras(path, id_base)

    def fail(index: int, reason: str):
        raise _line_error(path, linenos[index], reason)

    bad = np.flatnonzero(ids >= n_neurons)
    if bad.size:
        fail(bad[0], f"field 2 (neuron id) {ids[bad[0]] + id_base} is out of range for n_neurons={n_neurons} "
                     f"with id_base={id_base}")
    steps, n_steps = _spike_steps(path, times_s, linenos, n_neurons, dt_s, duration_s)
    key = steps * n_neurons + ids
    order = np.argsort(key, kind="stable")
    repeated = np.flatnonzero(key[order][1:] == key[order][:-1])
    if repeated.size:
        later = order[1:][repeated]                  # the later line of each pair, in file order
        first = repeated[np.argmin(later)]
        fail(order[first + 1], f"second spike of neuron {ids[order[first]] + id_base} in step "
                               f"{steps[order[first]]} (first on line {linenos[order[first]]})")
    raster = np.zeros((n_steps, n_neurons), dtype=bool)
    raster[steps, ids] = True
    return raster


def _spike_steps(path, times_s, linenos: list, n_neurons: int, dt_s: float, duration_s: float | None):
    """Step of every spike and the raster's length, once :func:`check_memory` says the raster fits."""
    with np.errstate(over="ignore"):
        steps = np.rint(times_s / dt_s)  # still float: a huge time must not wrap around in int64
    if duration_s is None:
        if steps.size == 0:
            raise ValueError(f"{os.fspath(path)}: no spikes, so duration_s must be given")
        last = int(np.argmax(steps))
        if not np.isfinite(steps[last]):
            raise _line_error(path, linenos[last], f"field 1 (time) is too many steps of dt_s={dt_s!r} s to count")
        n_steps = int(steps[last]) + 1
        what = (f"{os.fspath(path)}: a raster up to the time on line {linenos[last]} "
                f"({_short_int(n_steps)} steps x {n_neurons} neurons)")
        advice = "check the file's times and dt_s, or give duration_s"
    else:
        n_steps = whole_steps(duration_s, dt_s, "duration_s")
        bad = np.flatnonzero(steps >= n_steps)
        if bad.size:
            step = steps[bad[0]]
            raise _line_error(path, linenos[bad[0]], f"field 1 (time) falls in step "
                              f"{f'{step:.0f}' if step < 1e15 else f'{step:.3g}'}, beyond duration_s={duration_s!r} s "
                              f"({_short_int(n_steps)} steps of dt_s={dt_s!r} s)")
        what = (f"{os.fspath(path)}: a raster of duration_s={duration_s!r} s "
                f"({_short_int(n_steps)} steps x {n_neurons} neurons)")
        advice = "give a shorter duration_s"
    check_memory(n_steps * n_neurons, what, advice=advice)
    return steps.astype(np.int64), n_steps

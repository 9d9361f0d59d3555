"""Spike rasters in Auryn's ``.ras`` text format (paper_notes §11).

One spike per line, ``time_s neuron_id``, separated by white space; blank lines and
lines starting with ``#`` are ignored. Lines need not be in time order. A time ``t``
belongs to step ``round(t / dt_s)``. Neuron ids in a file start at ``id_base`` (0 or
1; the Auryn-logo and Oxford targets are 1-based) and are 0-based in every array.

Every malformed line raises a ``ValueError`` that names the file, the 1-based line
number and the offending text.
"""
from __future__ import annotations

import math
import os

import numpy as np

from .params import whole_steps
from .tasks import _check_count, _check_real, check_raster

__all__ = ["write_ras", "read_ras", "read_ras_events"]


def _check_id_base(id_base) -> int:
    if isinstance(id_base, (bool, np.bool_)) or not isinstance(id_base, (int, np.integer)):
        raise TypeError(f"id_base must be the integer 0 or 1, got {id_base!r}")
    if id_base not in (0, 1):
        raise ValueError(f"id_base must be 0 or 1 (id of the first neuron in the file), got {id_base!r}")
    return int(id_base)


def _line_error(path, lineno: int, text: str, reason: str) -> ValueError:
    return ValueError(f"{os.fspath(path)}: line {lineno}: {reason}: {text.rstrip()!r}")


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


def _parse_ras(path, id_base: int):
    """Times, 0-based ids, line numbers and line texts of every spike line, in file order."""
    times, ids, linenos, texts = [], [], [], []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            if len(fields) != 2:
                raise _line_error(path, lineno, line, f"expected 2 fields 'time_s neuron_id', got {len(fields)}")
            try:
                t = float(fields[0])
            except ValueError:
                raise _line_error(path, lineno, line, "time is not a number") from None
            try:
                neuron = int(fields[1])
            except ValueError:
                raise _line_error(path, lineno, line, "neuron id is not an integer") from None
            if not math.isfinite(t) or t < 0:
                raise _line_error(path, lineno, line, "time must be a finite number >= 0 s")
            if neuron < id_base:
                raise _line_error(path, lineno, line, f"neuron id {neuron} is below id_base={id_base}")
            times.append(t)
            ids.append(neuron - id_base)
            linenos.append(lineno)
            texts.append(line)
    return np.array(times, dtype=float), np.array(ids, dtype=np.int64), linenos, texts


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
    """
    id_base = _check_id_base(id_base)
    times_s, ids, _, _ = _parse_ras(path, id_base)
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
        spikes of one neuron in one step, naming the file, line number and text.
    """
    n_neurons = _check_count(n_neurons, "n_neurons")
    dt_s = _check_real(dt_s, "dt_s", "s", positive=True)
    id_base = _check_id_base(id_base)
    times_s, ids, linenos, texts = _parse_ras(path, id_base)
    steps = np.rint(times_s / dt_s).astype(np.int64)

    def fail(index: int, reason: str):
        raise _line_error(path, linenos[index], texts[index], reason)

    bad = np.flatnonzero(ids >= n_neurons)
    if bad.size:
        fail(bad[0], f"neuron id {ids[bad[0]] + id_base} is out of range for n_neurons={n_neurons} "
                     f"with id_base={id_base}")
    if duration_s is None:
        if steps.size == 0:
            raise ValueError(f"{os.fspath(path)}: no spikes, so duration_s must be given")
        n_steps = int(steps.max()) + 1
    else:
        duration_s = _check_real(duration_s, "duration_s", "s", positive=True)
        n_steps = whole_steps(duration_s, dt_s, "duration_s")
        bad = np.flatnonzero(steps >= n_steps)
        if bad.size:
            fail(bad[0], f"time falls in step {steps[bad[0]]}, beyond duration_s={duration_s!r} "
                         f"({n_steps} steps of dt_s={dt_s!r})")
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

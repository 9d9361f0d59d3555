"""Tasks: what the network sees and what it should produce (SPEC §6, paper §3.2).

A task is a pair of boolean rasters of one period, ``input`` ``(n_cycle, n_in)`` and
``target`` ``(n_cycle, n_out)``, replayed every cycle while the simulation runs on
without resets. The generators below build the paper's inputs and targets from a
caller's seeded :class:`numpy.random.Generator`; nothing is downloaded. The picture
targets live in :mod:`superspike_ref.pictures` and are importable from here too.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import _check_count, _check_real, _check_rng, whole_steps
from .pictures import draw_building, draw_text, fig6_target_image, picture_raster

__all__ = [
    "CyclicTask",
    "check_raster",
    "PAPER_CYCLE_S",
    "frozen_poisson",
    "timed_target",
    "paper_target_times_s",
    "picture_raster",
    "draw_building",
    "draw_text",
    "fig6_target_image",
]


def check_raster(raster, name: str, n_neurons: int | None = None) -> np.ndarray:
    """Return ``raster`` if it is a boolean ``(n_steps, n_neurons)`` array, else raise.

    Nothing is coerced: an integer or float array of zeros and ones is rejected with
    a ``TypeError``, a wrong shape with a ``ValueError`` naming ``name``.
    """
    if not isinstance(raster, np.ndarray):
        raise TypeError(f"{name} must be a numpy bool array of shape (n_steps, n_neurons), got {type(raster).__name__}")
    if raster.dtype != np.bool_:
        raise TypeError(f"{name} must have dtype bool (one spike per neuron per step), got dtype {raster.dtype}")
    if raster.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_steps, n_neurons), got shape {raster.shape}")
    if raster.shape[0] == 0:
        raise ValueError(f"{name} must have at least one time step, got shape {raster.shape}")
    if n_neurons is not None and raster.shape[1] != n_neurons:
        raise ValueError(f"{name} must have {n_neurons} neurons (columns), got shape {raster.shape}")
    return raster


@dataclass(frozen=True)
class CyclicTask:
    """Frozen input and target rasters of one cycle, replayed for ever (SPEC §6).

    Parameters
    ----------
    input : bool array ``(n_cycle, n_in)``
        Input spikes of one cycle.
    target : bool array ``(n_cycle, n_out)``
        Target spikes Ŝ of the output layer, same period.
    """

    input: np.ndarray
    target: np.ndarray

    def __post_init__(self) -> None:
        check_raster(self.input, "input")
        check_raster(self.target, "target")
        if self.input.shape[0] != self.target.shape[0]:
            raise ValueError(
                f"input and target must have the same period (n_cycle steps), got "
                f"{self.input.shape[0]} and {self.target.shape[0]}"
            )

    @property
    def n_cycle(self) -> int:
        """Steps per cycle."""
        return self.input.shape[0]

    @property
    def n_in(self) -> int:
        return self.input.shape[1]

    @property
    def n_out(self) -> int:
        return self.target.shape[1]

    def input_block(self, n0: int, n1: int) -> np.ndarray:
        """Input spikes of steps ``n0 .. n1-1`` ``(n1 - n0, n_in)``, the cycle replayed."""
        return self.input[np.arange(n0, n1) % self.n_cycle]

    def initial_error_state(self):
        """The van Rossum error needs no state (see :meth:`error_impulses`)."""
        return None

    def error_impulses(self, n0: int, output: np.ndarray, state=None):
        """Error impulses ``Ŝ[n] - S[n]`` of steps ``n0 .. n0 + len(output) - 1`` (SPEC §3).

        Returns ``(impulses, state)``; ``impulses`` is float ``(len(output), n_out)``.
        """
        target = self.target[np.arange(n0, n0 + output.shape[0]) % self.n_cycle]
        return target.astype(float) - output, state


# ---------------------------------------------------------------------------
# inputs and timed targets
# ---------------------------------------------------------------------------

#: Period of the paper's Figs 2-4 task: the input and the target repeat every 0.5 s.
PAPER_CYCLE_S = 0.5


def frozen_poisson(
    rng: np.random.Generator, n_neurons: int, rate_Hz: float, duration_s: float, dt_s: float
) -> np.ndarray:
    """Draw one cycle of frozen Poisson (Bernoulli) input spikes (SPEC §6, paper §3.2).

    Every neuron spikes in every step independently with probability
    ``p = rate_Hz * dt_s``, so a neuron has at most one spike per step and the
    expected rate is exactly ``rate_Hz``. Replaying the result every cycle gives
    the paper's "frozen" noise.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of every random draw.
    n_neurons : int
        Number of trains, >= 1.
    rate_Hz : float
        Firing rate of every train, >= 0, with ``rate_Hz * dt_s <= 1``.
    duration_s : float
        Length of the cycle; a whole number of steps of ``dt_s``.
    dt_s : float
        Time step, > 0.

    Returns
    -------
    bool array ``(n_steps, n_neurons)`` with ``n_steps = duration_s / dt_s``.
    """
    _check_rng(rng)
    n_neurons = _check_count(n_neurons, "n_neurons")
    rate_Hz = _check_real(rate_Hz, "rate_Hz", "Hz")
    duration_s = _check_real(duration_s, "duration_s", "s", positive=True)
    dt_s = _check_real(dt_s, "dt_s", "s", positive=True)
    p = rate_Hz * dt_s
    if p > 1:
        raise ValueError(
            f"rate_Hz * dt_s must be <= 1 (at most one spike per step), got "
            f"rate_Hz={rate_Hz!r} Hz * dt_s={dt_s!r} s = {p:.6g}"
        )
    n_steps = whole_steps(duration_s, dt_s, "duration_s")
    return rng.random((n_steps, n_neurons)) < p


def _as_time_lists(spike_times_s, n_neurons: int) -> list[np.ndarray]:
    """One float array of times per neuron, from a flat or a per-neuron sequence."""
    if isinstance(spike_times_s, (str, bytes)) or not hasattr(spike_times_s, "__len__"):
        raise TypeError(f"spike_times_s must be a sequence of times in s, got {type(spike_times_s).__name__}")
    dims = {np.ndim(t) for t in spike_times_s}
    if dims <= {0}:                                   # flat (or empty): the same times for every neuron
        times = np.asarray(spike_times_s, dtype=float).reshape(-1)
        return [times] * n_neurons
    if dims != {1}:
        raise TypeError("spike_times_s must be a sequence of times, or a list of such sequences, one per neuron")
    if len(spike_times_s) != n_neurons:
        raise ValueError(
            f"spike_times_s has {len(spike_times_s)} per-neuron sequences, expected n_neurons={n_neurons}"
        )
    return [np.asarray(t, dtype=float).reshape(-1) for t in spike_times_s]


def timed_target(spike_times_s, duration_s: float, dt_s: float, n_neurons: int = 1) -> np.ndarray:
    """Build a target raster from spike times (paper §4, Fig 2).

    A time ``t`` goes to step ``round(t / dt_s)`` (nearest step, ties to even).

    Parameters
    ----------
    spike_times_s : sequence of float, or list of ``n_neurons`` sequences of float
        Either one sequence of times given to every neuron, or one sequence per neuron.
        Every time must lie in ``[0, duration_s)`` and round to a step below ``n_steps``.
    duration_s : float
        Length of the cycle; a whole number of steps of ``dt_s``.
    dt_s : float
        Time step, > 0.
    n_neurons : int
        Number of target neurons, >= 1.

    Returns
    -------
    bool array ``(n_steps, n_neurons)``.

    Raises
    ------
    ValueError
        For a time outside ``[0, duration_s)`` or two spikes of one neuron in one step.
    """
    n_neurons = _check_count(n_neurons, "n_neurons")
    duration_s = _check_real(duration_s, "duration_s", "s", positive=True)
    dt_s = _check_real(dt_s, "dt_s", "s", positive=True)
    n_steps = whole_steps(duration_s, dt_s, "duration_s")
    raster = np.zeros((n_steps, n_neurons), dtype=bool)
    for neuron, times in enumerate(_as_time_lists(spike_times_s, n_neurons)):
        bad = ~np.isfinite(times) | (times < 0) | (times >= duration_s)
        if bad.any():
            raise ValueError(
                f"spike_times_s: neuron {neuron} has time {times[bad][0]!r} s outside [0, duration_s={duration_s!r})"
            )
        steps = np.rint(times / dt_s).astype(np.int64)
        if steps.size and steps.max() >= n_steps:
            raise ValueError(
                f"spike_times_s: neuron {neuron} has time {times[steps.argmax()]!r} s, which rounds to step "
                f"{steps.max()}, beyond the last step {n_steps - 1} of duration_s={duration_s!r}"
            )
        unique, counts = np.unique(steps, return_counts=True)
        if (counts > 1).any():
            step = unique[counts > 1][0]
            raise ValueError(
                f"spike_times_s: neuron {neuron} has {counts[counts > 1][0]} spikes in step {step} "
                f"(t = {step * dt_s:.6g} s, dt_s={dt_s!r}); at most one spike per step is allowed"
            )
        raster[steps, neuron] = True
    return raster


def paper_target_times_s() -> np.ndarray:
    """The paper's Fig 2-4 target: 5 equidistant spikes in a 0.5 s cycle (``PAPER_CYCLE_S``).

    Returns
    -------
    float array ``(5,)``: 0.083, 0.166, 0.249, 0.332 and 0.415 s.
    """
    return np.array([0.083, 0.166, 0.249, 0.332, 0.415])

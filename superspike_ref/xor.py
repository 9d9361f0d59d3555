"""The spiking XOR task with a window of opportunity (paper §3.2, §3.3.3, §4.1, Fig 5).

Inputs: ``n_in`` neurons in three non-overlapping sets — a time reference T, and sets A and
B — each neuron with a fixed random firing offset in ``[0, stimulus_s)``. A trial presents
T together with A if ``a = 1`` and B if ``b = 1``; its class is ``a XOR b`` and output neuron
``class`` should answer. Trials come in random order, separated by random inter-trial
intervals; all inputs fire as Poisson processes at ``background_Hz`` throughout.

Error (SPEC §6): every output spike is wrong and gives an immediate ``-1`` impulse, except
spikes of the correct neuron inside the window of opportunity (from stimulus onset until
``window_s`` later). If the correct neuron did not spike in the window, a ``+1`` impulse
is given once, at the window's last step. The impulses are then α-filtered like ``Ŝ - S``.

Choices where the paper is silent (paper notes §9.8): sets of 34/33/33 neurons covering all
inputs, offsets ``U[0, 10 ms)``, inter-trial intervals ``U[100, 200] ms``, background on all
inputs also during stimuli, window 25 ms (the 10 ms stimulus plus 15 ms).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import Params, whole_steps
from .tasks import frozen_poisson

__all__ = ["XorTask", "make_xor_task", "xor_trial_outcomes"]

_BLOCK_STEPS = 5000  # background noise is drawn per block of this many steps (deterministic per block)


@dataclass(frozen=True)
class XorTask:
    """A sequence of XOR trials, generated lazily block by block.

    Attributes
    ----------
    input_set : int array ``(n_in,)``
        Set of every input neuron: 0 = T (reference), 1 = A, 2 = B.
    offset_steps : int array ``(n_in,)``
        Firing offset of every input neuron after the trial onset.
    onset_steps : int array ``(n_trials,)``
        Stimulus onsets, increasing.
    patterns : int array ``(n_trials,)``
        Pattern of each trial, 0..3: ``a = pattern // 2``, ``b = pattern % 2``.
    window_steps : int
        Length of the window of opportunity.
    background_Hz : float
    dt_s : float
    noise_seed : int
        Seed of the background noise (block ``k`` uses ``default_rng([noise_seed, k])``).
    n_cycle : int
        Reporting period of the learning curve (steps).
    """

    input_set: np.ndarray
    offset_steps: np.ndarray
    onset_steps: np.ndarray
    patterns: np.ndarray
    window_steps: int
    background_Hz: float
    dt_s: float
    noise_seed: int
    n_cycle: int
    n_out: int = 2

    @property
    def n_in(self) -> int:
        return self.input_set.shape[0]

    @property
    def labels(self) -> np.ndarray:
        """Class of every trial, ``a XOR b`` (the output neuron that should fire)."""
        return (self.patterns // 2) ^ (self.patterns % 2)

    @property
    def n_steps(self) -> int:
        """Steps until the last trial's window has closed."""
        return int(self.onset_steps[-1] + self.window_steps)

    def _active(self, pattern: int) -> np.ndarray:
        a, b = pattern // 2, pattern % 2
        return (self.input_set == 0) | ((self.input_set == 1) & bool(a)) | ((self.input_set == 2) & bool(b))

    def input_block(self, n0: int, n1: int) -> np.ndarray:
        """Input spikes of steps ``n0 .. n1-1`` ``(n1 - n0, n_in)``: background plus stimuli."""
        blocks = range(n0 // _BLOCK_STEPS, (n1 - 1) // _BLOCK_STEPS + 1)
        noise = np.concatenate([
            frozen_poisson(np.random.default_rng([self.noise_seed, k]), self.n_in, self.background_Hz,
                           _BLOCK_STEPS * self.dt_s, self.dt_s)
            for k in blocks
        ])
        out = noise[n0 - blocks[0] * _BLOCK_STEPS: n1 - blocks[0] * _BLOCK_STEPS].copy()
        last_offset = int(self.offset_steps.max())
        first, stop = np.searchsorted(self.onset_steps, [n0 - last_offset, n1])
        neurons = np.arange(self.n_in)
        for onset, pattern in zip(self.onset_steps[first:stop], self.patterns[first:stop]):
            active = self._active(pattern)
            steps = onset + self.offset_steps[active] - n0
            inside = (steps >= 0) & (steps < n1 - n0)
            out[steps[inside], neurons[active][inside]] = True
        return out

    def initial_error_state(self) -> bool:
        """Whether the correct neuron has spiked in the current window (False before any)."""
        return False

    def error_impulses(self, n0: int, output: np.ndarray, state: bool):
        """Window-of-opportunity error impulses of steps ``n0 .. n0 + len(output) - 1`` (SPEC §6).

        ``output`` is bool ``(n, n_out)``; ``state`` says whether the correct neuron already
        spiked in a window open at ``n0``. Returns ``(impulses (n, n_out), state)``.
        """
        n = output.shape[0]
        steps = np.arange(n0, n0 + n)
        trial = np.searchsorted(self.onset_steps, steps, side="right") - 1
        safe = np.maximum(trial, 0)
        in_window = (trial >= 0) & (steps < self.onset_steps[safe] + self.window_steps)
        label = self.labels[safe]
        correct = output & in_window[:, None] & (np.arange(self.n_out)[None, :] == label[:, None])
        impulses = -(output & ~correct).astype(float)
        # +1 at the last step of each window in this stretch if the correct neuron never spiked in it
        for k in np.unique(trial[in_window]):
            start, end = self.onset_steps[k], self.onset_steps[k] + self.window_steps - 1
            here = (steps >= start) & (steps <= end)
            hit = bool(correct[here].any()) or (state if start < n0 else False)
            if end < n0 + n:
                if not hit:
                    impulses[end - n0, self.labels[k]] += 1.0
                state = False
            else:
                state = hit
        return impulses, state


def make_xor_task(
    rng: np.random.Generator,
    n_trials: int,
    params: Params = Params(),
    n_in: int = 100,
    set_sizes=(34, 33, 33),
    stimulus_s: float = 10e-3,
    window_s: float = 25e-3,
    iti_s=(0.1, 0.2),
    background_Hz: float = 4.0,
    first_onset_s: float = 0.1,
    report_every_s: float = 0.5,
) -> XorTask:
    """Draw an XOR task: input sets and offsets, trial order and intervals (all from ``rng``)."""
    if sum(set_sizes) != n_in or len(set_sizes) != 3 or min(set_sizes) < 1:
        raise ValueError(f"set_sizes must be three positive sizes adding up to n_in={n_in}, got {set_sizes}")
    if n_trials < 1:
        raise ValueError(f"n_trials must be >= 1, got {n_trials}")
    lo, hi = iti_s
    if not 0 < lo <= hi or lo < window_s:
        raise ValueError(f"iti_s must be (low, high) with window_s <= low <= high, got {iti_s}")
    dt = params.dt_s
    input_set = rng.permutation(np.repeat([0, 1, 2], set_sizes))
    offset_steps = np.floor(rng.uniform(0.0, stimulus_s, n_in) / dt).astype(np.int64)
    patterns = rng.integers(0, 4, n_trials)
    gaps = np.round(rng.uniform(lo, hi, n_trials) / dt).astype(np.int64)
    onset_steps = whole_steps(first_onset_s, dt, "first_onset_s") + np.concatenate([[0], np.cumsum(gaps[:-1])])
    return XorTask(
        input_set=input_set,
        offset_steps=offset_steps,
        onset_steps=onset_steps,
        patterns=patterns,
        window_steps=whole_steps(window_s, dt, "window_s"),
        background_Hz=float(background_Hz),
        dt_s=dt,
        noise_seed=int(rng.integers(2**63)),
        n_cycle=whole_steps(report_every_s, dt, "report_every_s"),
    )


def xor_trial_outcomes(task: XorTask, output: np.ndarray, n0: int = 0) -> np.ndarray:
    """Per-trial correctness from an output raster of steps ``n0 ..``: the correct neuron spiked
    in the window and the other did not. Trials whose window is not fully covered are left out;
    returns a bool array over the covered trials, in order.
    """
    n1 = n0 + output.shape[0]
    covered = (task.onset_steps >= n0) & (task.onset_steps + task.window_steps <= n1)
    outcomes = []
    for onset, label in zip(task.onset_steps[covered], task.labels[covered]):
        window = output[onset - n0: onset - n0 + task.window_steps]
        fired = window.any(axis=0)
        outcomes.append(bool(fired[label]) and not bool(fired[1 - label]))
    return np.array(outcomes, dtype=bool)

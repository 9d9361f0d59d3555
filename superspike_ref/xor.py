"""The spiking XOR task with a window of opportunity (paper §3.2, §3.3.3, §4.1, Fig 5).

Inputs: ``n_in`` neurons in three non-overlapping sets — set 0, a time reference, and sets 1
and 2 — each neuron with a fixed random firing offset in ``[0, stimulus_s)``. A trial presents
set 0 together with set 1 if ``bit_1 = 1`` and set 2 if ``bit_2 = 1``; its class is
``bit_1 XOR bit_2`` and output neuron ``class`` should answer. Trials come in random order, separated by random inter-trial
intervals; all inputs fire as Poisson processes at ``background_Hz`` throughout.

Error (SPEC §6): every output spike is wrong and gives an immediate ``-1`` impulse, except
spikes of the correct neuron inside the window of opportunity (from stimulus onset until
``window_s`` later). If the correct neuron did not spike in the window, a ``+1`` impulse
is given once, at the window's last step. The impulses are then α-filtered like ``Ŝ - S``.

Choices where the paper is silent (docs/paper.md §"The XOR task"): sets of 34/33/33 neurons covering all
inputs, offsets ``U[0, 10 ms)``, inter-trial intervals ``U[100, 200] ms``, background on all
inputs also during stimuli (``background_in_stimulus=False`` silences it there), window 25 ms
(the 10 ms stimulus plus 15 ms).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import Params, whole_steps
from .tasks import CyclicTask, frozen_poisson

__all__ = ["XorTask", "XorRasterTask", "window_error_impulses", "make_xor_task", "xor_window_responses",
           "xor_trial_outcomes", "xor_late_responses"]

_BLOCK_STEPS = 5000  # background noise is drawn per block of this many steps (deterministic per block)


@dataclass(frozen=True)
class XorTask:
    """A sequence of XOR trials, generated lazily block by block.

    Attributes
    ----------
    input_set : int array ``(n_in,)``
        Set of every input neuron: 0 (time reference), 1 or 2.
    offset_steps : int array ``(n_in,)``
        Firing offset of every input neuron after the trial onset.
    onset_steps : int array ``(n_trials,)``
        Stimulus onsets, increasing.
    patterns : int array ``(n_trials,)``
        Pattern of each trial, 0..3: ``bit_1 = pattern // 2``, ``bit_2 = pattern % 2``.
    window_steps : int
        Length of the window of opportunity.
    background_Hz : float
    dt_s : float
    noise_seed : int
        Seed of the background noise (block ``k`` uses ``default_rng([noise_seed, k])``).
    n_cycle : int
        Reporting period of the learning curve (steps).
    quiet_steps : int
        Background is silenced for this many steps from every onset (0: background throughout).
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
    quiet_steps: int = 0

    @property
    def n_in(self) -> int:
        return self.input_set.shape[0]

    @property
    def labels(self) -> np.ndarray:
        """Class of every trial, ``bit_1 XOR bit_2`` (the output neuron that should fire)."""
        return (self.patterns // 2) ^ (self.patterns % 2)

    @property
    def n_steps(self) -> int:
        """Steps until the last trial's window has closed."""
        return int(self.onset_steps[-1] + self.window_steps)

    def _active(self, pattern: int) -> np.ndarray:
        bit_1, bit_2 = pattern // 2, pattern % 2
        return (self.input_set == 0) | ((self.input_set == 1) & bool(bit_1)) | ((self.input_set == 2) & bool(bit_2))

    def input_block(self, n0: int, n1: int) -> np.ndarray:
        """Input spikes of steps ``n0 .. n1-1`` ``(n1 - n0, n_in)``: background plus stimuli."""
        blocks = range(n0 // _BLOCK_STEPS, (n1 - 1) // _BLOCK_STEPS + 1)
        noise = np.concatenate([
            frozen_poisson(np.random.default_rng([self.noise_seed, k]), self.n_in, self.background_Hz,
                           _BLOCK_STEPS * self.dt_s, self.dt_s)
            for k in blocks
        ])
        out = noise[n0 - blocks[0] * _BLOCK_STEPS: n1 - blocks[0] * _BLOCK_STEPS].copy()
        reach = int(max(self.offset_steps.max(), self.quiet_steps))  # steps a trial reaches past its onset
        first, stop = np.searchsorted(self.onset_steps, [n0 - reach, n1])
        neurons = np.arange(self.n_in)
        for onset in self.onset_steps[first:stop]:
            out[max(onset - n0, 0): max(onset + self.quiet_steps - n0, 0)] = False
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
        spiked in a window open at ``n0``. Returns ``(impulses (n, n_out), state)``
        (:func:`window_error_impulses`).
        """
        return window_error_impulses(self.onset_steps, self.labels, self.window_steps, n0, output, state)


@dataclass(frozen=True)
class XorRasterTask(CyclicTask):
    """An XOR task as a SPEC §9 case stores it: the input raster of the run and the trials' windows.

    The input (bool ``(n_cycle, n_in)``) is replayed as a :class:`~superspike_ref.tasks.CyclicTask`'s;
    ``target`` (bool ``(n_cycle, n_out)``, all False) only gives the number of outputs. The error
    is :func:`window_error_impulses` of the trials (``onset_steps``, ``labels``, int arrays
    ``(n_trials,)``) with windows of ``window_steps`` steps.
    """

    onset_steps: np.ndarray
    labels: np.ndarray
    window_steps: int

    def initial_error_state(self) -> bool:
        """Whether the correct neuron has spiked in the current window (False before any)."""
        return False

    def error_impulses(self, n0: int, output: np.ndarray, state: bool):
        """:func:`window_error_impulses` of the stored trials (see :meth:`XorTask.error_impulses`)."""
        return window_error_impulses(self.onset_steps, self.labels, self.window_steps, n0, output, state)


def window_error_impulses(onset_steps, labels, window_steps: int, n0: int, output: np.ndarray, state: bool):
    """Window-of-opportunity error impulses of steps ``n0 .. n0 + len(output) - 1`` (SPEC §6).

    Every output spike gives ``-1``, except spikes of neuron ``labels[k]`` within
    ``onset_steps[k] .. onset_steps[k] + window_steps - 1``; a window in which that neuron never
    spiked gives ``+1`` to it at its last step.

    Parameters
    ----------
    onset_steps, labels : int arrays ``(n_trials,)``
        Stimulus onsets (increasing) and the output neuron that should answer each trial.
    window_steps : int
    n0 : int
        First step of ``output``.
    output : bool array ``(n, n_out)``
    state : bool
        Whether the correct neuron already spiked in a window open at ``n0``.

    Returns
    -------
    impulses : float array ``(n, n_out)``
    state : bool
        The same at ``n0 + n``.
    """
    n, n_out = output.shape
    steps = np.arange(n0, n0 + n)
    trial = np.searchsorted(onset_steps, steps, side="right") - 1
    safe = np.maximum(trial, 0)
    in_window = (trial >= 0) & (steps < onset_steps[safe] + window_steps)
    label = labels[safe]
    correct = output & in_window[:, None] & (np.arange(n_out)[None, :] == label[:, None])
    impulses = -(output & ~correct).astype(float)
    # +1 at the last step of each window in this stretch if the correct neuron never spiked in it
    for k in np.unique(trial[in_window]):
        start, end = onset_steps[k], onset_steps[k] + window_steps - 1
        here = (steps >= start) & (steps <= end)
        hit = bool(correct[here].any()) or (state if start < n0 else False)
        if end < n0 + n:
            if not hit:
                impulses[end - n0, labels[k]] += 1.0
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
    background_in_stimulus: bool = True,
) -> XorTask:
    """Draw an XOR task: input sets and offsets, trial order and intervals (all from ``rng``).

    ``background_in_stimulus=False`` silences the background for ``stimulus_s`` from every onset
    (the paper's "during these intervals all inputs fire at 4 Hz" read strictly).
    """
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
        quiet_steps=0 if background_in_stimulus else whole_steps(stimulus_s, dt, "stimulus_s"),
    )


def _covered_trials(task: XorTask, n0: int, n1: int):
    """Onsets and labels of the trials whose window lies within steps ``n0 .. n1-1``."""
    covered = (task.onset_steps >= n0) & (task.onset_steps + task.window_steps <= n1)
    return task.onset_steps[covered], task.labels[covered]


def xor_window_responses(task: XorTask, output: np.ndarray, n0: int = 0) -> np.ndarray:
    """Which output neurons spiked in each trial's window ``(n_covered_trials, n_out)``, from an
    output raster of steps ``n0 ..``. Trials whose window is not fully covered are left out.
    """
    onsets, _ = _covered_trials(task, n0, n0 + output.shape[0])
    fired = [output[onset - n0: onset - n0 + task.window_steps].any(axis=0) for onset in onsets]
    return np.array(fired, dtype=bool).reshape(len(onsets), output.shape[1])


def xor_trial_outcomes(task: XorTask, output: np.ndarray, n0: int = 0) -> np.ndarray:
    """Per-trial correctness (the trials of :func:`xor_window_responses`): the correct neuron
    spiked in the window and the other did not.
    """
    fired = xor_window_responses(task, output, n0)
    _, labels = _covered_trials(task, n0, n0 + output.shape[0])
    rows = np.arange(labels.size)
    return fired[rows, labels] & ~fired[rows, 1 - labels]


def xor_late_responses(task: XorTask, output: np.ndarray, n0: int = 0, after_s: float = 15e-3) -> np.ndarray:
    """Per trial (the trials of :func:`xor_window_responses`): the correct neuron was silent in the
    window but spiked within ``after_s`` after it closed (as far as ``output`` reaches): a late answer.
    """
    after = whole_steps(after_s, task.dt_s, "after_s")
    late = []
    for onset, label in zip(*_covered_trials(task, n0, n0 + output.shape[0])):
        end = onset - n0 + task.window_steps
        late.append(not output[onset - n0: end, label].any() and bool(output[end: end + after, label].any()))
    return np.array(late, dtype=bool)

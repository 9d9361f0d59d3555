"""The main demo: the paper's Fig 2 task learned by one LIF neuron (paper §4, Fig 2).

100 frozen Poisson inputs at 5 Hz over a 0.5 s cycle drive one output neuron that must
fire 5 spikes at 83, 166, 249, 332 and 415 ms. Initial weights N(0, 0.05 V/√100) clipped
to ±0.1 V leave the neuron silent in the first cycle; RMaxProp with r0 = 1e-3 V trains it.
Run it with ``python -m superspike_ref demo``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .fast import FastEngine
from .network import LiteralEngine, RunResult, concat_results
from .paper_tasks import DEMO_SEED, fig2_network, fig2_task
from .params import Params, _check_real, whole_steps
from .tasks import PAPER_CYCLE_S, CyclicTask

__all__ = ["fig2_task", "fig2_network", "DemoResult", "run_demo", "DEMO_SEED", "DEMO_OUT"]

ENGINES = {"literal": LiteralEngine, "fast": FastEngine}

DEMO_OUT = "results-quick/superspike_demo.png"
"""Default figure file, relative to the working directory: ``results-quick/`` is git-ignored, so the
demo leaves nothing untracked in a clone (its folder is created if needed)."""


@dataclass
class DemoResult:
    """Learning curve and the first and last cycles' traces of the demo."""

    task: CyclicTask
    params: Params
    before: RunResult
    training: RunResult
    after: RunResult

    @property
    def cycle_end_s(self) -> np.ndarray:
        return np.concatenate([self.before.cycle_end_s, self.training.cycle_end_s, self.after.cycle_end_s])

    @property
    def vr_distance(self) -> np.ndarray:
        return np.concatenate([self.before.vr_distance, self.training.vr_distance, self.after.vr_distance])


def run_demo(
    duration_s: float = 400.0,
    seed: int = DEMO_SEED,
    engine: str = "fast",
    progress: bool = True,
    print_every_s: float | None = 50.0,
    out: str | Path | None = DEMO_OUT,
) -> DemoResult:
    """Train the Fig 2 network for ``duration_s`` of simulated time and draw the figure.

    The first and the last cycle are recorded (output ``U_tilde``, ``S``, ``e``). The learning
    curve is printed every ``print_every_s``; the figure is written to ``out`` (skipped if None;
    its folder is created if missing) and its absolute path printed.

    Raises
    ------
    TypeError, ValueError
        For a ``duration_s`` that is not a finite whole number of cycles, at least two, a
        ``print_every_s`` that is not None, 0 or a finite positive whole number of cycles, or
        an unknown ``engine``.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {sorted(ENGINES)}, got {engine!r}")
    n_cycles = whole_steps(_check_real(duration_s, "duration_s", "s", positive=True), PAPER_CYCLE_S, "duration_s")
    if n_cycles < 2:
        raise ValueError(f"duration_s must cover at least two cycles of {PAPER_CYCLE_S} s, got {duration_s!r}")
    if print_every_s:
        whole_steps(_check_real(print_every_s, "print_every_s", "s", positive=True), PAPER_CYCLE_S, "print_every_s")
    params = Params()
    rng = np.random.default_rng(seed)
    task = fig2_task(rng, params)
    sim = ENGINES[engine](fig2_network(rng, params), task)
    record = ("U_tilde", "S", "e")
    before = sim.run(task.n_cycle, record=record)
    if print_every_s:
        print(f"t = {before.cycle_end_s[-1]:7.1f} s   vr_distance = {before.vr_distance[-1]:.3f}")
    chunk = max(1, whole_steps(print_every_s or duration_s, PAPER_CYCLE_S, "print_every_s"))
    parts = []
    done = 1
    while done < n_cycles - 1:
        todo = min(chunk - done % chunk, n_cycles - 1 - done)
        part = sim.run(todo * task.n_cycle, progress=progress)
        parts.append(part)
        done += todo
        if print_every_s and done % chunk == 0:
            print(f"t = {part.cycle_end_s[-1]:7.1f} s   vr_distance = {part.vr_distance[-1]:.3f}")
    training = concat_results(parts or [sim.run(0)])
    after = sim.run(task.n_cycle, record=record)
    print(f"t = {after.cycle_end_s[-1]:7.1f} s   vr_distance = {after.vr_distance[-1]:.3f}   (last cycle)")
    result = DemoResult(task=task, params=params, before=before, training=training, after=after)
    if out is not None:
        from .plotting import demo_figure

        fig = demo_figure(before.traces, after.traces, task, params, result.cycle_end_s, result.vr_distance,
                          t_after_s=after.t_start_s)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=120)
        print(f"figure written to {Path(out).resolve()}")
    return result

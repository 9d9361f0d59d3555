"""Paper Fig 4: a hidden layer of 4 units on the Fig 2 task, with random, symmetric and uniform feedback.

Same input and target as Fig 2; 100 → 4 → 1 (and 100 → 8 → 1 with random feedback);
initial weights redrawn until neither hidden nor output units spike in the first cycle
(as the paper requires); RMaxProp r0 = 1e-3; 20 runs per condition, 800 s (docs/paper.md
§"Figs 3 and 4: a hidden layer on the same task" and §"Schedules, burn-in and run lengths").
Run ``i`` of every condition starts from the same weights; random feedback draws ``B ~ N(0, 1)``
after them.

The paper reports: hidden units fire by 40 s, the output is refined by 250 s, no striking
difference between feedback types, and the few complete failures happen when all feedback
weights are negative (probability 1/16 with 4 hidden units, 1/256 with 8).
"""
from __future__ import annotations

import numpy as np

from ..paper_tasks import DEMO_SEED, fig2_task
from ..network import Network
from ..params import Params, whole_steps
from ..tasks import paper_target_times_s
from .common import (LEARNED_BELOW, ExperimentResult, Snapshots, batch_engine, draw_silent_networks,
                     chunking, experiment_config, experiment_size, run_chunks, save_result, time_to_learn_s)

__all__ = ["run", "figure", "CONDITIONS", "FULL", "QUICK"]

CONDITIONS = {"random": ("random", 4), "symmetric": ("symmetric", 4), "uniform": ("uniform", 4), "random_8": ("random", 8)}
"""Condition name → (feedback, hidden units)."""
FULL = {"seeds": 20, "duration_s": 800.0, "chunk_s": 20.0, "snapshot_s": [40.0, 250.0]}
QUICK = {"seeds": 2, "duration_s": 20.0, "chunk_s": 5.0, "snapshot_s": [10.0]}
SNAPSHOT_RUNS = 2
"""Runs per condition whose snapshot cycles are kept."""


def run(quick: bool = False, seeds: int | None = None, duration_s: float | None = None, out=None,
        resume: bool = False, engine: str = "fast", seed: int = DEMO_SEED, progress: bool = True) -> ExperimentResult:
    """Run Fig 4 (``quick``: 2 runs per condition, 20 s) and save ``fig4.npz`` in ``out`` if given."""
    size = experiment_size(FULL, QUICK, quick, seeds=seeds, duration_s=duration_s)
    params = Params()
    config = experiment_config("fig4", size, seed, engine, params)
    n_chunks, chunk_steps = chunking(size, params)
    task = fig2_task(np.random.default_rng(seed), params)
    n_runs = size["seeds"]
    n_cycles = n_chunks * chunk_steps // task.n_cycle
    snap_cycles = [0] + [whole_steps(t, task.n_cycle * params.dt_s, "snapshot_s") - 1 for t in size["snapshot_s"]
                         if t < size["duration_s"]] + [n_cycles - 1]

    # one batch per hidden size; within it the conditions one after the other
    groups = {}
    for name, (feedback, n_hidden) in CONDITIONS.items():
        def make(rng, feedback=feedback, n_hidden=n_hidden):
            return Network.create((task.n_in, n_hidden, 1), rng, params, feedback=feedback)
        networks, attempts = draw_silent_networks(make, task, seed, n_runs)
        groups.setdefault(n_hidden, []).append((name, networks, attempts))
    state = {"config": config, "chunks_done": 0, "vr": {name: [] for name in CONDITIONS}, "groups": {}}
    for n_hidden, members in groups.items():
        networks = [net for _, nets, _ in members for net in nets]
        runs = [j * n_runs + b for j in range(len(members)) for b in range(min(SNAPSHOT_RUNS, n_runs))]
        state["groups"][n_hidden] = {
            "names": [name for name, _, _ in members],
            "engine": batch_engine(networks, task, engine),
            "snapshots": Snapshots(snap_cycles, runs, ("U_tilde", "S", "e"), task.n_cycle),
        }
    feedback_arrays = {f"B_{name}": np.stack([net.feedback_matrices[0][0] for net in nets])
                       for members in groups.values() for name, nets, _ in members if nets[0].feedback != "symmetric"}
    attempts = {f"init_attempts_{name}": a for members in groups.values() for name, _, a in members}

    def advance(state: dict) -> None:
        n0 = state["chunks_done"] * chunk_steps
        for group in state["groups"].values():
            results = group["snapshots"].run(group["engine"], n0, chunk_steps)
            for j, name in enumerate(group["names"]):
                state["vr"][name].append(np.stack([r.vr_distance for r in results[j * n_runs:(j + 1) * n_runs]]))

    state = run_chunks(state, advance, n_chunks, out_dir=out, resume=resume, progress=progress, desc="fig4")
    arrays = {
        "cycle_end_s": (np.arange(n_cycles) + 1) * task.n_cycle * params.dt_s,
        "input": task.input,
        "target_times_s": paper_target_times_s(),
        **{f"vr_{name}": np.concatenate(v, axis=1) for name, v in state["vr"].items()},
        **feedback_arrays,
        **attempts,
    }
    for n_hidden, group in state["groups"].items():
        arrays.update({f"h{n_hidden}_{k}": v for k, v in group["snapshots"].arrays().items()})
        arrays[f"h{n_hidden}_conditions"] = np.array(group["names"])
    result = ExperimentResult("fig4", arrays, summarise(arrays), config)
    if out is not None:
        save_result(result, f"{out}/fig4.npz")
    return result


def summarise(arrays: dict) -> dict:
    """Per condition: runs learned at the end, median time to learn, failures and their feedback signs."""
    cycles_per_10s = int(round(10.0 / (arrays["cycle_end_s"][1] - arrays["cycle_end_s"][0])))
    summary = {}
    for name in CONDITIONS:
        vr = arrays[f"vr_{name}"]
        final = vr[:, -cycles_per_10s:].mean(axis=1)
        failed = final >= LEARNED_BELOW
        t_learn = time_to_learn_s(arrays["cycle_end_s"], vr, cycles_per_10s)
        entry = {
            "runs": int(vr.shape[0]),
            "runs_below_1_at_end": int(np.sum(~failed)),
            "final_vr_distance_mean": float(final.mean()),
            "median_time_to_learn_s": float(np.nanmedian(t_learn)) if np.isfinite(t_learn).any() else None,
            "failed_runs": [int(i) for i in np.nonzero(failed)[0]],
        }
        if f"B_{name}" in arrays:
            negative = np.all(arrays[f"B_{name}"] < 0, axis=1)
            entry["runs_all_feedback_negative"] = int(negative.sum())
            entry["failed_with_all_feedback_negative"] = int(np.sum(failed & negative))
        summary[name] = entry
    return summary


def figure(result: ExperimentResult, run_index: int = 0):
    """The paper's Fig 4: snapshots of a random-feedback run (a, b) and learning curves (c, d, e)."""
    from ..plotting import fig4_figure

    return fig4_figure(result.arrays, Params.from_dict(result.config["params"]), run_index)

"""Paper Fig 2: one LIF neuron learns five precisely timed spikes (paper §4;
docs/paper.md §"Fig 2: one neuron, five spike times").

100 frozen Poisson inputs at 5 Hz over a 0.5 s cycle, the target spikes at 83, 166, 249,
332 and 415 ms, initial weights N(0, 0.05 V/√100), redrawn until the output is silent in the
first cycle (as the paper requires), RMaxProp with r0 = 1e-3, 20 runs with different initial weights
on the same input, 800 s. Reported by the paper: learned after about 250 s (500 cycles).

The result holds the learning curves of all runs, every output spike (run, cycle, time in
the cycle) for the spike-timing plot, and the first and last cycles of every run.
"""
from __future__ import annotations

import numpy as np

from ..paper_tasks import DEMO_SEED, fig2_network, fig2_task
from ..params import Params, whole_steps
from ..tasks import PAPER_CYCLE_S, paper_target_times_s
from .common import (LEARNED_BELOW, ExperimentResult, Snapshots, batch_engine, draw_silent_networks,
                     chunking, experiment_config, experiment_size, run_chunks, save_result, time_to_learn_s)

__all__ = ["run", "figure", "FULL", "QUICK"]

FULL = {"seeds": 20, "duration_s": 800.0, "chunk_s": 20.0}
QUICK = {"seeds": 3, "duration_s": 20.0, "chunk_s": 5.0}


def run(quick: bool = False, seeds: int | None = None, duration_s: float | None = None, out=None,
        resume: bool = False, engine: str = "fast", seed: int = DEMO_SEED, progress: bool = True) -> ExperimentResult:
    """Run Fig 2 (``quick``: 3 runs of 20 s) and save ``fig2.npz`` in ``out`` if given."""
    size = experiment_size(FULL, QUICK, quick, seeds=seeds, duration_s=duration_s)
    params = Params()
    config = experiment_config("fig2", size, seed, engine, params)
    n_chunks, chunk_steps = chunking(size, params)
    rng = np.random.default_rng(seed)
    task = fig2_task(rng, params)
    networks, attempts = draw_silent_networks(lambda r: fig2_network(r, params), task, seed, size["seeds"])
    snapshots = Snapshots([0, n_chunks * chunk_steps // task.n_cycle - 1], range(min(3, size["seeds"])),
                          ("U_tilde", "S", "e"), task.n_cycle)
    state = {"config": config, "chunks_done": 0, "engine": batch_engine(networks, task, engine),
             "vr": [], "mse": [], "spikes": [], "snapshots": snapshots}

    def advance(state: dict) -> None:
        n0 = state["chunks_done"] * chunk_steps
        results = state["snapshots"].run(state["engine"], n0, chunk_steps, record=("S",))
        state["vr"].append(np.stack([r.vr_distance for r in results]))
        state["mse"].append(np.stack([r.auryn_mse for r in results]))
        for b, r in enumerate(results):
            steps = np.nonzero(r.traces["S_1"][:, 0])[0] + n0
            state["spikes"].append(np.stack([np.full(steps.size, b), steps // task.n_cycle, steps % task.n_cycle]))

    state = run_chunks(state, advance, n_chunks, out_dir=out, resume=resume, progress=progress, desc="fig2")
    vr = np.concatenate(state["vr"], axis=1)
    spikes = np.concatenate(state["spikes"], axis=1)
    cycle_end_s = (np.arange(vr.shape[1]) + 1) * task.n_cycle * params.dt_s
    arrays = {
        "cycle_end_s": cycle_end_s,
        "vr_distance": vr,
        "auryn_mse": np.concatenate(state["mse"], axis=1),
        "spike_run": spikes[0].astype(np.int32), "spike_cycle": spikes[1].astype(np.int32),
        "spike_time_s": spikes[2] * params.dt_s,
        "target_times_s": paper_target_times_s(),
        "input": task.input,
        "init_attempts": attempts,
        **state["snapshots"].arrays(),
    }
    result = ExperimentResult("fig2", arrays, summarise(arrays, cycles_per_10s=whole_steps(10.0, PAPER_CYCLE_S, "10 s")), config)
    if out is not None:
        save_result(result, f"{out}/fig2.npz")
    return result


def summarise(arrays: dict, cycles_per_10s: int) -> dict:
    """Summary numbers of a Fig 2 result (JSON-able)."""
    vr = arrays["vr_distance"]
    t_learn = time_to_learn_s(arrays["cycle_end_s"], vr, cycles_per_10s)
    return {
        "runs": int(vr.shape[0]),
        "duration_s": float(arrays["cycle_end_s"][-1]),
        "runs_below_1_at_end": int(np.sum(vr[:, -1] < LEARNED_BELOW)),
        "final_vr_distance_median": float(np.median(vr[:, -1])),
        "final_vr_distance_mean": float(np.mean(vr[:, -1])),
        "runs_silent_in_first_cycle": int(vr.shape[0] - np.unique(arrays["spike_run"][arrays["spike_cycle"] == 0]).size),
        "median_time_to_learn_s": float(np.nanmedian(t_learn)) if np.isfinite(t_learn).any() else None,
        "runs_learned": int(np.sum(np.isfinite(t_learn))),
    }


def figure(result: ExperimentResult, run_index: int = 0):
    """The paper's Fig 2: snapshots before and after learning (a, b), spike timing (c), learning curves (d)."""
    from ..plotting import fig2_figure

    return fig2_figure(result.arrays, Params.from_dict(result.config["params"]), run_index)

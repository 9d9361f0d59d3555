"""Paper Fig 5: the spiking XOR with a window of opportunity (paper §4.1;
docs/paper.md §"Fig 5: the spiking XOR" and §"The XOR task").

100 inputs in three sets (a time reference and two stimulus sets) with fixed random firing offsets in a 10 ms
window, 4 Hz background, random inter-trial intervals of 100-200 ms, 4 hidden units and 2
outputs; error impulses from the window of opportunity (:mod:`superspike_ref.xor`).
Conditions: random feedback, random feedback with the heterosynaptic regulariser
(ρ = 0.05 in SPEC units, the original code's ρ = 1; a = 4, τ_het = 100 ms), symmetric,
uniform, and no hidden layer; 20 runs each on the same trial sequence, RMaxProp r0 = 1e-3.

The paper reports: random feedback reaches perfect accuracy quickly, symmetric learns fast
too, uniform is worse on average, and without a hidden layer the task cannot be solved.
"""
from __future__ import annotations

import numpy as np

from ..network import Network
from ..params import Params
from ..xor import make_xor_task, xor_late_responses, xor_trial_outcomes
from .common import (ExperimentResult, batch_engine, experiment_config, experiment_size, has_checkpoint,
                     run_chunks)
from .jobs import Job, run_figure

__all__ = ["run", "figure", "jobs", "run_job", "assemble", "chunk_bounds", "final_accuracy", "one_sign_feedback", "CONDITIONS", "FULL", "QUICK", "RHO_REGULARISER"]

RHO_REGULARISER = 0.05
"""ρ of the regularised condition in SPEC units (the original code's ρ = 1, SPEC §5)."""
CONDITIONS = {
    "random": ("random", True, 0.0),
    "random_reg": ("random", True, RHO_REGULARISER),
    "symmetric": ("symmetric", True, 0.0),
    "uniform": ("uniform", True, 0.0),
    "no_hidden": ("symmetric", False, 0.0),
}
"""Condition name → (feedback, has a hidden layer, ρ)."""
FULL = {"seeds": 20, "trials": 5000, "trials_per_chunk": 100}
QUICK = {"seeds": 2, "trials": 300, "trials_per_chunk": 100}
N_HIDDEN = 4
FINAL_TRIALS = 500
"""Trials at the end over which the final accuracy is measured (fewer in short runs)."""


def jobs(config: dict) -> list:
    """The figure's jobs: one per condition of :data:`CONDITIONS` (all ``seeds`` runs in one batch)."""
    n_chunks = -(-config["trials"] // config["trials_per_chunk"])
    return [Job(name, {}, n_chunks) for name in CONDITIONS]


def _advance(state: dict, task, bounds: list) -> None:
    """One chunk of trials of a condition: per-trial outcomes, late answers, cost; the last 2 s of spikes."""
    j = state["chunks_done"]
    n0, n1 = bounds[j], bounds[j + 1]
    results = state["engine"].run(n1 - n0, record=("S",))
    out_key = max(k for k in results[0].traces if k.startswith("S_"))
    state["outcomes"].append(np.stack([xor_trial_outcomes(task, r.traces[out_key], n0) for r in results]))
    state["late"].append(np.stack([xor_late_responses(task, r.traces[out_key], n0) for r in results]))
    state["cost"].append(np.stack([r.vr_distance for r in results]))
    if j == len(bounds) - 2:  # the last 2 s of every run and layer, for the activity panel
        keep = _last_steps(bounds)
        state["last"] = {k: np.stack([r.traces[k][-keep:] for r in results]) for k in results[0].traces}


def _last_steps(bounds: list) -> int:
    """Steps of the last chunk kept for the activity panel (at most 2 s)."""
    return min(bounds[-1] - bounds[-2], 20000)


def run_job(config: dict, job: Job, folder=None, on_chunk=None) -> dict:
    """One condition: ``correct``, ``late``, ``cost`` ``(runs, ...)``, ``last_S_<l>`` and ``B`` (random feedback);
    checkpointed in ``folder`` (if given) and resumed from there."""
    base, seed = Params.from_dict(config["params"]), config["seed"]
    task = make_xor_task(np.random.default_rng(seed), config["trials"], base)
    bounds = chunk_bounds(task, config["trials_per_chunk"])
    feedback, hidden, rho = CONDITIONS[job.name]
    layers = (task.n_in, N_HIDDEN, task.n_out) if hidden else (task.n_in, task.n_out)
    networks = [Network.create(layers, np.random.default_rng([seed, i]), base.replace(rho=rho), feedback=feedback)
                for i in range(config["seeds"])]
    state = {"config": {**config, "job": job.name}, "chunks_done": 0, "engine": batch_engine(networks, task, config["engine"]),
             "outcomes": [], "late": [], "cost": [], "last": {}}
    state = run_chunks(state, lambda state: _advance(state, task, bounds), len(bounds) - 1, out_dir=folder,
                       resume=has_checkpoint(folder), progress=False, desc="fig5", on_chunk=on_chunk)
    arrays = {"correct": np.concatenate(state["outcomes"], axis=1), "late": np.concatenate(state["late"], axis=1),
              "cost": np.concatenate(state["cost"], axis=1), **{f"last_{k}": v for k, v in state["last"].items()}}
    if feedback == "random":
        arrays["B"] = np.stack([net.feedback_matrices[0] for net in networks])
    return arrays


def assemble(config: dict, arrays: dict) -> ExperimentResult:
    """The figure's result from every job's arrays (``{name: arrays}`` in job order)."""
    base = Params.from_dict(config["params"])
    task = make_xor_task(np.random.default_rng(config["seed"]), config["trials"], base)
    bounds = chunk_bounds(task, config["trials_per_chunk"])
    last_n0 = bounds[-1] - _last_steps(bounds)
    out = {
        "onset_steps": task.onset_steps, "labels": task.labels, "window_steps": np.array(task.window_steps),
        "input_last": task.input_block(last_n0, task.n_steps),
        "last_n0": np.array(last_n0),
        "cost_time_s": (np.arange(arrays["random"]["cost"].shape[1]) + 1) * task.n_cycle * base.dt_s,
    }
    for name, job in arrays.items():
        out.update({f"{key}_{name}": v for key, v in job.items() if key in ("correct", "late", "cost")})
        out.update({f"last_{name}_{key[5:]}": v for key, v in job.items() if key.startswith("last_")})
    out.update({f"B_{name}": job["B"] for name, job in arrays.items() if "B" in job})
    return ExperimentResult("fig5", out, summarise(out), config)


def run(quick: bool = False, seeds: int | None = None, trials: int | None = None, out=None, resume: bool = False,
        engine: str = "fast", seed: int = 5, progress: bool = True, workers: int | None = None,
        scheduler: str | None = None) -> ExperimentResult:
    """Run Fig 5 (``quick``: 2 runs per condition, 300 trials) and save ``fig5.npz`` in ``out`` if given.

    The conditions are jobs, run one after the other, in a pool of ``workers`` processes, or on
    the dask cluster at ``scheduler`` (:func:`~superspike_ref.experiments.jobs.run_jobs`).
    """
    config = experiment_config("fig5", experiment_size(FULL, QUICK, quick, seeds=seeds, trials=trials), seed, engine,
                               Params())
    return run_figure(config, jobs, run_job, assemble, out=out, resume=resume, progress=progress, workers=workers,
                      scheduler=scheduler)


def one_sign_feedback(B: np.ndarray) -> np.ndarray:
    """Per run, whether all feedback weights of some output have one sign (``B`` ``(runs, n_out, n_hidden)``).

    Such an output sends every hidden unit the same direction of change whenever it errs, the
    two-output analogue of Fig 4's all-negative feedback (probability ``1 - (1 - 2^(1-n_h))^n_out``,
    0.23 for 4 hidden units and 2 outputs).
    """
    return np.any(np.all(B > 0, axis=2) | np.all(B < 0, axis=2), axis=1)


def chunk_bounds(task, trials_per_chunk: int, n_steps: int | None = None) -> list:
    """Step bounds of chunks of ``trials_per_chunk`` trials, each starting at a trial onset, so no
    window straddles two chunks; the last ends at ``n_steps`` (default: the last window's end)."""
    onsets = task.onset_steps[trials_per_chunk::trials_per_chunk]
    return [0] + [int(n) for n in onsets] + [task.n_steps if n_steps is None else n_steps]


def _final_trials(per_trial: np.ndarray) -> np.ndarray:
    """The last ``FINAL_TRIALS`` trials (at most half the run) of a ``(runs, trials)`` array."""
    return per_trial[:, -min(FINAL_TRIALS, per_trial.shape[1] // 2):]


def final_accuracy(correct: np.ndarray) -> np.ndarray:
    """Per run, the fraction of correct trials among the last ``FINAL_TRIALS`` (at most half the run)."""
    return _final_trials(correct).mean(axis=1)


def summarise(arrays: dict) -> dict:
    """Per condition: final accuracy (mean over the last trials), runs at ≥ 95 %, final cost, the
    share of wrong final trials that were late answers and, for random feedback, failures with
    one-sign feedback (:func:`one_sign_feedback`)."""
    summary = {}
    for name in CONDITIONS:
        correct = arrays[f"correct_{name}"]
        final = final_accuracy(correct)
        wrong = ~_final_trials(correct)
        cost = arrays[f"cost_{name}"]
        summary[name] = {
            "runs": int(correct.shape[0]),
            "final_accuracy_mean": float(final.mean()),
            "final_accuracy_min": float(final.min()),
            "runs_at_least_95pct": int(np.sum(final >= 0.95)),
            "final_cost_mean": float(cost[:, -20:].mean()),
            "final_wrong_trials_late": float(_final_trials(arrays[f"late_{name}"])[wrong].sum() / max(wrong.sum(), 1)),
        }
        if f"B_{name}" in arrays:
            one_sign = one_sign_feedback(arrays[f"B_{name}"])
            summary[name]["runs_one_sign_feedback"] = int(one_sign.sum())
            summary[name]["below_95pct_with_one_sign_feedback"] = int(np.sum(one_sign & (final < 0.95)))
    return summary


def accuracy_curves(correct: np.ndarray, block: int = 100) -> np.ndarray:
    """Fraction of correct trials per block of ``block`` trials ``(n_runs, n_blocks)``."""
    n = correct.shape[1] // block * block
    return correct[:, :n].reshape(correct.shape[0], -1, block).mean(axis=2)


def figure(result: ExperimentResult):
    """The paper's Fig 5: activity at the end (b, the random-feedback run with the best final accuracy)
    and accuracy curves per condition (c-f; the regularised runs' mean in green on the random panel)."""
    from ..plotting import fig5_figure

    final = final_accuracy(result.arrays["correct_random"])
    best = int(np.argmax(final))
    return fig5_figure(result.arrays, Params.from_dict(result.config["params"]), list(CONDITIONS), accuracy_curves,
                       run_index=best, run_accuracy=float(final[best]))

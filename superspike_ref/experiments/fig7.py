"""Paper Fig 7: feedback types, hidden-layer size and ablations on the Fig 6 task (paper §4.2; docs/paper.md §"Fig 7").

Task, initialisation and schedule as in :mod:`~superspike_ref.experiments.fig678` (1001 s, rate
×0.1 from 400 s and ×0.01 from 800 s, two cycles of burn-in). Conditions:

* ``symmetric``, ``random``, ``uniform`` feedback (B ~ N(0, 1), B ≡ 1);
* ``random_reg``: random feedback with the heterosynaptic regulariser on the hidden weights,
  ρ = 0.05 in SPEC units (the original code's ρ = 1), a = 4, τ_het = 100 ms;
* ``fixed_hidden``: only the output weights learn (hidden weights stay at their initial values);
* ``symm_linear``: symmetric feedback with σ′ ≡ 1 in the whole rule (β = 0 makes the fast
  sigmoid's derivative 1 everywhere), the paper's "Symm. linear";
* ``no_hidden``: 100 → 100.

The hidden-size sweep runs symmetric, random, random + regulariser and uniform feedback for
every ``n_h`` in ``hidden_sizes``; the ablations run at the largest size (256, the paper's
Fig 7c-g). Run ``i`` at a given ``n_h`` starts from the same weights in every condition
(``default_rng([seed, n_h, i])``; random feedback draws B after them).

The paper reports: symmetric ≤ no hidden < random + regulariser < random; uniform worst;
wider hidden layers help; random feedback drives hidden rates abnormally high and the
regulariser lowers them; "symmetric linear" degrades the output pattern.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..network import Network
from ..params import Params
from .common import ExperimentResult, experiment_config, experiment_size, run_cycle_jobs, save_result
from .fig678 import final, make_task, schedule

__all__ = ["run", "figure", "CONDITIONS", "SWEEP", "FULL", "QUICK", "RHO_REGULARISER"]

RHO_REGULARISER = 0.05
"""ρ of the regularised condition in SPEC units (the original code's ρ = 1, SPEC §5)."""
CONDITIONS = {
    "symmetric": {"feedback": "symmetric"},
    "random": {"feedback": "random"},
    "random_reg": {"feedback": "random", "rho": RHO_REGULARISER},
    "uniform": {"feedback": "uniform"},
    "fixed_hidden": {"feedback": "symmetric", "plastic": (False, True)},
    "symm_linear": {"feedback": "symmetric", "beta_per_V": 0.0},
    "no_hidden": {"feedback": "symmetric", "hidden": False},
}
"""Condition name → feedback and the changes from the defaults (``rho``, ``beta_per_V``, ``plastic``, ``hidden``)."""
SWEEP = ("symmetric", "random", "random_reg", "uniform")
"""Conditions run at every hidden size; the others only at the largest."""
FULL = {"seeds": 1, "n_in": 100, "n_rows": 100, "n_cols": 70, "hidden_sizes": [8, 16, 32, 64, 128, 256],
        "cycles": 286, "cycles_per_chunk": 5, "burn_in_cycles": 2, "drops_s": [400.0, 800.0]}
QUICK = {"seeds": 1, "n_in": 40, "n_rows": 30, "n_cols": 20, "hidden_sizes": [8, 16], "cycles": 6,
         "cycles_per_chunk": 3, "burn_in_cycles": 1, "drops_s": [3.0, 5.0]}


def job_name(condition: str, n_hidden: int) -> str:
    """``"<condition>_h<n_hidden>"`` (``"no_hidden"`` alone)."""
    return condition if condition == "no_hidden" else f"{condition}_h{n_hidden}"


def make_networks(condition: str, n_hidden: int, n_runs: int, task, size: dict, seed: int, base: Params) -> list:
    """The ``n_runs`` networks of one condition and hidden size."""
    spec = dict(CONDITIONS[condition])
    hidden = spec.pop("hidden", True)
    feedback, plastic = spec.pop("feedback"), spec.pop("plastic", None)
    params = base.replace(**spec)
    layers = (task.n_in, n_hidden, task.n_out) if hidden else (task.n_in, task.n_out)
    t_burn_s = size["burn_in_cycles"] * task.n_cycle * base.dt_s
    return [Network.create(layers, np.random.default_rng([seed, n_hidden, i]), params, feedback=feedback,
                           schedule=schedule(size), t_burn_s=t_burn_s, plastic=plastic)
            for i in range(n_runs)]


def run(quick: bool = False, seeds: int | None = None, cycles: int | None = None, out=None, resume: bool = False,
        engine: str = "fast", seed: int = 6, progress: bool = True) -> ExperimentResult:
    """Run Fig 7 (``quick``: 40 → {8, 16} → 30, 6 cycles of 1 s) and save ``fig7.npz`` in ``out`` if given."""
    size = experiment_size(FULL, QUICK, quick, seeds=seeds, cycles=cycles)
    base = Params()
    config = experiment_config("fig7", size, seed, engine, base)
    task, image = make_task(size, seed, base)
    sizes, largest = size["hidden_sizes"], max(size["hidden_sizes"])
    pairs = [(c, n) for n in sizes for c in SWEEP] + [(c, largest) for c in CONDITIONS if c not in SWEEP]
    jobs = {job_name(c, n): make_networks(c, n, size["seeds"], task, size, seed, base) for c, n in pairs}
    curves = run_cycle_jobs(jobs, task, size["cycles"], size["cycles_per_chunk"], config, engine=engine, out=out,
                            resume=resume, progress=progress, desc="fig7")
    arrays = {
        "cycle_end_s": (np.arange(size["cycles"]) + 1) * task.n_cycle * base.dt_s,
        "hidden_sizes": np.array(sizes),
        "image": image,
        "target": task.target,
        **{f"{key}_{name}": v for name, job in curves.items() for key, v in job.items()},
        **{f"B_{name}": np.stack([net.feedback_matrices[0] for net in nets])
           for name, nets in jobs.items() if nets[0].feedback_matrices},
    }
    result = ExperimentResult("fig7", arrays, summarise(arrays, sizes), config)
    if out is not None:
        save_result(result, Path(out) / "fig7.npz")
    return result


def summarise(arrays: dict, sizes) -> dict:
    """Final cost (vr_distance, auryn_mse) and rates per condition at the largest size; final cost per size."""
    largest = max(sizes)
    summary = {}
    for condition in CONDITIONS:
        name = job_name(condition, largest)
        summary[name] = {"final_vr_distance": final(arrays, "vr", name),
                         "final_auryn_mse": final(arrays, "mse", name),
                         "final_hidden_rate_Hz": final(arrays, "hidden_rate", name),
                         "final_output_rate_Hz": final(arrays, "output_rate", name)}
    for condition in SWEEP:
        summary[f"{condition}_vs_n_hidden"] = {str(n): final(arrays, "vr", job_name(condition, n)) for n in sizes}
    summary["target_spikes_per_cycle"] = int(arrays["target"].sum())
    return summary


def figure(result: ExperimentResult):
    """The paper's Fig 7: learning curves per condition, final cost vs n_h, n_h = 256 snapshots."""
    from ..plotting import fig7_figure

    arrays, config = result.arrays, result.config
    sizes = [int(n) for n in arrays["hidden_sizes"]]
    largest_jobs = {c: job_name(c, max(sizes)) for c in CONDITIONS}
    final_vr = {c: [final(arrays, "vr", job_name(c, n)) for n in sizes] for c in SWEEP}
    return fig7_figure(arrays, Params.from_dict(config["params"]), largest_jobs, final_vr,
                       final(arrays, "vr", job_name("no_hidden", max(sizes))),
                       t_learn_s=config["burn_in_cycles"] * arrays["cycle_end_s"][0], drops_s=config["drops_s"])

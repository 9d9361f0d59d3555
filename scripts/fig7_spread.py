"""Spread between runs for chosen Fig 7 jobs: the full task with more initial weights per job.

``python -m superspike_ref reproduce fig7`` runs one network per condition and size. This script
reruns some jobs with ``--runs`` networks each (run 0 is the stored one, the others start from
``default_rng([seed, n_h, i])``, i = 1, 2, ...), and prints the final ``vr_distance`` of every run.

    .venv/bin/python scripts/fig7_spread.py --jobs symmetric:32 no_hidden [--runs 4]
"""
from __future__ import annotations

import argparse

import numpy as np

from superspike_ref.experiments import fig7
from superspike_ref.experiments.common import experiment_config, run_cycle_jobs
from superspike_ref.experiments.fig678 import FINAL_CYCLES, make_task
from superspike_ref.params import Params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", nargs="+", default=["symmetric:32", "no_hidden"],
                        help="condition:n_h pairs (no_hidden alone)")
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    size, base = fig7.FULL, Params()
    task, _ = make_task(size, args.seed, base)
    jobs = {}
    for spec in args.jobs:
        condition, _, n_hidden = spec.partition(":")
        n_hidden = int(n_hidden or max(size["hidden_sizes"]))
        jobs[fig7.job_name(condition, n_hidden)] = fig7.make_networks(condition, n_hidden, args.runs, task, size,
                                                                      args.seed, base)
    config = experiment_config("fig7_spread", size, args.seed, "fast", base)
    curves = run_cycle_jobs(jobs, task, size["cycles"], size["cycles_per_chunk"], config, desc="fig7 spread")
    for name, job in curves.items():
        final = job["vr"][:, -FINAL_CYCLES:].mean(axis=1)
        print(f"{name}: final vr_distance per run {np.round(final, 2).tolist()}, "
              f"mean {final.mean():.2f} ± {final.std(ddof=1):.2f} (sd)")


if __name__ == "__main__":
    main()

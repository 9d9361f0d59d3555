"""Fig 5's random + regulariser condition with the original code's error gate (``Params.e_gate``), and variants.

Same task, seeds and initial weights as ``python -m superspike_ref reproduce fig5`` (20 runs ×
5000 trials); prints the final accuracy (last 500 trials) per run, their mean and how many runs
reach 95 %. Compare with the stored result's ``random_reg`` (no gate) and ``random`` rows.

    .venv/bin/python scripts/fig5_regulariser_gate.py [--gate 5e-6] [--rho 0.05] [--trials 5000]

``--gate 0 --rho 0`` is plain random feedback, ``--feedback symmetric`` symmetric feedback (with ``--trials 10000``:
do they reach 95 % with longer training?). Another ``--trials`` draws another trial sequence from the same seed.

The original code's gate is 1e-7 in its own error units, 1e-7 τ_rise/dt = 5e-6 here (SPEC §5).
"""
from __future__ import annotations

import argparse

import numpy as np

from superspike_ref.experiments import fig5
from superspike_ref.experiments.common import batch_engine
from superspike_ref.network import Network
from superspike_ref.params import Params
from superspike_ref.xor import make_xor_task, xor_trial_outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gate", type=float, default=1e-7 * Params().tau_rise_s / Params().dt_s)
    parser.add_argument("--rho", type=float, default=fig5.RHO_REGULARISER, help="regulariser strength (SPEC units)")
    parser.add_argument("--trials", type=int, default=fig5.FULL["trials"])
    parser.add_argument("--feedback", default="random", choices=["random", "symmetric", "uniform"])
    args = parser.parse_args()
    seed, size = 5, {**fig5.FULL, "trials": args.trials}       # fig5.run's defaults
    base = Params()
    task = make_xor_task(np.random.default_rng(seed), size["trials"], base)
    params = base.replace(rho=args.rho, e_gate=args.gate)
    networks = [Network.create((task.n_in, fig5.N_HIDDEN, task.n_out), np.random.default_rng([seed, i]), params,
                               feedback=args.feedback) for i in range(size["seeds"])]
    engine = batch_engine(networks, task)
    per_chunk = size["trials_per_chunk"]
    bounds = [0] + [int(task.onset_steps[k]) for k in range(per_chunk, size["trials"], per_chunk)] + [task.n_steps]
    outcomes = []
    for n0, n1 in zip(bounds[:-1], bounds[1:]):
        results = engine.run(n1 - n0, record=("S",))
        outcomes.append(np.stack([xor_trial_outcomes(task, r.traces["S_2"], n0) for r in results]))
    final = np.concatenate(outcomes, axis=1)[:, -fig5.FINAL_TRIALS:].mean(axis=1)
    print(f"{args.feedback} feedback, rho {args.rho:g}, e_gate {args.gate:g}, {args.trials} trials: final accuracy per run {np.round(final, 2).tolist()}")
    print(f"mean {final.mean():.3f}, runs >= 95 %: {int(np.sum(final >= 0.95))} of {final.size}")


if __name__ == "__main__":
    main()

"""Fig 5 (spiking XOR) variants: one condition, 20 runs, with one task or learning choice changed.

Same seed, networks and (unless a task option changes it) trial sequence as
``python -m superspike_ref reproduce fig5``. Prints per run the final accuracy (last 500 trials),
whether its random feedback has one sign for some output (``fig5.one_sign_feedback``), and its
wrong final trials by kind: misses (the correct neuron silent in the window), of them late answers
(``xor_late_responses``), and false alarms (the other neuron spiked in the window), and the output
spikes outside every window during the final trials; then the mean and how many runs reach 95 %.

    .venv/bin/python scripts/fig5_variants.py [--feedback random] [--rho 0] [--gate 0] [--trials 5000]
        [--background-hz 4] [--no-background-in-stimulus] [--set-sizes 34 33 33] [--iti-s 0.1 0.2]
        [--r0 1e-3] [--hidden 4] [--train-window-ms 25] [--outside-penalty 1]

Each run takes about 2-3 min (5000 trials) on one core. The original code's error gate is 1e-7 in
its own error units, 1e-7 τ_rise/dt = 5e-6 here (SPEC §5); ``--rho 0.05`` is its ρ = 1.
"""
from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from superspike_ref.experiments import fig5
from superspike_ref.experiments.common import batch_engine
from superspike_ref.network import Network
from superspike_ref.params import Params, whole_steps
from superspike_ref.xor import make_xor_task, xor_late_responses, xor_window_responses


class OutsidePenalty:
    """``task`` with every error impulse outside the windows (the ``-1`` of a spike between trials)
    scaled by ``penalty``; everything else delegated to ``task``."""

    def __init__(self, task, penalty: float) -> None:
        self.task, self.penalty = task, penalty

    def __getattr__(self, name):
        return getattr(self.task, name)

    def error_impulses(self, n0: int, output: np.ndarray, state: bool):
        impulses, state = self.task.error_impulses(n0, output, state)
        steps = np.arange(n0, n0 + output.shape[0])
        trial = np.searchsorted(self.task.onset_steps, steps, side="right") - 1
        inside = (trial >= 0) & (steps < self.task.onset_steps[np.maximum(trial, 0)] + self.task.window_steps)
        impulses[~inside] *= self.penalty
        return impulses, state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feedback", default="random", choices=["random", "symmetric", "uniform"])
    parser.add_argument("--rho", type=float, default=0.0, help="regulariser strength (SPEC units)")
    parser.add_argument("--gate", type=float, default=0.0, help="Params.e_gate (0: SPEC exact)")
    parser.add_argument("--trials", type=int, default=fig5.FULL["trials"])
    parser.add_argument("--background-hz", type=float, default=4.0)
    parser.add_argument("--no-background-in-stimulus", action="store_true")
    parser.add_argument("--set-sizes", type=int, nargs=3, default=(34, 33, 33), metavar=("T", "A", "B"))
    parser.add_argument("--r0", type=float, default=Params().r0)
    parser.add_argument("--iti-s", type=float, nargs=2, default=(0.1, 0.2), metavar=("LOW", "HIGH"),
                        help="inter-trial interval range (s)")
    parser.add_argument("--hidden", type=int, default=fig5.N_HIDDEN)
    parser.add_argument("--train-window-ms", type=float, default=None,
                        help="window of opportunity of the error (scoring keeps the 25 ms window)")
    parser.add_argument("--outside-penalty", type=float, default=1.0,
                        help="size of the negative error of a spike outside every window (SPEC: 1)")
    args = parser.parse_args()
    seed, runs = 5, fig5.FULL["seeds"]                                       # fig5.run's defaults
    base = Params()
    task = make_xor_task(np.random.default_rng(seed), args.trials, base, set_sizes=tuple(args.set_sizes),
                         background_Hz=args.background_hz, background_in_stimulus=not args.no_background_in_stimulus,
                         iti_s=tuple(args.iti_s))
    scored = task
    if args.train_window_ms is not None:
        task = dataclasses.replace(task, window_steps=whole_steps(args.train_window_ms * 1e-3, base.dt_s, "window"))
    if args.outside_penalty != 1.0:
        task = OutsidePenalty(task, args.outside_penalty)
    params = base.replace(rho=args.rho, e_gate=args.gate, r0=args.r0)
    networks = [Network.create((task.n_in, args.hidden, task.n_out), np.random.default_rng([seed, i]), params,
                               feedback=args.feedback) for i in range(runs)]
    engine = batch_engine(networks, task)
    bounds = fig5.chunk_bounds(task, fig5.FULL["trials_per_chunk"], scored.n_steps)
    fired, late, outside = [], [], np.zeros(runs, dtype=int)
    n_final = min(fig5.FINAL_TRIALS, args.trials)
    final_from = int(scored.onset_steps[-n_final])
    for n0, n1 in zip(bounds[:-1], bounds[1:]):
        results = engine.run(n1 - n0, record=("S",))
        if n1 > final_from:                        # output spikes outside every window, during the final trials
            counted = np.arange(n0, n1) >= final_from
            for onset in scored.onset_steps[(scored.onset_steps >= n0) & (scored.onset_steps < n1)]:
                counted[onset - n0: onset - n0 + scored.window_steps] = False
            outside += [int(r.traces["S_2"][counted].sum()) for r in results]
        fired.append(np.stack([xor_window_responses(scored, r.traces["S_2"], n0) for r in results]))
        late.append(np.stack([xor_late_responses(scored, r.traces["S_2"], n0) for r in results]))
    fired = np.concatenate(fired, axis=1)[:, -n_final:]          # (runs, trials, 2)
    late = np.concatenate(late, axis=1)[:, -n_final:]
    labels = scored.labels[-n_final:]
    trials = np.arange(labels.size)
    miss, false_alarm = ~fired[:, trials, labels], fired[:, trials, 1 - labels]
    correct = ~miss & ~false_alarm
    final = correct.mean(axis=1)
    one_sign = (fig5.one_sign_feedback(np.stack([net.feedback_matrices[0] for net in networks]))
                if args.feedback == "random" else np.zeros(runs, bool))
    print(" ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()))
    print("run  final accuracy  one-sign feedback  wrong trials  misses (late)  false alarms  spikes outside windows")
    for i in range(runs):
        print(f"{i:3d}  {final[i]:14.3f}  {'yes' if one_sign[i] else 'no':>17s}  {np.sum(~correct[i]):12d}  "
              f"{miss[i].sum():6d} ({late[i].sum():3d})  {false_alarm[i].sum():12d}  {outside[i]:22d}")
    print(f"mean {final.mean():.3f}, runs >= 95 %: {int(np.sum(final >= 0.95))} of {runs}; without one-sign feedback: "
          f"mean {final[~one_sign].mean():.3f}, {int(np.sum(final[~one_sign] >= 0.95))} of {int(np.sum(~one_sign))} >= 95 %")
    good = final >= 0.9
    if good.any():
        print(f"runs >= 90 %: {miss[good].sum()} misses ({late[good].sum()} late) and {false_alarm[good].sum()} false "
              f"alarms in {np.sum(~correct[good])} wrong final trials; {outside[good].sum()} spikes outside windows")


if __name__ == "__main__":
    main()

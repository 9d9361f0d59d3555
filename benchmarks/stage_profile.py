"""Where the fast engine's time goes, stage by stage, in two checkouts measured in one run (not a test).

Usage::

    git worktree add /tmp/before <commit>
    python benchmarks/stage_profile.py /tmp/before .             # ~1 min on 2 cores
    python benchmarks/stage_profile.py . --config 200-256-200    # one checkout only

Every measurement is one subprocess with ``PYTHONPATH`` set to the checkout measured and
``OPENBLAS_NUM_THREADS=1``. It wraps the stage functions that ``superspike_ref.fast.engine``
calls (and, inside the forward pass, the drive and the LIF layer) with timers, runs the
configuration of ``bench_engines.py`` (default ``active-200-256-200``, a learning network),
and reports CPU seconds per simulated second for each stage. The checkouts alternate, and
each stage shows the fastest of the repeats. The timers add a few microseconds per call.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).with_name("bench_engines.py")
# (label, module, attribute): the stages as the engine calls them; indented labels are part of the stage above
STAGES = (
    ("forward pass", "superspike_ref.fast.engine", "forward"),
    ("  drive W A", "superspike_ref.fast.forward", "_drive"),
    ("  LIF: current and membrane filter, spike scan", "superspike_ref.fast.forward", "lif"),
    ("surrogate derivative", "superspike_ref.fast.engine", "surrogate_grad"),
    ("output error", "superspike_ref.fast.engine", "output_error"),
    ("learning signals (adjoint, feedback)", "superspike_ref.fast.engine", "learning_signals"),
    ("accumulation of m, eligibility state", "superspike_ref.fast.engine", "accumulate"),
    ("regulariser", "superspike_ref.fast.engine", "regularise"),
    ("presynaptic traces", "superspike_ref.fast.engine", "advance_traces"),
    ("learning curves", "superspike_ref.fast.engine", "segment_curves"),
    ("recorded traces", "superspike_ref.fast.engine", "segment_traces"),
)


def _timed(fn, totals: dict, label: str):
    def wrapper(*args, **kwargs):
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[label] = totals.get(label, 0.0) + time.process_time() - start
    return wrapper


def worker(config: str, sim_s: float) -> dict:
    """CPU seconds per simulated second of every stage, and of the whole run, in this checkout."""
    import importlib

    sys.path.insert(0, str(BENCH.parent))
    import bench_engines

    totals: dict = {}
    for label, module, name in STAGES:
        mod = importlib.import_module(module)
        if hasattr(mod, name):
            setattr(mod, name, _timed(getattr(mod, name), totals, label))
    from superspike_ref.fast.engine import BatchFastEngine

    BatchFastEngine._update = _timed(BatchFastEngine._update, totals, "weight update")
    whole = bench_engines.worker(config, "fast", sim_s, None)
    per_sim_s = {label: seconds / whole["sim_s"] for label, seconds in totals.items()}
    per_sim_s["whole run"] = whole["cpu_s"] / whole["sim_s"]
    return per_sim_s


def measure(tree: Path, config: str, sim_s: float) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, __file__, "--worker", config, str(sim_s)], env=env, cwd=tree,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trees", type=Path, nargs="*", help="one or two checkouts (before, after)")
    parser.add_argument("--config", default="active-200-256-200", help="configuration of bench_engines.py")
    parser.add_argument("--sim-s", type=float, default=2.0, help="simulated seconds per measurement (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per checkout (default 3)")
    parser.add_argument("--worker", nargs=2, metavar=("CONFIG", "SIM_S"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], float(args.worker[1]))))
        return
    if not 1 <= len(args.trees) <= 2:
        parser.error("give one or two checkouts")
    for tree in args.trees:
        if not (tree / "superspike_ref" / "__init__.py").is_file():
            parser.error(f"{tree}: not a superspike_ref checkout (no superspike_ref/__init__.py)")
    best = [{} for _ in args.trees]
    for _ in range(args.repeats):
        for i, tree in enumerate(args.trees):
            for label, value in measure(tree, args.config, args.sim_s).items():
                best[i][label] = min(best[i].get(label, float("inf")), value)
    names = [str(t.resolve()) for t in args.trees]
    print(f"# {args.config}, {args.sim_s:g} s simulated, CPU s per simulated second, fastest of {args.repeats}; "
          f"{' vs '.join(names)}; load average {os.getloadavg()[0]:.2f}")
    head = ["stage"] + (["before", "after", "after/before"] if len(best) == 2 else ["cpu s/sim-s"])
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for label in [s[0] for s in STAGES] + ["weight update", "whole run"]:
        values = [b.get(label) for b in best]
        if all(v is None for v in values):
            continue
        cells = ["" if v is None else f"{v:.4f}" for v in values]
        if len(values) == 2 and None not in values and values[0] > 0:
            cells.append(f"{values[1] / values[0]:.2f}")
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

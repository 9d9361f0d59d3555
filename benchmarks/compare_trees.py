"""Before/after timing of the engines in two checkouts, measured in one run (not a test).

Usage::

    git worktree add /tmp/before <commit>
    python benchmarks/compare_trees.py /tmp/before .            # ~5 min on 2 cores
    python benchmarks/compare_trees.py /tmp/before . --repeats 1 --scale 0.25   # ~1 min

Every measurement is one ``bench_engines.py --worker`` subprocess of *this* checkout's
benchmark script with ``PYTHONPATH`` set to the checkout measured (so both trees are timed by
the same code), ``OPENBLAS_NUM_THREADS=1``. The two trees alternate, configuration by
configuration and repeat by repeat, so that a change in the machine's load hits both alike;
the table shows the fastest of the repeats (wall and CPU seconds per simulated second) and
the ratio after/before.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).with_name("bench_engines.py")
CASES = (("200-256-200", "fast", 2.0), ("100-256-100", "fast", 2.0), ("fig2-100-1-x20", "fast", 100.0),
         ("active-200-256-200", "fast", 2.0), ("200-256-200", "literal", 0.1))


def measure(tree: Path, config: str, engine: str, sim_s: float) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, str(BENCH), "--worker", config, engine, str(sim_s)], env=env, cwd=tree,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", type=Path, help="checkout measured first (e.g. a git worktree of an older commit)")
    parser.add_argument("after", type=Path, help="checkout measured second")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per tree and case (default 3)")
    parser.add_argument("--scale", type=float, default=1.0, help="factor on the simulated stretches (default 1)")
    args = parser.parse_args()
    for tree in (args.before, args.after):
        if not (tree / "superspike_ref" / "__init__.py").is_file():
            parser.error(f"{tree}: not a superspike_ref checkout (no superspike_ref/__init__.py)")
    print(f"# before {args.before.resolve()}, after {args.after.resolve()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}, fastest of {args.repeats}")
    print("| configuration | engine | before wall/sim-s | after wall/sim-s | after/before (wall) "
          "| before cpu/sim-s | after cpu/sim-s | after/before (cpu) |")
    print("|---|---|---|---|---|---|---|---|")
    for config, engine, sim_s in CASES:
        best = {}
        for _ in range(args.repeats):
            for label, tree in (("before", args.before), ("after", args.after)):
                r = measure(tree, config, engine, sim_s * args.scale)
                wall, cpu = r["wall_s"] / r["sim_s"], r["cpu_s"] / r["sim_s"]
                old = best.get(label, (float("inf"), float("inf")))
                best[label] = (min(old[0], wall), min(old[1], cpu))
        (bw, bc), (aw, ac) = best["before"], best["after"]
        print(f"| {config} | {engine} | {bw:.3f} | {aw:.3f} | {aw / bw:.2f} | {bc:.3f} | {ac:.3f} | {ac / bc:.2f} |")


if __name__ == "__main__":
    main()

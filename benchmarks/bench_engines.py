"""Wall time and peak memory of the literal and the fast engine (not a test).

Usage::

    python benchmarks/bench_engines.py            # full: ~1-2 min on 2 cores
    python benchmarks/bench_engines.py --quick    # ~10-20 s, shorter stretches, extrapolated
    python benchmarks/bench_engines.py --blas-threads 0   # keep the environment's BLAS threads
    python benchmarks/bench_engines.py --json bench.json  # also every measurement as JSON

Configurations: 200-256-200 and 100-256-100 with default initial weights (the hidden layer
barely fires), ``active-200-256-200`` (weights drawn with ``w0_V = 0.2`` so that the hidden
layer fires at 10-30 Hz, a 20 Hz target: a learning network; the table reports the rates it
measured) and Fig 2's 100→1 with 20 networks batched.

Every row is measured twice: with ``OPENBLAS_NUM_THREADS`` set (``--blas-threads``, default 1)
and in the caller's environment ("default env"), which is what a user gets. The engines limit
their BLAS threads themselves (``threadpoolctl``, :class:`superspike_ref.recording.RunShell`),
so the two columns should agree.

Every measurement runs in its own subprocess, so that the peak resident memory
(``ru_maxrss``) belongs to that configuration alone. Times are wall-clock seconds per
simulated second (``dt = 0.1 ms``, 10 000 steps per simulated second) after a short warm-up;
CPU seconds are shown too, because a shared machine inflates wall time. The literal engine
is measured on a shorter stretch and normalised per simulated second (its cost per step is
constant); "20 × literal" is one literal network measured and multiplied by 20 (the
networks are independent), as the table says.

BLAS threads: by default the measuring processes run with ``OPENBLAS_NUM_THREADS=1`` (both
engines). On a 2-core machine whose other core is busy, every OpenBLAS call above its
threading threshold (a gemv of more than ~10^4 elements, a gemm of more than 64^3
multiply-adds) waits for a time slice of the busy core, 10-25 ms per call, which swamps both
engines; the matrices here are too small to gain from a second thread anyway.
``--blas-threads 0`` keeps the environment's setting.

Targets (issue P2, 2 cores, float64): 200→256→200 at ≤ 0.3 s per simulated second and
≥ 15× faster than literal; Fig 2 (100→1), 20 networks batched, 400 s simulated in ≤ 60 s;
peak memory < 2 GB and constant in run length.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

CONFIGS = {
    "200-256-200": dict(layers=(200, 256, 200), networks=1),
    "100-256-100": dict(layers=(100, 256, 100), networks=1),
    "fig2-100-1-x20": dict(layers=(100, 1), networks=20),
    # a learning network: weights drawn so that the hidden layer fires at 10-30 Hz, a 20 Hz target
    "active-200-256-200": dict(layers=(200, 256, 200), networks=1, w0_V=0.2, target_Hz=20.0, record=("S",)),
}


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(config: str, engine: str, sim_s: float, n_networks: int | None) -> dict:
    """Build one configuration, warm up, time ``sim_s`` simulated seconds; return the numbers."""
    import numpy as np

    from superspike_ref import CyclicTask, LiteralEngine, Network, Params
    from superspike_ref.fast import BatchFastEngine
    from superspike_ref.tasks import frozen_poisson, paper_target_times_s, timed_target

    spec = CONFIGS[config]
    layers = spec["layers"]
    B = spec["networks"] if n_networks is None else n_networks
    p = Params()
    rng = np.random.default_rng(2018)
    cycle_s = 0.5
    inputs = frozen_poisson(rng, layers[0], 5.0, cycle_s, p.dt_s)
    if layers[-1] == 1:
        target = timed_target(paper_target_times_s(), cycle_s, p.dt_s)
    else:
        target = frozen_poisson(rng, layers[-1], spec.get("target_Hz", 5.0), cycle_s, p.dt_s)
    task = CyclicTask(inputs, target)
    networks = [Network.create(layers, rng, p, feedback="symmetric", w0_V=spec.get("w0_V", 0.05)) for _ in range(B)]
    if engine == "literal":
        runner = LiteralEngine(networks[0], task)
        run = runner.run
    else:
        runner = BatchFastEngine(networks, task)
        run = runner.run
    run(200)  # warm-up (caches, first allocations)
    rss_before = _rss_mb()
    n_steps = int(round(sim_s / p.dt_s))
    t0, c0 = time.perf_counter(), time.process_time()
    out = run(n_steps, record=spec.get("record", ()))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rates = {}
    if "S" in spec.get("record", ()):
        traces = (out if isinstance(out, list) else [out])[0].traces
        rates = {"hidden_Hz": float(traces["S_1"].mean() / p.dt_s), "output_Hz": float(traces[f"S_{len(layers) - 1}"].mean() / p.dt_s)}
    return dict(config=config, engine=engine, networks=B, sim_s=n_steps * p.dt_s, wall_s=wall, cpu_s=cpu,
                rss_before_mb=rss_before, peak_rss_mb=peak, **rates)


def measure(config: str, engine: str, sim_s: float, blas_threads, n_networks=None) -> dict:
    env = dict(os.environ)
    if blas_threads is not None:
        env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(blas_threads)
    cmd = [sys.executable, __file__, "--worker", config, engine, str(sim_s)]
    if n_networks is not None:
        cmd += ["--networks", str(n_networks)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _measure_all(quick: bool, blas_threads) -> list:
    """Every row of the table: ``(config, engine, result, result in the default environment, reference, note)``."""
    fast_s, literal_s = (1.0, 0.05) if quick else (4.0, 0.2)
    fig2_fast_s, fig2_literal_s = (20.0, 0.5) if quick else (400.0, 2.0)
    rows = []
    for config in ("200-256-200", "100-256-100", "active-200-256-200"):
        # a learning network's rates change as it learns: both engines simulate the same stretch
        same = config.startswith("active")
        fast = [measure(config, "fast", fast_s, threads) for threads in (blas_threads, None)]
        lit = [measure(config, "literal", fast_s if same else literal_s, threads) for threads in (blas_threads, None)]
        rows.append((config, "fast", *fast, None, ""))
        rows.append((config, "literal", *lit, fast, "the same stretch" if same else "measured on a shorter stretch"))
    fig2 = [measure("fig2-100-1-x20", "fast", fig2_fast_s, threads) for threads in (blas_threads, None)]
    fig2_lit = []
    for threads in (blas_threads, None):
        one = measure("fig2-100-1-x20", "literal", fig2_literal_s, threads, n_networks=1)
        fig2_lit.append(dict(one, wall_s=20 * one["wall_s"], cpu_s=20 * one["cpu_s"], networks=20))
    rows.append(("fig2-100-1-x20", "fast (batched)", *fig2, None, ""))
    rows.append(("fig2-100-1-x20", "20 x literal", *fig2_lit, fig2, "one network measured, x20"))
    short = measure("200-256-200", "fast", fast_s / 4, blas_threads)
    rows.append(("200-256-200", "fast", short, None, None, "memory vs run length"))
    return rows


def _print_table(rows: list) -> None:
    header = ("configuration", "engine", "sim s", "wall/sim-s", "cpu/sim-s", "wall/sim-s default env", "speed-up",
              "speed-up default env", "peak RSS MB", "note")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for config, engine, r, r_env, fast_ref, note in rows:
        per, cpu = r["wall_s"] / r["sim_s"], r["cpu_s"] / r["sim_s"]
        per_env = "" if r_env is None else f"{r_env['wall_s'] / r_env['sim_s']:.3f}"
        ratios = ["", ""]
        if fast_ref:
            for i, (mine, ref) in enumerate(((r, fast_ref[0]), (r_env, fast_ref[1]))):
                ratios[i] = f"fast {mine['wall_s'] / mine['sim_s'] / (ref['wall_s'] / ref['sim_s']):.1f}x faster"
        if "hidden_Hz" in r:
            note = f"{note}; hidden {r['hidden_Hz']:.1f} Hz, output {r['output_Hz']:.1f} Hz".lstrip("; ")
        print(f"| {config} | {engine} | {r['sim_s']:g} | {per:.3f} | {cpu:.3f} | {per_env} | {ratios[0]} | {ratios[1]} | "
              f"{r['peak_rss_mb']:.0f} | {note} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter stretches (extrapolated)")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="OPENBLAS_NUM_THREADS of the measuring subprocesses (default 1; 0: inherit)")
    parser.add_argument("--json", metavar="PATH", help="also write every measurement to PATH as JSON")
    parser.add_argument("--worker", nargs=3, metavar=("CONFIG", "ENGINE", "SIM_S"), help=argparse.SUPPRESS)
    parser.add_argument("--networks", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        config, engine, sim_s = args.worker
        print(json.dumps(worker(config, engine, float(sim_s), args.networks)))
        return
    blas_threads = None if args.blas_threads == 0 else args.blas_threads
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default") if blas_threads is None else blas_threads
    print(f"# superspike_ref engines, {os.cpu_count()} CPUs, OPENBLAS_NUM_THREADS={threads} "
          f"('default env': the caller's environment), load average {os.getloadavg()[0]:.2f}, "
          f"{'--quick' if args.quick else 'full'}")
    rows = _measure_all(args.quick, blas_threads)
    _print_table(rows)
    fig2, short, first = rows[-3][2], rows[-1][2], rows[0][2]
    fig2_400 = fig2["wall_s"] / fig2["sim_s"] * 400
    print(f"\nFig 2 (100->1, 20 networks batched): 400 s simulated take {fig2_400:.1f} s wall"
          f"{' (extrapolated from ' + format(fig2['sim_s'], 'g') + ' s)' if fig2['sim_s'] < 400 else ''}; target <= 60 s.")
    print(f"Peak RSS of the fast 200-256-200 engine: {short['peak_rss_mb']:.0f} MB after {short['sim_s']:g} s, "
          f"{first['peak_rss_mb']:.0f} MB after {first['sim_s']:g} s (constant in run length).")
    if args.json:
        keys = ("config", "engine", "result", "result_default_env", "fast_reference", "note")
        with open(args.json, "w") as f:
            json.dump([dict(zip(keys, row)) for row in rows], f, indent=1)


if __name__ == "__main__":
    main()

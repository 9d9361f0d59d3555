"""Command line: ``python -m superspike_ref {demo,run-case,validate,reproduce} ...``."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from .conventions import CONVENTIONS


def _experiment_names():
    from .experiments import EXPERIMENTS

    return EXPERIMENTS


def _demo(args) -> int:
    from .demo import run_demo

    start = time.perf_counter()
    result = run_demo(duration_s=args.duration, seed=args.seed, engine=args.engine, progress=not args.no_progress,
                      out=args.out)
    final = result.vr_distance[-1]
    print(f"final vr_distance {final:.3f} (start {result.vr_distance[0]:.3f}); wall time {time.perf_counter() - start:.1f} s")
    return 0


def _run_case(args) -> int:
    from .validation import run_case

    traces = run_case(args.case_dir, engine=args.engine, progress=not args.no_progress)
    np.savez_compressed(args.out, **traces)
    print(f"wrote {len(traces)} traces to {args.out}")
    return 0


def _validate(args) -> int:
    from .validation import validate

    report = validate(args.candidate, args.against, convention=args.convention, skip=args.skip or ())
    print(report.to_json() if args.json else report.format_table())
    return 0 if report.ok else 1


def _reproduce(args) -> int:
    from .experiments import EXPERIMENTS

    module = EXPERIMENTS[args.figure]
    out = Path(args.out) / args.figure
    start = time.perf_counter()
    result = module.run(quick=args.quick, seeds=args.seeds, out=out, resume=args.resume, engine=args.engine,
                        progress=not args.no_progress)
    fig = module.figure(result)
    fig.savefig(out / f"{args.figure}.png", dpi=120)
    print(f"{args.figure}: results and figure in {out.resolve()} (wall time {time.perf_counter() - start:.1f} s)")
    _print_summary(result.summary)
    return 0


def _print_summary(summary: dict, indent: str = "  ") -> None:
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        if isinstance(value, dict):
            print(f"{indent}{key}:")
            _print_summary(value, indent + "  ")
        else:
            print(f"{indent}{key:<{width}}  {value:.4g}" if isinstance(value, float) else f"{indent}{key:<{width}}  {value}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m superspike_ref", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train one neuron on the paper's Fig 2 task and draw the result")
    demo.add_argument("--duration", type=float, default=400.0, help="simulated training time in s (default 400)")
    demo.add_argument("--seed", type=int, default=None, help="seed of the task and the initial weights")
    demo.add_argument("--engine", default="fast", choices=["fast", "literal"],
                      help="fast (default) or literal, the step-by-step reference; both give the same numbers")
    demo.add_argument("--out", default="superspike_demo.png", help="figure file (default superspike_demo.png)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")
    demo.set_defaults(func=_demo)
    case = sub.add_parser("run-case", help="run a reference case (SPEC §9) and write its traces")
    case.add_argument("case_dir", help="directory with case.json and arrays.npz")
    case.add_argument("--out", required=True, help="output .npz of traces")
    case.add_argument("--engine", default="literal", choices=["literal", "fast"],
                      help="literal (default) or fast (cannot record lambda and m)")
    case.add_argument("--no-progress", action="store_true", help="no progress bar")
    case.set_defaults(func=_run_case)
    val = sub.add_parser("validate", help="compare your implementation's traces with the reference, stage by stage",
                         description="Run the reference on a case and compare a candidate's traces (SPEC §9). "
                                     "Exit status 0 if every key passes, 1 if one fails, 2 for usage or format errors.")
    val.add_argument("candidate", help="your traces: a .npz with SPEC §9 keys, or a directory of <key>.csv files")
    val.add_argument("--against", required=True, metavar="CASE_DIR",
                     help="a case directory (case.json + arrays.npz) or a golden-vector directory (golden.json)")
    val.add_argument("--json", action="store_true", help="print a machine-readable JSON report")
    val.add_argument("--convention", default="paper", choices=CONVENTIONS,
                     help="scale convention of the candidate's numbers (default paper); converted before comparing")
    val.add_argument("--skip", nargs="+", metavar="NAME",
                     help="trace names or keys not to compare (e.g. --skip lambda m for an engine without them)")
    val.set_defaults(func=_validate)
    rep = sub.add_parser("reproduce", help="run a paper figure's experiment, save results and figure")
    rep.add_argument("figure", choices=sorted(_experiment_names()), help="which figure")
    rep.add_argument("--quick", action="store_true", help="small version (as in the notebooks and tests)")
    rep.add_argument("--seeds", type=int, default=None, help="number of runs per condition (default: the paper's 20)")
    rep.add_argument("--out", default="results", help="output folder (default ./results)")
    rep.add_argument("--resume", action="store_true", help="continue from the checkpoint in the output folder")
    rep.add_argument("--engine", default="fast", choices=["fast", "literal"], help="engine (default fast)")
    rep.add_argument("--no-progress", action="store_true", help="no progress bar")
    rep.set_defaults(func=_reproduce)
    args = parser.parse_args(argv)
    if getattr(args, "seed", 0) is None:
        from .demo import DEMO_SEED

        args.seed = DEMO_SEED
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

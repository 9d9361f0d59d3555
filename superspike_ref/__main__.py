"""Command line: ``python -m superspike_ref {demo,run-case,validate,reproduce} ...``.

Exit status 0 on success, 1 when ``validate`` finds a key out of tolerance, 2 for a user
error (bad file, bad field, too large a run, unwritable output: one line on stderr naming the
file and the field; a JSON object ``{"error": ...}`` on stdout under ``--json``), 130 when
interrupted with Ctrl-C (a checkpoint written so far stays intact). ``--debug`` shows the
traceback instead of the one line.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

from .conventions import CONVENTIONS

USER_ERRORS = (ValueError, TypeError, OSError, EOFError, zipfile.BadZipFile, MemoryError, ArithmeticError)
"""What the library raises for bad input or a run that cannot be done; the CLI reports them in one line."""

QUICK_OUT = "results-quick"
"""Default output folder of ``reproduce --quick`` (the committed ``results/`` hold full-scale runs only)."""


def _demo(args) -> int:
    from .demo import run_demo

    start = time.perf_counter()
    result = run_demo(duration_s=args.duration, seed=args.seed, engine=args.engine, progress=not args.no_progress,
                      out=args.out)
    final = result.vr_distance[-1]
    print(f"final vr_distance {final:.3f} (start {result.vr_distance[0]:.3f}); wall time {time.perf_counter() - start:.1f} s")
    return 0


def _check_recording_fits(case_dir, extra_record, max_memory) -> None:
    """Refuse a case whose recording needs more memory than ``max_memory`` (default: what the machine has)."""
    from .cases import load_case
    from .memory import check_memory
    from .network import recording_bytes

    case = load_case(case_dir)
    record = tuple(case.record) + tuple(r for r in extra_record if r not in case.record)
    check_memory(recording_bytes(case.network.layers, case.n_steps, record, n_batch=case.network.params.n_batch),
                 f"{Path(case_dir) / 'case.json'}: field 'n_steps' ({case.n_steps} steps)", limit_bytes=max_memory)


def _run_case(args) -> int:
    from .cases import run_case
    from .checkpoint import atomic_write

    out = Path(args.out)
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; name the .npz file to write")
    _check_recording_fits(args.case_dir, (), args.max_memory)
    traces = run_case(args.case_dir, engine=args.engine, progress=not args.no_progress)
    atomic_write(out, lambda f: np.savez_compressed(f, **traces))
    print(f"wrote {len(traces)} traces to {out}")
    return 0


def _option_number(option: str, text: str | None) -> float | None:
    """The number an option was given (None if it was not); ``ValueError`` naming the option otherwise."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{option} must be a finite number >= 0, got {text!r}") from None


def _validate(args) -> int:
    from .precision import check_tolerance_args
    from .validation import validate

    tier = (args.precision, _option_number("--rtol", args.rtol), _option_number("--atol-scale", args.atol_scale))
    check_tolerance_args(*tier, cli=True)
    if (Path(args.against) / "case.json").is_file():
        _check_recording_fits(args.against, ("W",), args.max_memory)
    report = validate(args.candidate, args.against, convention=args.convention, skip=args.skip or (),
                      precision=tier[0], rtol=tier[1], atol_scale=tier[2])
    print(report.to_json() if args.json else report.format_table())
    return 0 if report.ok else 1


def _parallel_options(args, module) -> dict:
    """``workers``/``scheduler`` for a figure that runs as jobs; ValueError for one that does not."""
    from .experiments import EXPERIMENTS
    from .experiments.jobs import supports_jobs

    if args.workers is None and args.scheduler is None:
        return {}
    if not supports_jobs(module):
        able = ", ".join(name for name, m in EXPERIMENTS.items() if supports_jobs(m))
        raise ValueError(f"{args.figure} does not run as separate jobs yet; run it without --workers/--scheduler "
                         f"(figures that do: {able})")
    return {"workers": args.workers, "scheduler": args.scheduler}


def _clear_earlier(args, out: Path) -> None:
    """Refuse to overwrite an earlier result or checkpoint of the figure, or delete them under ``--force``."""
    import shutil

    from .experiments.common import CHECKPOINT_NAME, PICKLE_CHECKPOINT_NAME
    from .experiments.jobs import JOBS_FOLDER

    earlier = [p for p in (out / f"{args.figure}.npz", out / CHECKPOINT_NAME, out / PICKLE_CHECKPOINT_NAME,
                           out / JOBS_FOLDER) if p.exists()]
    if earlier and args.force:
        for path in earlier:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    elif earlier and not args.resume:
        raise ValueError(f"{earlier[0]} exists: continue that run with --resume, overwrite it with --force, "
                         "or choose another --out")


def _reproduce(args) -> int:
    from .experiments import EXPERIMENTS

    module = EXPERIMENTS[args.figure]
    parallel = _parallel_options(args, module)
    root = Path(args.out if args.out is not None else QUICK_OUT if args.quick else "results")
    if root.exists() and not root.is_dir():
        raise ValueError(f"--out {root} is a file, not a folder")
    out = root / args.figure
    _clear_earlier(args, out)
    start = time.perf_counter()
    result = module.run(quick=args.quick, seeds=args.seeds, out=out, resume=args.resume, engine=args.engine,
                        progress=not args.no_progress, **parallel)
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


def _memory_size(text: str) -> int:
    """``--max-memory`` values: bytes, or a number with K, M, G or T (powers of 1024)."""
    units = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    scale = units.get(text[-1:].upper(), 1)
    try:
        value = float(text[:-1] if scale > 1 else text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size such as 512M or 4G, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive size, got {text!r}")
    return int(value * scale)


def _add_validate(sub, parents) -> None:
    """The ``validate`` command and its options (SPEC §9; the precision tiers of :mod:`superspike_ref.precision`)."""
    val = sub.add_parser("validate", parents=parents,
                         help="compare your implementation's traces with the reference, stage by stage",
                         description="Run the reference on a case and compare a candidate's traces (SPEC §9). "
                                     "Exit status 0 if every key passes, 1 if one fails, 2 for usage or format errors.")
    val.add_argument("candidate", help="your traces: a .npz with SPEC §9 keys, or a directory of <key>.csv files")
    val.add_argument("--against", required=True, metavar="CASE_DIR",
                     help="a case directory (case.json + arrays.npz) or a golden-vector directory (golden.json)")
    val.add_argument("--json", action="store_true", help="print a machine-readable JSON report")
    val.add_argument("--convention", default="paper", choices=CONVENTIONS,
                     help="scale convention of the candidate's numbers (default paper); converted before comparing")
    val.add_argument("--skip", nargs="+", metavar="NAME",
                     help="trace names or keys not to compare (e.g. --skip lambda m for an engine without them); "
                          "unknown names, or skipping every key, are errors")
    val.add_argument("--precision", default="float64", metavar="{float64,float32}",
                     help="precision tier: float64 (default, SPEC §9: rtol 1e-9, atol_scale 1e-10 for every key) or "
                          "float32 (a tolerance per key from the float32 error model, docs/validation.md); "
                          "spikes must match exactly in both")
    val.add_argument("--rtol", default=None, metavar="X",
                     help="override the tier's relative tolerance for every key (a number >= 0)")
    val.add_argument("--atol-scale", default=None, metavar="X",
                     help="override the tier's absolute tolerance, as a fraction of max|expected| of each key, "
                          "for every key (a number >= 0)")
    val.set_defaults(func=_validate)


def _parser() -> argparse.ArgumentParser:
    from .experiments import EXPERIMENTS

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show the traceback of an error")
    parser = argparse.ArgumentParser(prog="python -m superspike_ref", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", parents=[common], help="train one neuron on the paper's Fig 2 task and draw the result")
    demo.add_argument("--duration", type=float, default=400.0, help="simulated training time in s (default 400)")
    demo.add_argument("--seed", type=int, default=None, help="seed of the task and the initial weights")
    demo.add_argument("--engine", default="fast", choices=["fast", "literal"],
                      help="fast (default) or literal, the step-by-step reference; both give the same numbers")
    demo.add_argument("--out", default="superspike_demo.png", help="figure file (default superspike_demo.png)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")
    demo.set_defaults(func=_demo)
    memory = argparse.ArgumentParser(add_help=False)
    memory.add_argument("--max-memory", type=_memory_size, default=None, metavar="SIZE",
                        help="refuse a case whose recording needs more (e.g. 4G; default: the memory available)")
    case = sub.add_parser("run-case", parents=[common, memory], help="run a reference case (SPEC §9) and write its traces")
    case.add_argument("case_dir", help="directory with case.json and arrays.npz")
    case.add_argument("--out", required=True, help="the .npz file of traces to write (exactly this name)")
    case.add_argument("--engine", default="literal", choices=["literal", "fast"],
                      help="literal (default) or fast (cannot record lambda and m)")
    case.add_argument("--no-progress", action="store_true", help="no progress bar")
    case.set_defaults(func=_run_case)
    _add_validate(sub, [common, memory])
    rep = sub.add_parser("reproduce", parents=[common], help="run a paper figure's experiment, save results and figure")
    rep.add_argument("figure", choices=sorted(EXPERIMENTS), help="which figure")
    rep.add_argument("--quick", action="store_true", help="small version (as in the notebooks and tests)")
    rep.add_argument("--seeds", type=int, default=None, help="number of runs per condition (default: the paper's 20)")
    rep.add_argument("--out", default=None,
                     help=f"output folder (default ./results, or ./{QUICK_OUT} with --quick); "
                          "results go to OUT/FIGURE/")
    again = rep.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue from the checkpoint in the output folder")
    again.add_argument("--force", action="store_true", help="overwrite an earlier result and checkpoint of this figure")
    rep.add_argument("--engine", default="fast", choices=["fast", "literal"], help="engine (default fast)")
    rep.add_argument("--no-progress", action="store_true", help="no progress bar")
    where = rep.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="run the figure's independent jobs in N local processes (fig5, fig7, fig8, picture; docs/cluster.md)")
    where.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help="submit the figure's jobs to this dask.distributed scheduler (pip install -e .[cluster])")
    rep.set_defaults(func=_reproduce)
    return parser


def _is_user_error(exc: Exception) -> bool:
    """One of :data:`USER_ERRORS`, a worker process that died, or a job's error (which names the job) caused by one."""
    if isinstance(exc, USER_ERRORS):
        return True
    from .experiments.jobs import JobError, WorkerDied

    return isinstance(exc, WorkerDied) or (isinstance(exc, JobError) and (exc.__cause__ is None or
                                                                          isinstance(exc.__cause__, USER_ERRORS)))


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if getattr(args, "seed", 0) is None:
        from .demo import DEMO_SEED

        args.seed = DEMO_SEED
    try:
        return args.func(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        where = "; the last checkpoint is intact, continue with --resume" if args.command == "reproduce" else ""
        print(f"interrupted{where}", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug or not _is_user_error(exc):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        if getattr(args, "json", False):
            print(json.dumps({"ok": False, "error": message, "exit_status": 2}))
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""Command line of superspike_ref: ``python -m superspike_ref {demo,run-case,make-case,validate,conformance,reproduce}``
(``--help`` after a command describes it).

Exit status 0 on success, 1 when ``validate`` finds a key out of tolerance (``conformance``: a
case fails, or none ran), 3 when ``validate --capabilities`` finds the case unsupported, 2 for
a user error (bad file, bad field, too large a run, unwritable output, a broken adapter: one
line on stderr naming the file and the field or the option; a JSON object ``{"error": ...}`` on
stdout under ``--json``), 130 when interrupted with Ctrl-C (a checkpoint written so far stays
intact). ``--debug`` shows the traceback instead of the one line.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

from .cli_options import build_parser, plain_text  # noqa: F401  (plain_text: tests import it from here)

USER_ERRORS = (ValueError, TypeError, OSError, EOFError, zipfile.BadZipFile, MemoryError, ArithmeticError)
"""What the library raises for bad input or a run that cannot be done; the CLI reports them in one line."""

QUICK_OUT = "results-quick"
"""Default output folder of ``reproduce --quick`` (the committed ``results/`` hold full-scale runs only)."""


def _demo(args) -> int:
    from .demo import DEMO_OUT, run_demo

    start = time.perf_counter()
    result = run_demo(duration_s=args.duration, seed=args.seed, engine=args.engine, progress=not args.no_progress,
                      out=DEMO_OUT if args.out is None else args.out)
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
    traces = run_case(args.case_dir, engine=args.engine, progress=not args.no_progress,
                      variants=args.variant or ())
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
    from .capabilities import load_capabilities
    from .conformance import validate_declared
    from .precision import check_tolerance_args
    from .validation import validate

    caps = load_capabilities(args.capabilities) if args.capabilities else None
    tier = (args.precision or (caps.precision if caps else "float64"), _option_number("--rtol", args.rtol),
            _option_number("--atol-scale", args.atol_scale))
    check_tolerance_args(*tier, cli=True)
    if (Path(args.against) / "case.json").is_file():
        _check_recording_fits(args.against, ("W",), args.max_memory)
    if caps is not None and (args.convention or args.variant):
        raise ValueError("with --capabilities the declaration gives the convention and the variants; "
                         "drop --convention and --variant")
    options = dict(skip=args.skip or (), precision=tier[0], rtol=tier[1], atol_scale=tier[2], local=args.local)
    report = (validate_declared(args.candidate, args.against, caps, **options) if caps is not None else
              validate(args.candidate, args.against, convention=args.convention or "paper",
                       variants=args.variant or (), **options))
    print(report.to_json() if args.json else report.format_table())
    return {"pass": 0, "fail": 1, "unsupported": 3}[report.verdict]


def _conformance(args) -> int:
    from .capabilities import load_capabilities
    from .checkpoint import atomic_write
    from .conformance import load_adapter, run_conformance
    from .precision import check_tolerance_args

    if args.precision is not None:
        check_tolerance_args(args.precision, None, None, cli=True)
    caps = load_capabilities(args.capabilities) if args.capabilities else None
    if args.out is not None and Path(args.out).is_dir():
        raise ValueError(f"--out {args.out} is a folder; name the .json file to write")
    report = run_conformance(load_adapter(args.adapter), capabilities=caps, cases=args.cases,
                             precision=args.precision, local=args.local, name=args.adapter)
    if args.out is not None:
        atomic_write(Path(args.out), lambda f: f.write(report.to_json().encode("utf-8")))
    print(report.to_json() if args.json else report.format_table())
    return 0 if report.ok else 1


def _make_case(args) -> int:
    from .make_case import make_case

    params = dict(_parameter(text) for text in args.param or ())
    params.update({name: value for name, value in (("rho", args.rho), ("e_gate", args.e_gate),
                                                   ("delay_s", args.delay_s)) if value is not None})
    out = make_case(args.out, args.layers, args.steps, feedback=args.feedback, seed=args.seed, record=args.record,
                    params=params, optimizer=args.optimizer, force=args.force, max_memory=args.max_memory,
                    task=args.task, rate_Hz=args.rate_hz, target_rate_Hz=args.target_rate_hz, w0_V=args.w0)
    print(f"wrote {out / 'case.json'}, arrays.npz and expected.npz (layers {args.layers}, {args.steps} steps)")
    return 0


def _parameter(text: str) -> tuple:
    """``--param NAME=VALUE`` as ``(NAME, float)``; ``ValueError`` naming the option otherwise."""
    name, _, value = text.partition("=")
    try:
        return name, float(value)
    except ValueError:
        raise ValueError(f"--param must be NAME=NUMBER (a SPEC §1 parameter), got {text!r}") from None


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


def _reproduce(args) -> int:
    from .experiments import EXPERIMENTS
    from .experiments.reproduce import clear_earlier, reproduce_all, reproduce_figure

    root = Path(args.out if args.out is not None else QUICK_OUT if args.quick else "results")
    if root.exists() and not root.is_dir():
        raise ValueError(f"--out {root} is a file, not a folder")
    options = {"quick": args.quick, "seeds": args.seeds, "engine": args.engine, "progress": not args.no_progress}
    if args.figure == "all":
        reproduce_all(root, shlex.join(["python", "-m", "superspike_ref", *args.argv]), force=args.force, resume=args.resume,
                      workers=args.workers, scheduler=args.scheduler, **options)
        return 0
    parallel = _parallel_options(args, EXPERIMENTS[args.figure])
    clear_earlier(args.figure, root / args.figure, args.force, args.resume)
    reproduce_figure(args.figure, root / args.figure, resume=args.resume, **options, **parallel)
    return 0


def _parser() -> argparse.ArgumentParser:
    """The command line's parser, with what each command does (:mod:`superspike_ref.cli_options`)."""
    handlers = {"demo": _demo, "run-case": _run_case, "make-case": _make_case, "validate": _validate,
                "conformance": _conformance, "reproduce": _reproduce}
    return build_parser(handlers, __doc__, QUICK_OUT)


def _is_user_error(exc: Exception) -> bool:
    """One of :data:`USER_ERRORS`, a worker process that died, or a job's error (which names the job) caused by one."""
    if isinstance(exc, USER_ERRORS):
        return True
    from .experiments.jobs import JobError, WorkerDied

    return isinstance(exc, WorkerDied) or (isinstance(exc, JobError) and (exc.__cause__ is None or
                                                                          isinstance(exc.__cause__, USER_ERRORS)))


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
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

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
import re
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np

from .conventions import CONVENTIONS

USER_ERRORS = (ValueError, TypeError, OSError, EOFError, zipfile.BadZipFile, MemoryError, ArithmeticError)
"""What the library raises for bad input or a run that cannot be done; the CLI reports them in one line."""

QUICK_OUT = "results-quick"
"""Default output folder of ``reproduce --quick`` (the committed ``results/`` hold full-scale runs only)."""


_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")       # :mod:`~superspike_ref.precision` -> superspike_ref.precision
_LITERAL = re.compile(r"``([^`]+)``")              # ``--json`` -> --json


def plain_text(text: str) -> str:
    """``text`` (a docstring written in reST) without its markup, for ``--help``: literals lose their
    double backticks and roles such as :mod:`name` become the bare name."""
    return _LITERAL.sub(r"\1", _ROLE.sub(r"\1", text))


class _WholePaths(argparse.HelpFormatter):
    """Wraps help lines between words only, so that a path such as results-quick/x.png stays whole."""

    def _split_lines(self, text, width):
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


class _PlainParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose help and usage are plain text (:func:`plain_text`); its subcommands'
    parsers are of the same class, so every ``--help`` is."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _WholePaths)
        super().__init__(*args, **kwargs)

    def format_help(self) -> str:
        return plain_text(super().format_help())

    def format_usage(self) -> str:
        return plain_text(super().format_usage())


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


def _reproduce(args) -> int:
    from .experiments import EXPERIMENTS
    from .experiments.common import CHECKPOINT_NAME, PICKLE_CHECKPOINT_NAME

    module = EXPERIMENTS[args.figure]
    root = Path(args.out if args.out is not None else QUICK_OUT if args.quick else "results")
    if root.exists() and not root.is_dir():
        raise ValueError(f"--out {root} is a file, not a folder")
    out = root / args.figure
    earlier = [p for p in (out / f"{args.figure}.npz", out / CHECKPOINT_NAME, out / PICKLE_CHECKPOINT_NAME) if p.exists()]
    if earlier and args.force:
        for path in earlier:
            path.unlink()
    elif earlier and not args.resume:
        raise ValueError(f"{earlier[0]} exists: continue that run with --resume, overwrite it with --force, "
                         "or choose another --out")
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
    val.add_argument("--convention", default=None, choices=CONVENTIONS,
                     help="scale convention of the candidate's numbers (default paper); converted before comparing")
    val.add_argument("--skip", nargs="+", metavar="NAME",
                     help="trace names or keys not to compare (e.g. --skip lambda m for an engine without them); "
                          "unknown names, or skipping every key, are errors")
    val.add_argument("--precision", default=None, metavar="{float64,float32}",
                     help="precision tier: float64 (default, or the --capabilities declaration's; SPEC §9: "
                          "rtol 1e-9, atol_scale 1e-10 for every key) or "
                          "float32 (a tolerance per key from the float32 error model, docs/validation.md); "
                          "spikes must match exactly in both")
    val.add_argument("--rtol", default=None, metavar="X",
                     help="override the tier's relative tolerance for every key (a number >= 0)")
    val.add_argument("--atol-scale", default=None, metavar="X",
                     help="override the tier's absolute tolerance, as a fraction of max|expected| of each key, "
                          "for every key (a number >= 0)")
    val.add_argument("--local", action="store_true", help="stage-local diagnosis: recompute every key from your own "
                     "upstream traces (teacher forcing) and name every failing stage (docs/validation.md)")
    _add_variant_option(val, "run the reference with this SPEC variant the candidate declares (repeatable; "
                             "docs/validation.md, SPEC variants)")
    val.add_argument("--capabilities", metavar="FILE", help="a JSON file declaring what the candidate implements: "
                     "a case needing more is reported unsupported (exit status 3), traces it does not record are "
                     "skipped (docs/validation.md, Capabilities)")
    val.set_defaults(func=_validate)


def _add_conformance(sub, parents) -> None:
    """The ``conformance`` command (:mod:`superspike_ref.conformance`)."""
    conf = sub.add_parser("conformance", parents=parents,
                          help="run your simulate(case) function on every case and validate each",
                          description="Import your adapter function, call it on every SPEC §9 case it supports "
                                      "and validate its traces; one report for all cases. Exit status 0 if at "
                                      "least one case ran and every case that ran passed, 1 otherwise, 2 for "
                                      "usage errors and for an adapter that fails to load, raises or returns "
                                      "no dict of arrays.")
    conf.add_argument("--adapter", required=True, metavar="MODULE:FUNCTION",
                      help="your function, e.g. mypackage.module:simulate (imported and run: your own code)")
    conf.add_argument("--cases", nargs="+", metavar="DIR",
                      help="case folders or folders of cases (default: the repository's tests/data/cases)")
    conf.add_argument("--capabilities", metavar="FILE",
                      help="a JSON declaration of what the adapter implements (default: its capabilities attribute)")
    conf.add_argument("--precision", default=None, metavar="{float64,float32}",
                      help="precision tier (default: the declaration's, else float64)")
    conf.add_argument("--local", action="store_true", help="stage-local diagnosis of every case")
    conf.add_argument("--json", action="store_true", help="print the JSON report")
    conf.add_argument("--out", default=None, metavar="FILE", help="also write the JSON report to FILE")
    conf.set_defaults(func=_conformance)


def _add_variant_option(command, text: str) -> None:
    """The repeatable ``--variant NAME`` option (:mod:`superspike_ref.variants`); names are checked by the library."""
    from .variants import VARIANTS

    command.add_argument("--variant", action="append", metavar="NAME", help=f"{text}: {', '.join(VARIANTS)}")


def _add_make_case(sub, parents) -> None:
    """The ``make-case`` command (:mod:`superspike_ref.make_case`)."""
    from .feedback import FEEDBACK_KINDS
    from .make_case import CASE_TASKS
    from .optimizers import OPTIMIZERS

    make = sub.add_parser("make-case", parents=parents, help="write a case of any size and its expected traces",
                          description="Draw a SPEC §9 case (case.json, arrays.npz) for a network of any size and "
                                      "write the reference's traces of it (expected.npz).")
    make.add_argument("--layers", type=int, nargs="+", required=True, metavar="N",
                      help="layer sizes, input first (e.g. 200 256 200)")
    make.add_argument("--steps", type=int, required=True, help="time steps of the case")
    make.add_argument("--out", required=True, help="folder to write (refused if it holds a case, unless --force)")
    make.add_argument("--feedback", default="symmetric", choices=FEEDBACK_KINDS, help="default symmetric")
    make.add_argument("--optimizer", default="rmaxprop", choices=OPTIMIZERS, help="default rmaxprop")
    make.add_argument("--task", default="poisson", choices=CASE_TASKS,
                      help="poisson (frozen Poisson input and target, default) or xor (2 outputs)")
    make.add_argument("--seed", type=int, default=0, help="seed of input, target, weights and feedback (default 0)")
    make.add_argument("--record", nargs="+", default=["S", "U_tilde", "e", "W", "v"], metavar="NAME",
                      help="traces to record (default S U_tilde e W v)")
    make.add_argument("--rate-hz", type=float, default=10.0, help="input (xor: background) rate, default 10 Hz")
    make.add_argument("--target-rate-hz", type=float, default=5.0, help="target rate (poisson), default 5 Hz")
    make.add_argument("--w0", type=float, default=0.05, help="initial weight scale w0_V (default 0.05)")
    for option, name in (("--rho", "rho"), ("--e-gate", "e_gate"), ("--delay-s", "delay_s")):
        make.add_argument(option, type=float, default=None, help=f"parameter {name} (SPEC §1)")
    make.add_argument("--param", action="append", metavar="NAME=VALUE",
                      help="any other SPEC §1 parameter (repeatable)")
    make.add_argument("--force", action="store_true", help="overwrite a case in --out")
    make.set_defaults(func=_make_case)


def _parser() -> argparse.ArgumentParser:
    from .experiments import EXPERIMENTS

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show the traceback of an error")
    parser = _PlainParser(prog="python -m superspike_ref", description=__doc__,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", parents=[common], help="train one neuron on the paper's Fig 2 task and draw the result")
    demo.add_argument("--duration", type=float, default=400.0, help="simulated training time in s (default 400)")
    demo.add_argument("--seed", type=int, default=None, help="seed of the task and the initial weights")
    demo.add_argument("--engine", default="fast", choices=["fast", "literal"],
                      help="fast (default) or literal, the step-by-step reference; both give the same numbers")
    demo.add_argument("--out", default=None,
                      help="figure file (default results-quick/superspike_demo.png, in a folder git ignores)")
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
    _add_variant_option(case, "run with this SPEC variant (repeatable; literal engine only)")
    case.set_defaults(func=_run_case)
    _add_make_case(sub, [common, memory])
    _add_validate(sub, [common, memory])
    _add_conformance(sub, [common])
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
    rep.set_defaults(func=_reproduce)
    return parser


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
    except USER_ERRORS as exc:
        if args.debug:
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        if getattr(args, "json", False):
            print(json.dumps({"ok": False, "error": message, "exit_status": 2}))
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

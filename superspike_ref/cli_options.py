"""The command line's options: a parser whose every ``--help`` is plain text, and the options of each command.

What each command does is in :mod:`superspike_ref.__main__`, which hands its functions to
:func:`build_parser`.
"""
from __future__ import annotations

import argparse
import re
import textwrap

from .conventions import CONVENTIONS

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


def _add_validate(sub, parents, handler) -> None:
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
    val.set_defaults(func=handler)


def _add_conformance(sub, parents, handler) -> None:
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
    conf.set_defaults(func=handler)


def _add_variant_option(command, text: str) -> None:
    """The repeatable ``--variant NAME`` option (:mod:`superspike_ref.variants`); names are checked by the library."""
    from .variants import VARIANTS

    command.add_argument("--variant", action="append", metavar="NAME", help=f"{text}: {', '.join(VARIANTS)}")


def _add_make_case(sub, parents, handler) -> None:
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
    make.set_defaults(func=handler)


def build_parser(handlers: dict, description: str, quick_out: str) -> argparse.ArgumentParser:
    """The parser of ``python -m superspike_ref``; ``handlers`` maps each command to the function that runs it."""
    from .experiments import EXPERIMENTS

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show the traceback of an error")
    parser = _PlainParser(prog="python -m superspike_ref", description=description,
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
    demo.set_defaults(func=handlers["demo"])
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
    case.set_defaults(func=handlers["run-case"])
    _add_make_case(sub, [common, memory], handlers["make-case"])
    _add_validate(sub, [common, memory], handlers["validate"])
    _add_conformance(sub, [common], handlers["conformance"])
    rep = sub.add_parser("reproduce", parents=[common], help="run a paper figure's experiment, save results and figure",
                         description="Run a paper figure's experiment into OUT/FIGURE/ and print its summary; all: "
                                     "every figure in turn, then the paper's claims checked on the results and the "
                                     "run times, in OUT/summary.md and OUT/summary.json.")
    rep.add_argument("figure", choices=[*sorted(EXPERIMENTS), "all"], help="which figure, or all of them")
    rep.add_argument("--quick", action="store_true", help="small version (as in the notebooks and tests)")
    rep.add_argument("--seeds", type=int, default=None, help="number of runs per condition (default: the paper's 20)")
    rep.add_argument("--out", default=None,
                     help=f"output folder (default ./results, or ./{quick_out} with --quick); "
                          "results go to OUT/FIGURE/")
    again = rep.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue from the checkpoint in the output folder "
                       "(all: every figure with a checkpoint or jobs folder; a finished figure is only reloaded)")
    again.add_argument("--force", action="store_true", help="overwrite an earlier result and checkpoint of this figure")
    rep.add_argument("--engine", default="fast", choices=["fast", "literal"], help="engine (default fast)")
    rep.add_argument("--no-progress", action="store_true", help="no progress bar")
    where = rep.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="run the figure's independent jobs in N local processes (fig5, fig7, fig8, picture; all: "
                            "those four, the others in this process; docs/cluster.md)")
    where.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help="submit the figure's jobs to this dask.distributed scheduler (pip install -e .[cluster])")
    rep.set_defaults(func=handlers["reproduce"])
    return parser

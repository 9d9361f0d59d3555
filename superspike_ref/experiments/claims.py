"""The paper's checkable claims, judged on each figure's summary, and the report of ``reproduce all``.

Each :class:`Claim` states a result of the paper (docs/paper.md §"The experiments", the
"Reported" paragraphs) as a test with explicit thresholds, and checks it on the ``summary`` of
the figure's :class:`~superspike_ref.experiments.common.ExperimentResult`. A check returns what
our run gives, as text, and whether the claim holds; a summary from a small (``--quick``) run
gives an answer too, usually that the claim does not hold. :func:`write_report` writes the
table of :func:`evaluate` and the figures' run times to ``summary.md`` and ``summary.json``.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..checkpoint import atomic_write

__all__ = ["Claim", "CLAIMS", "evaluate", "format_claims", "write_report", "ORIGINAL_SYMMETRIC_MSE_1000S",
           "A4_RHO1_WITHIN", "SILENT_BELOW_HZ"]

ORIGINAL_SYMMETRIC_MSE_1000S = 16.4
"""auryn_mse of the original code's picture task with symmetric feedback at 1000 s (docs/paper.md)."""
A4_RHO1_WITHIN = 0.2
"""Fig 8: a = 4, ρ_code = 1 "works well" if its cost is within this fraction of the best cell's."""
SILENT_BELOW_HZ = 1.0
"""Fig 8: a hidden layer whose mean rate is below this has fallen silent."""


@dataclass(frozen=True)
class Claim:
    """One checkable claim of the paper.

    Parameters
    ----------
    figure : str
        The figure's name in :data:`~superspike_ref.experiments.EXPERIMENTS`.
    text : str
        The claim as we test it, thresholds included.
    paper : str
        What the paper reports.
    check : callable
        ``check(summary) -> (ours, holds)``: our numbers as text, and whether the claim holds.
    note : str
        Where a known deviation is documented (empty if none).
    """

    figure: str
    text: str
    paper: str
    check: object
    note: str = ""


def _num(x, unit: str = "") -> str:
    """A number for the table (3 significant digits) and its unit, or "n/a" for None."""
    return "n/a" if x is None else f"{x:.3g}{unit}"


def _fig2_learns(s: dict) -> tuple:
    t = s["median_time_to_learn_s"]
    return (f"{s['runs_learned']}/{s['runs']} runs learned, median {_num(t, ' s')}",
            s["runs_learned"] == s["runs"] and t is not None and t <= 250.0)


def _fig4_failures(s: dict) -> tuple:
    random = {name: e for name, e in s.items() if name.startswith("random")}
    counts = {name: (e["failed_with_all_feedback_negative"], len(e["failed_runs"])) for name, e in random.items()}
    return ("; ".join(f"{name}: {neg} of {n} failures" for name, (neg, n) in counts.items()),
            bool(counts) and all(neg == n for neg, n in counts.values()))


def _fig4_alike(s: dict) -> tuple:
    shares = {name: s[name]["runs_below_1_at_end"] / s[name]["runs"] for name in ("random", "symmetric", "uniform")}
    return ", ".join(f"{name} {share:.0%}" for name, share in shares.items()), min(shares.values()) >= 0.9


def _fig5_random_perfect(s: dict) -> tuple:
    e = s["random"]
    return f"{e['runs_at_least_95pct']}/{e['runs']} runs", e["runs_at_least_95pct"] == e["runs"]


def _fig5_symmetric_learns(s: dict) -> tuple:
    mean = s["symmetric"]["final_accuracy_mean"]
    return f"mean accuracy {mean:.3f}", mean >= 0.9


def _fig5_no_hidden_fails(s: dict) -> tuple:
    e = s["no_hidden"]
    return (f"{e['runs_at_least_95pct']}/{e['runs']} runs, mean accuracy {e['final_accuracy_mean']:.3f}",
            e["runs_at_least_95pct"] == 0)


def _fig5_uniform_worse(s: dict) -> tuple:
    uniform, random = s["uniform"]["final_accuracy_mean"], s["random"]["final_accuracy_mean"]
    return f"uniform {uniform:.3f}, random {random:.3f}", uniform < random


def _fig6_irregular(s: dict) -> tuple:
    rate, cv = s["hidden_rate_mean_Hz"], s["hidden_cv_isi_median"]
    return (f"mean {rate:.1f} Hz, median CV {_num(cv)}",
            10.0 <= rate <= 20.0 and cv is not None and cv >= 0.5)


def _fig6_not_perfect(s: dict) -> tuple:
    first, last = s["first_cycle_vr_distance"], s["final_vr_distance"]
    return f"first cycle {first:.3g}, final {last:.3g}", 0.0 < last < first


def _fig7_at_largest(s: dict) -> tuple:
    """``(n_h, {condition: final vr_distance})`` at the largest hidden size of a Fig 7 summary."""
    sizes = [int(k.rsplit("_h", 1)[1]) for k in s if k.startswith("symmetric_h")]
    largest = max(sizes)
    costs = {k[:-len(f"_h{largest}")]: e["final_vr_distance"] for k, e in s.items() if k.endswith(f"_h{largest}")}
    return largest, {**costs, "no_hidden": s["no_hidden"]["final_vr_distance"]}


def _fig7_random_worst(s: dict) -> tuple:
    n, c = _fig7_at_largest(s)
    return (f"n_h {n}: random {c['random']:.3g}, symmetric {c['symmetric']:.3g}, no hidden {c['no_hidden']:.3g}",
            c["random"] > c["symmetric"] and c["random"] > c["no_hidden"])


def _fig7_regulariser(s: dict) -> tuple:
    n, c = _fig7_at_largest(s)
    rate = {name: s[f"{name}_h{n}"]["final_hidden_rate_Hz"] for name in ("random", "random_reg")}
    return (f"n_h {n}: rate {_num(rate['random'])} → {_num(rate['random_reg'])} Hz, "
            f"cost {c['random']:.3g} → {c['random_reg']:.3g}",
            None not in rate.values() and rate["random_reg"] < rate["random"]
            and c["random"] > c["random_reg"] > max(c["symmetric"], c["no_hidden"]))


def _fig7_linear(s: dict) -> tuple:
    n, c = _fig7_at_largest(s)
    return f"n_h {n}: symmetric linear {c['symm_linear']:.3g}, symmetric {c['symmetric']:.3g}", \
        c["symm_linear"] > c["symmetric"]


def _fig7_every_width(s: dict) -> tuple:
    random, symmetric = s["random_vs_n_hidden"], s["symmetric_vs_n_hidden"]
    better = [n for n in symmetric if not random[n] > symmetric[n]]
    return (f"random worse at {len(symmetric) - len(better)} of {len(symmetric)} widths", not better)


def _fig7_symmetric_vs_no_hidden(s: dict) -> tuple:
    n, c = _fig7_at_largest(s)
    return f"n_h {n}: symmetric {c['symmetric']:.3g}, no hidden {c['no_hidden']:.3g}", c["symmetric"] <= c["no_hidden"]


def _fig8_grid(s: dict, prefix: str = "vr_rho") -> dict:
    """``{a: {rho_code: value}}`` of a Fig 8 summary (``prefix`` ``vr_rho`` or ``hidden_Hz_rho``)."""
    return {float(a.split("=", 1)[1]): {float(k[len(prefix):]): v for k, v in cells.items() if k.startswith(prefix)}
            for a, cells in s.items()}


def _fig8_a0_worse(s: dict) -> tuple:
    best = {a: min(cells.values()) for a, cells in _fig8_grid(s).items()}
    positive = min(v for a, v in best.items() if a > 0)
    return f"best a = 0: {best[0.0]:.3g}, best a > 0: {positive:.3g}", best[0.0] > positive


def _fig8_a0_silent(s: dict) -> tuple:
    rate = _fig8_grid(s, "hidden_Hz_rho")[0.0].get(100.0)
    if rate is None:
        return "ρ_code = 100 not in the grid", False
    return f"{rate:.3g} Hz", rate < SILENT_BELOW_HZ


def _fig8_a4_rho1(s: dict) -> tuple:
    grid = _fig8_grid(s)
    best = min(v for cells in grid.values() for v in cells.values())
    cost = grid.get(4.0, {}).get(1.0)
    if cost is None:
        return "a = 4, ρ_code = 1 not in the grid", False
    return f"{cost:.3g}, best cell {best:.3g}", cost <= (1.0 + A4_RHO1_WITHIN) * best


def _fig8_upper_edge(s: dict) -> tuple:
    grid = {a: cells for a, cells in _fig8_grid(s).items() if a > 0}
    at_edge = [a for a, cells in grid.items() if not cells[max(cells)] > min(cells.values())]
    largest = max(max(cells) for cells in grid.values())
    if at_edge:
        return f"not seen: best ρ_code is the largest ({largest:g}) for a = {', '.join(f'{a:g}' for a in at_edge)}", False
    return f"seen: the cost rises again by ρ_code = {largest:g} for every a > 0", True


def _picture_symmetric(s: dict) -> tuple:
    mse = s["symmetric"].get("auryn_mse_at_1000s")
    if mse is None:
        return "the run ends before 1000 s", False
    return f"{mse:.3g}", mse <= 1.25 * ORIGINAL_SYMMETRIC_MSE_1000S


def _picture_random(s: dict) -> tuple:
    random, symmetric = s["random"].get("auryn_mse_at_300s"), s["symmetric"].get("auryn_mse_at_300s")
    if random is None or symmetric is None:
        return "the run ends before 300 s", False
    return f"random {random:.3g}, symmetric {symmetric:.3g}", random > symmetric


CLAIMS = (
    Claim("fig2", "every run learns the five spike times, median time to learn ≤ 250 s", "learned after 250 s",
          _fig2_learns),
    Claim("fig4", "random feedback: every failed run has all its feedback weights negative",
          "failures only when all feedback weights are negative", _fig4_failures),
    Claim("fig4", "random, symmetric and uniform feedback each end below cost 1 in ≥ 90 % of runs",
          "the three feedback types perform alike", _fig4_alike),
    Claim("fig5", "random feedback: every run reaches ≥ 95 % accuracy", "random feedback reaches perfect accuracy",
          _fig5_random_perfect, "known deviation: README, the spiking XOR"),
    Claim("fig5", "symmetric feedback: mean final accuracy ≥ 0.9", "symmetric feedback also learns fast",
          _fig5_symmetric_learns),
    Claim("fig5", "no hidden layer: no run reaches 95 % accuracy", "without a hidden layer the task cannot be solved",
          _fig5_no_hidden_fails),
    Claim("fig5", "uniform feedback: lower mean final accuracy than random feedback",
          "uniform feedback is worse on average", _fig5_uniform_worse),
    Claim("fig6", "hidden units: mean rate in [10, 20] Hz and median CV of the ISI ≥ 0.5",
          "irregular hidden activity at 10–20 Hz", _fig6_irregular),
    Claim("fig6", "final cost below the first cycle's and above 0", "learning is not perfect: the cost does not reach 0",
          _fig6_not_perfect),
    Claim("fig7", "largest n_h: random feedback's final cost above symmetric's and above no hidden layer's",
          "random feedback is far worse than symmetric, and worse than no hidden layer", _fig7_random_worst),
    Claim("fig7", "largest n_h: the regulariser lowers random feedback's hidden rate and cost, but its cost stays "
                  "above symmetric's and no hidden layer's",
          "the regulariser lowers the rates and improves the cost, but reaches neither", _fig7_regulariser),
    Claim("fig7", "largest n_h: symmetric linear's final cost above symmetric's", "symmetric linear degrades the output",
          _fig7_linear),
    Claim("fig7", "random feedback's final cost above symmetric's at every hidden width",
          "random is worse than symmetric at every width", _fig7_every_width),
    Claim("fig7", "largest n_h: symmetric feedback's final cost ≤ no hidden layer's",
          "symmetric networks reach at least the level of no hidden layer", _fig7_symmetric_vs_no_hidden),
    Claim("fig8", "the best cost with a = 0 is above the best with a > 0", "a = 0 is always worse", _fig8_a0_worse),
    Claim("fig8", f"a = 0, ρ_code = 100: hidden rate below {SILENT_BELOW_HZ:g} Hz",
          "a = 0 becomes unstable near ρ ≈ 100, the network falls silent", _fig8_a0_silent),
    Claim("fig8", f"a = 4, ρ_code = 1: cost within {A4_RHO1_WITHIN:.0%} of the best cell's", "a = 4, ρ = 1 works well",
          _fig8_a4_rho1),
    Claim("fig8", "every a > 0: the cost at the largest ρ_code is above its best (the good range's upper edge is "
                  "in the grid)", "for a > 0 there is a range of good ρ", _fig8_upper_edge),
    Claim("picture", f"symmetric feedback: auryn_mse at 1000 s ≤ 1.25 × {ORIGINAL_SYMMETRIC_MSE_1000S:g}",
          f"original code: {ORIGINAL_SYMMETRIC_MSE_1000S:g} at 1000 s", _picture_symmetric),
    Claim("picture", "auryn_mse at 300 s: random feedback above symmetric",
          "original code: random 72–83, symmetric 27–33 (160–300 s)", _picture_random),
)
"""The claims, in figure order."""


def evaluate(summaries: dict) -> list:
    """The rows of the claims table for the figures in ``summaries`` (figure name → summary dict).

    Each row is a dict: ``figure``, ``claim``, ``paper``, ``ours``, ``holds`` (bool) and ``note``.
    A summary without a key a check needs (an older result) gives a row saying so, which does not hold.
    """
    rows = []
    for claim in (c for c in CLAIMS if c.figure in summaries):
        try:
            ours, holds = claim.check(summaries[claim.figure])
        except KeyError as missing:
            ours, holds = f"not in this result (no {missing})", False
        rows.append({"figure": claim.figure, "claim": claim.text, "paper": claim.paper, "ours": ours,
                     "holds": bool(holds), "note": claim.note})
    return rows


def _table(header: tuple, rows) -> str:
    """A markdown table (``|`` in a cell escaped)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def format_claims(rows: list) -> str:
    """The claims table in markdown: figure | claim | paper | ours | holds?"""
    return _table(("figure", "claim", "paper", "ours", "holds?"),
                  ((r["figure"], r["claim"], r["paper"], r["ours"] + (f" ({r['note']})" if r["note"] else ""),
                    "yes" if r["holds"] else "no") for r in rows))


def write_report(root, rows: list, timings: dict, command: str) -> dict:
    """Write ``root/summary.json`` and ``root/summary.md``: the claims table, every figure's wall and CPU
    seconds (``timings``: figure → ``{"wall_s", "cpu_s", "resumed"}``, and ``"total"``), the command
    line, the package version and the date. Returns the JSON's content."""
    report = {"command": command, "version": __version__, "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
              "claims": rows, "timings": timings}
    root = Path(root)
    atomic_write(root / "summary.json", lambda f: f.write(json.dumps(report, indent=1, ensure_ascii=False).encode("utf-8")))
    text = "\n\n".join([
        "# Reproduction summary", format_claims(rows),
        _table(("figure", "wall s", "CPU s", "resumed?"),
               ((name, f"{t['wall_s']:.1f}", f"{t['cpu_s']:.1f}", "yes" if t.get("resumed") else "")
                for name, t in timings.items())),
        f"Total wall time {timings['total']['wall_s']:.1f} s. Command: `{command}`; superspike_ref "
        f"{__version__}; {report['date']}. CPU s counts this process and the worker processes it started "
        "(not a dask cluster's workers). A resumed figure continued an earlier, interrupted run: its "
        "times count this invocation only.\n"])
    atomic_write(root / "summary.md", lambda f: f.write(text.encode("utf-8")))
    return report

"""The README's library example runs, learns, and prints what the README says it prints."""
import contextlib
import io
import re
import time
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
LINE = re.compile(r"t = +([\d.]+) s   vr_distance = ([\d.]+)")


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n{heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def _fenced(section: str, language: str) -> str:
    match = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert match, f"no ```{language} block"
    return match.group(1)


@pytest.fixture(scope="module")
def example():
    section = _section(README.read_text(encoding="utf-8"), "## Using the library")
    code, shown = _fenced(section, "python"), _fenced(section, "text")
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})
    return out.getvalue(), shown, time.perf_counter() - start


def test_readme_example_learns_in_under_a_minute(example):
    printed, _, wall_s = example
    costs = [float(v) for _, v in LINE.findall(printed)]
    assert len(costs) == 6, printed
    assert costs[0] == pytest.approx(5.0, abs=0.01)        # silent output: five unmatched spikes
    assert costs[0] / costs[-1] >= 5.0, costs               # the bar: the cost falls at least 5x
    assert costs[-1] < 0.1, costs                           # in fact it nearly vanishes
    assert wall_s < 60.0, f"the README example took {wall_s:.1f} s"


def test_readme_shows_the_output_the_example_prints(example):
    printed, shown, _ = example
    got, expected = printed.strip().splitlines(), shown.strip().splitlines()
    assert len(got) == len(expected), (printed, shown)
    for g, e in zip(got, expected):
        if LINE.match(e):                                   # times equal, costs to the printed digits
            (gt, gv), (et, ev) = LINE.findall(g)[0], LINE.findall(e)[0]
            assert gt == et and float(gv) == pytest.approx(float(ev), abs=0.002), (g, e)
        else:
            assert g == e
    spikes_ms = [float(t) for t in re.findall(r"[\d.]+", got[-1])]
    targets_ms = [83.0, 166.0, 249.0, 332.0, 415.0]
    assert len(spikes_ms) == 5 and max(abs(s - t) for s, t in zip(spikes_ms, targets_ms)) < 2.0

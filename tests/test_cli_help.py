"""Every --help of the command line is plain text: no reST markup from the docstrings it is built from."""
import subprocess
import sys

import pytest

from superspike_ref.__main__ import _parser, plain_text

COMMANDS = ["demo", "run-case", "make-case", "validate", "conformance", "reproduce"]


def test_plain_text_strips_literals_and_roles():
    assert plain_text("run ``validate`` with ``--json``; see :mod:`~superspike_ref.precision` and "
                      ":func:`superspike_ref.validation.validate`.") == (
        "run validate with --json; see superspike_ref.precision and superspike_ref.validation.validate.")
    assert plain_text("a single `tick` and *emphasis* stay") == "a single `tick` and *emphasis* stay"


def test_the_parser_knows_every_command():
    parser = _parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted(COMMANDS)


@pytest.mark.parametrize("command", [[]] + [[c] for c in COMMANDS])
def test_help_is_plain_text(command):
    out = subprocess.run([sys.executable, "-m", "superspike_ref", *command, "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "usage: python -m superspike_ref" in out
    assert "``" not in out and ":mod:" not in out and ":func:" not in out, out
    if not command:
        assert "1 when validate finds a key out of tolerance" in out       # the module docstring, unmarked
    if command == ["demo"]:
        assert "results-quick/superspike_demo.png" in out                  # the default path, not split at "-"
    if command == ["reproduce"]:
        assert "fig8,picture,all}" in out and "OUT/summary.md" in out       # reproduce all and its summary

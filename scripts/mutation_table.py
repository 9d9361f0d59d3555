"""Print the mutation suite's table (docs/validation.md §16) from actually running the kit.

Every mutation of ``tests/mutants.py`` (one realistic misreading of SPEC planted in an independent
NumPy implementation) is run on the suite case and checked globally and with ``--local``:

    PYTHONPATH=. .venv/bin/python scripts/mutation_table.py
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from mutants import mutation_table, write_suite_case  # noqa: E402


def main() -> None:
    """Write the suite case into a temporary folder and print the table."""
    with tempfile.TemporaryDirectory(prefix="mutation_suite_") as tmp:
        print(mutation_table(write_suite_case(tmp)))


if __name__ == "__main__":
    main()

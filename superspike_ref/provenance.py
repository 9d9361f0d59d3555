"""Where a validation report comes from: its schema, the environment, the case's hash and the options.

Every JSON report of the validation kit (:meth:`~superspike_ref.report.Report.to_dict`, and the
conformance report of :mod:`superspike_ref.conformance`) names its schema, :data:`REPORT_SCHEMA`,
a JSON Schema (draft 2020-12) shipped in the package as ``schemas/report-v1.json``
(:func:`report_schema`), and carries a ``provenance`` object: the package, NumPy and Python
versions, the platform and machine (:func:`environment`), the SHA-256 of the case's files
(:func:`case_sha256`) and the options the check ran with.
"""
from __future__ import annotations

import hashlib
import json
import platform
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["REPORT_SCHEMA", "environment", "case_sha256", "run_provenance", "report_schema"]

REPORT_SCHEMA = "superspike_ref/report-v1"
"""The ``schema`` field of every JSON report: its JSON Schema is ``superspike_ref/schemas/report-v1.json``."""


def environment() -> dict:
    """The versions and the platform a report was made with."""
    from . import __version__

    return {"superspike_ref": __version__, "numpy": np.__version__, "python": platform.python_version(),
            "platform": platform.platform(), "machine": platform.machine()}


def case_sha256(case_dir) -> str:
    """SHA-256 over a case's top-level files (``case.json``, ``arrays.npz``, ``expected.npz``, ...).

    The files are taken in the order of their names; each contributes its name, its size and its
    bytes, so that renaming or moving bytes between files changes the hash.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(case_dir).iterdir() if p.is_file()):
        data = path.read_bytes()
        digest.update(f"{path.name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def run_provenance(case_dir, options: dict) -> dict:
    """The ``provenance`` object of a report on ``case_dir``: :func:`environment`, the case's hash, ``options``."""
    return {**environment(), "case_sha256": case_sha256(case_dir), "options": options}


def report_schema() -> dict:
    """The JSON Schema of the reports (:data:`REPORT_SCHEMA`), read from the package's data."""
    return json.loads(resources.files(__package__).joinpath("schemas", "report-v1.json").read_text(encoding="utf-8"))

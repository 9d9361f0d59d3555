"""nbval settings for the notebooks (house style: compare text outputs only).

``pytest --nbval notebooks/`` re-runs every notebook and compares its outputs with the
committed ones. Figures, HTML and widget outputs are not compared: their bytes change
with the matplotlib version and the machine. Text outputs are compared exactly, which is
why the notebooks print numbers with explicit formats. Cells whose output legitimately
varies (timings, rounding-level residuals) carry ``# NBVAL_IGNORE_OUTPUT``.

The kernels that nbval starts always use matplotlib's non-interactive inline backend (Agg
rendering to PNG), whatever ``MPLBACKEND`` says in the calling shell, so that the notebooks
render the same under Jupyter, ``nbconvert --execute`` and nbval. ``tests/test_notebooks.py``
checks that no notebook selects an interactive backend.
"""
from __future__ import annotations

import os

import pytest

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"

SKIP_COMPARE = (
    "image/png",
    "image/jpeg",
    "image/svg+xml",
    "text/html",
    "application/vnd.jupyter.widget-view+json",
    "application/vnd.jupyter.widget-state+json",
)


def _is_notebook(node) -> bool:
    try:
        from nbval.plugin import IPyNbFile
    except ImportError:  # nbval not installed: nothing to configure
        return False
    return isinstance(node, IPyNbFile)


def pytest_collectstart(collector):
    """Extend nbval's list of output types that are not compared."""
    if _is_notebook(collector):
        collector.skip_compare = tuple(collector.skip_compare) + tuple(
            key for key in SKIP_COMPARE if key not in collector.skip_compare
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """Start each notebook's kernel (nbval does it in the setup of its first cell) with the inline backend.

    The kernel inherits the environment; the variable is restored right after the setup, so
    nothing else in the pytest process sees it.
    """
    if not _is_notebook(item.parent):
        yield
        return
    previous = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = INLINE_BACKEND
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = previous

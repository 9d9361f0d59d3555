"""Sphinx configuration of the superspike_ref book (``make book``; needs ``pip install -e ".[docs]"``).

The source folder is the repository root, so that the links the pages already use on GitHub
(``../notebooks/05_three_factor_rule.ipynb`` from ``docs/``, ``../docs/paper.md#the-model`` from
``notebooks/``) work unchanged in the book: no file is copied or renamed. Only ``README.md``,
``docs/*.md`` and ``notebooks/*.ipynb`` are pages (``include_patterns``).

* Notebooks are shown with their committed outputs and never executed (``nb_execution_mode``).
* Equations are typeset by MathJax 3 served from the build (``sphinx-mathjax-offline`` copies it
  into ``_static/mathjax``); no page loads anything from the internet (MyST-NB's ipywidgets
  scripts, which come from a CDN, are switched off; the notebooks hold no widgets).
* The sidebar is in course order. It is a hidden toctree that :func:`add_course_toctree` appends
  to ``docs/index.md`` when Sphinx reads it, so the page stays plain Markdown on GitHub.
* Links to repository folders that are not pages (``../tests/data/cases``) have no target in
  the book; :func:`unlink_repository_folders` shows them as plain text instead of dead links.

The build is ``-W`` clean, without suppressed warnings.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent

project = "superspike_ref"
author = "The superspike_ref developers"
copyright = "the superspike_ref developers, BSD-3-Clause"
release = version = "0.1.0"

extensions = ["myst_nb", "sphinx-mathjax-offline"]

root_doc = "docs/index"
include_patterns = ["README.md", "docs/*.md", "notebooks/*.ipynb"]
exclude_patterns = [".venv", "**/.ipynb_checkpoints", "build", "results", "tests", "superspike_ref",
                    "benchmarks", "scripts"]

# --- MyST and MyST-NB
myst_enable_extensions = ["dollarmath", "amsmath", "html_image"]   # html_image: README's <img> tags
myst_heading_anchors = 4                      # GitHub-style #anchors on headings, as the pages link them
nb_execution_mode = "off"                     # stored outputs only: building never runs a notebook
nb_ipywidgets_js = {}                         # no CDN scripts (the notebooks have no widget outputs)
nb_merge_streams = True                       # one block per cell for consecutive prints

# --- HTML
html_theme = "sphinx_book_theme"
html_title = "superspike_ref"
html_copy_source = False
html_show_sourcelink = False
html_theme_options = {
    "show_toc_level": 2,
    "home_page_in_toc": True,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "navigation_with_keys": False,
}
html_last_updated_fmt = None
html_context = {"default_mode": "auto"}       # light/dark as the reader's system (else a console error)

COURSE = {
    "Start": ["README", "docs/course"],
    "Derivation (in the course's order: 16 right after 07)": [
        "notebooks/01_lif_neuron",
        "notebooks/02_traces_and_kernels",
        "notebooks/03_van_rossum_error",
        "notebooks/04_surrogate_gradient",
        "notebooks/05_three_factor_rule",
        "notebooks/06_learning_rates",
        "notebooks/07_feedback_and_hidden_units",
        "notebooks/16_superspike_vs_true_gradient",
        "notebooks/08_online_vs_adjoint",
    ],
    "Validating an implementation": [
        "notebooks/09_validate_an_implementation",
        "docs/validation",
    ],
    "Figure reports (notebooks 10–15)": [
        "notebooks/10_fig2_single_neuron",
        "notebooks/11_fig4_hidden_units",
        "notebooks/12_fig5_xor",
        "notebooks/13_fig6_fig7_feedback",
        "notebooks/14_fig8_regulariser",
        "notebooks/15_picture_task",
    ],
    "Reference": [
        "docs/paper",
        "docs/glossary",
        "docs/equations",
        "docs/spec",
        "docs/conventions",
        "docs/guarantees",
        "docs/design_choices",
        "docs/fast_engine",
        "docs/cluster",
        "docs/api",
    ],
}
"""The sidebar: caption → documents in course order. Notebook 16 (SuperSpike against the true
gradient) belongs right after notebook 07 in the course; it keeps its file name and comes after 08."""


def add_course_toctree(app, docname: str, source: list[str]) -> None:
    """Append the sidebar's hidden toctrees to the root page's Markdown when Sphinx reads it."""
    if docname != app.config.root_doc:
        return
    here = Path(docname).parent
    blocks = []
    for caption, docs in COURSE.items():
        entries = "\n".join(os.path.relpath(doc, here) for doc in docs)
        blocks.append(f"```{{toctree}}\n:hidden:\n:caption: {caption}\n\n{entries}\n```\n")
    source[0] = source[0].rstrip("\n") + "\n\n" + "\n".join(blocks)


def unlink_repository_folders(app, doctree) -> None:
    """Replace links to repository folders (not pages of the book) by their text."""
    from docutils import nodes
    from sphinx import addnodes

    docdir = (ROOT / app.env.docname).parent if getattr(app.env, "docname", None) else ROOT
    for node in list(doctree.findall(addnodes.pending_xref)):
        target = node.get("reftarget", "")
        if node.get("refdomain") in ("", None) and "://" not in target and not target.startswith("#"):
            path = (docdir / target.split("#")[0]).resolve()
            if target and path.is_dir() and path.is_relative_to(ROOT):
                node.replace_self(nodes.inline("", "", *node.children))


def write_root_redirect(app, exception) -> None:
    """``index.html`` at the top of the build, forwarding to the root page (``docs/index.html``)."""
    if exception is None and app.builder.format == "html":
        target = f"{app.config.root_doc}.html"
        (Path(app.outdir) / "index.html").write_text(
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="refresh" content="0; url={target}">\n'
            f'<title>{project}</title></head>\n'
            f'<body><p><a href="{target}">{project}: the book</a></p></body></html>\n', encoding="utf-8")


def setup(app):
    app.connect("source-read", add_course_toctree)
    app.connect("doctree-read", unlink_repository_folders)
    app.connect("build-finished", write_root_redirect)
    return {"parallel_read_safe": True}

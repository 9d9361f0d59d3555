"""Every relative link in the docs, the README and the notebooks' markdown cells lands inside
the repository, on a file that exists and, for ``file#anchor``, on an anchor that exists.

Anchors of a ``.md`` file are the GitHub/MyST slugs of its headings (lowercase, spaces to
``-``, punctuation other than ``-`` and ``_`` dropped, ``-1``, ``-2``, ... for repeats), its
MyST targets ``(label)=`` and its ``<a id="...">``/``<a name="...">`` tags. Anchors of a
notebook are the same slugs (and Jupyter's own form, the heading with spaces as ``-``) of the
headings in its markdown cells. No text may point outside the repository: the paper digest is
``docs/paper.md``, not a notes file in a shared folder.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

FORBIDDEN = ("../shared", "paper_notes", "paper notes")

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
_DISPLAY_MATH = re.compile(r"\$\$.+?\$\$", re.DOTALL)
_INLINE_MATH = re.compile(r"\$[^$\n]+\$")
_INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+[\"'(][^)]*)?\)")
_REF_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(\S+)", re.MULTILINE)
_HTML_ATTR = re.compile(r"<[a-zA-Z][^>]*?\s(?:src|href)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$", re.MULTILINE)
_MYST_TARGET = re.compile(r"^\s*\(([^()\s]+)\)=\s*$", re.MULTILINE)
_HTML_ID = re.compile(r"<a\s[^>]*?(?:id|name)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def strip_code(text: str) -> str:
    """The text without fenced code blocks and inline code spans (links there are not links)."""
    return _INLINE_CODE.sub(" ", _FENCE.sub("", text))


def strip_math(text: str) -> str:
    """The text without ``$$…$$`` and ``$…$`` (notebooks: ``](s)`` in a formula is no link)."""
    return _INLINE_MATH.sub(" ", _DISPLAY_MATH.sub(" ", text))


def _heading_text(raw: str) -> str:
    """A heading's rendered text: links, images, emphasis and code marks removed."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", raw)
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("`", "").replace("*", "")


def slugify(heading: str) -> str:
    """GitHub's (and MyST's ``myst_heading_anchors``) slug of a heading."""
    text = _heading_text(heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def markdown_anchors(text: str) -> set[str]:
    """Heading slugs (repeats numbered like GitHub's), MyST ``(label)=`` targets and ``<a id>``."""
    body = _FENCE.sub("", text)
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for match in _HEADING.finditer(body):
        slug = slugify(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
        anchors.add(_heading_text(match.group(2)).strip().replace(" ", "-"))   # Jupyter's form
    anchors.update(_MYST_TARGET.findall(body))
    anchors.update(_HTML_ID.findall(body))
    return anchors


def notebook_markdown(path: Path) -> list[str]:
    """The sources of a notebook's markdown cells."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def notebook_sources(path: Path) -> list[str]:
    """The sources of all cells of a notebook (markdown and code)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells]


def anchors_of(path: Path) -> set[str]:
    if path.suffix == ".ipynb":
        return markdown_anchors("\n\n".join(notebook_markdown(path)))
    return markdown_anchors(path.read_text(encoding="utf-8"))


def iter_links(text: str):
    """Link targets in a markdown text: inline links and images, reference definitions, and
    ``src``/``href`` attributes of HTML tags; code spans, code blocks and math are skipped."""
    body = strip_math(strip_code(text))
    for pattern in (_INLINE_LINK, _REF_LINK, _HTML_ATTR):
        for match in pattern.finditer(body):
            yield match.group(1).strip("<>")


def check_text(text: str, source: Path, root: Path) -> list[str]:
    """Problems with the links of one markdown text read from ``source`` (repository ``root``)."""
    problems = []
    for target in iter_links(text):
        if _SCHEME.match(target) or target.startswith("//"):
            continue                                  # http(s), mailto, ...: not checked here
        name = f"{source.relative_to(root)}: link {target!r}"
        path_part, _, anchor = target.partition("#")
        path_part = path_part.split("?", 1)[0]
        dest = (source.parent / path_part).resolve() if path_part else source.resolve()
        if not dest.is_relative_to(root.resolve()):
            problems.append(f"{name} leaves the repository")
            continue
        if not dest.exists():
            problems.append(f"{name}: {dest.relative_to(root.resolve())} does not exist")
            continue
        if anchor:
            if dest.suffix not in (".md", ".ipynb"):
                problems.append(f"{name}: an anchor into a {dest.suffix or 'directory'} cannot be checked")
            elif anchor not in anchors_of(dest):
                problems.append(f"{name}: no anchor #{anchor} in {dest.relative_to(root.resolve())}")
    for word in FORBIDDEN:
        if word in text.lower():
            problems.append(f"{source.relative_to(root)}: mentions {word!r} (outside the repository)")
    return problems


def check_file(path: Path, root: Path) -> list[str]:
    """Problems with the links of a ``.md`` file or of a notebook's markdown cells; a notebook's
    code cells are checked for the forbidden words only."""
    if path.suffix == ".ipynb":
        problems = [p for text in notebook_markdown(path) for p in check_text(text, path, root)]
        for text in notebook_sources(path):
            problems += [f"{path.relative_to(root)}: mentions {w!r} (outside the repository)"
                         for w in FORBIDDEN if w in text.lower()]
        return sorted(set(problems))
    return check_text(path.read_text(encoding="utf-8"), path, root)


def checked_files(root: Path) -> list[Path]:
    return [*sorted((root / "docs").glob("*.md")), root / "README.md",
            *sorted((root / "notebooks").glob("*.ipynb"))]


@pytest.mark.parametrize("path", checked_files(REPO), ids=lambda p: str(p.relative_to(REPO)))
def test_links_and_anchors(path):
    assert check_file(path, REPO) == []


def test_paper_digest_exists_and_is_linked():
    """docs/paper.md exists and every doc page that cites the paper digest reaches it."""
    assert (REPO / "docs" / "paper.md").is_file()
    assert "paper.md" in (REPO / "docs" / "index.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------- the checker itself

def test_slugify_like_github():
    assert slugify("The model") == "the-model"
    assert slugify("Fig 5: the spiking XOR (choices where the paper is silent)") == \
        "fig-5-the-spiking-xor-choices-where-the-paper-is-silent"
    assert slugify('4. The original C++ code (`"auryn"`)') == "4-the-original-c-code-auryn"
    assert slugify("Figs 6-8: the large task") == "figs-6-8-the-large-task"
    assert slugify("snake_case and *emphasis*") == "snake_case-and-emphasis"
    assert markdown_anchors("# A\n## A\n") == {"a", "a-1", "A"}


def _tiny_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / "docs" / "b.md").write_text(
        "# Title\n\n## Good section\n\n(my-label)=\n## Other\n\n<a id=\"raw-id\"></a>\n\n"
        "```\n## not a heading\n```\n", encoding="utf-8")
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["## 1. First steps\n"]},
                    {"cell_type": "code", "metadata": {}, "source": ["x = 1\n"], "outputs": [],
                     "execution_count": None}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (root / "notebooks" / "nb.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (tmp_path / "outside.md").write_text("# Outside\n", encoding="utf-8")
    return root


def test_checker_accepts_good_links(tmp_path):
    root = _tiny_repo(tmp_path)
    page = root / "docs" / "a.md"
    page.write_text(
        "# A\n\n[b](b.md) [s](b.md#good-section) [l](b.md#my-label) [i](b.md#raw-id) "
        "[self](#a) [nb](../notebooks/nb.ipynb#1-first-steps) [web](https://example.org/x#y) "
        "`[code](missing.md)` <img src=\"b.md\">\n", encoding="utf-8")
    assert check_file(page, root) == []


@pytest.mark.parametrize("link, message", [
    ("missing.md", "does not exist"),
    ("b.md#bad-section", "no anchor #bad-section"),
    ("b.md#not-a-heading", "no anchor #not-a-heading"),
    ("#nowhere", "no anchor #nowhere"),
    ("../notebooks/nb.ipynb#second-steps", "no anchor #second-steps"),
    ("../../outside.md", "leaves the repository"),
])
def test_checker_finds_broken_links(tmp_path, link, message):
    root = _tiny_repo(tmp_path)
    page = root / "docs" / "a.md"
    page.write_text(f"# A\n\nSee [this]({link}).\n", encoding="utf-8")
    problems = check_file(page, root)
    assert len(problems) == 1 and message in problems[0], problems


def test_checker_finds_broken_links_in_notebooks_and_forbidden_text(tmp_path):
    root = _tiny_repo(tmp_path)
    nb_path = root / "notebooks" / "nb.ipynb"
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    nb["cells"][0]["source"].append("See [docs](../docs/b.md#nope) and $f = [x](s)$.\n")
    nb["cells"][1]["source"].append("# see paper notes §3\n")
    nb_path.write_text(json.dumps(nb), encoding="utf-8")
    problems = check_file(nb_path, root)
    assert len(problems) == 2, problems
    assert any("no anchor #nope" in p for p in problems)
    assert any("paper notes" in p for p in problems)
    page = root / "docs" / "c.md"
    page.write_text("Data in `../shared/reference-data`.\n", encoding="utf-8")
    assert any("../shared" in p for p in check_file(page, root))

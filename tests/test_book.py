"""The rendered book (``make book``): it builds ``-W`` clean, every internal link and anchor of
the built HTML resolves, nothing is loaded from the internet, the sidebar is in course order, and
a headless Chromium shows the pages with typeset equations, loaded images and no console errors.

Needs the ``docs`` extra (``pip install -e ".[docs]"``); skipped without it. The browser test
also needs Debian's ``chromium`` (``apt-get install chromium``; Playwright drives it and never
downloads a browser) and is skipped without it. The book is built once per session (about 15 s)
into ``build/book/html``, the folder ``make book`` writes; screenshots go to
``build/book/screenshots``.
"""
from __future__ import annotations

import functools
import http.server
import importlib.util
import runpy
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "build" / "book"
HTML = BUILD / "html"
SCREENSHOTS = BUILD / "screenshots"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
RESOURCE_TAGS = {"img": "src", "script": "src", "source": "src", "iframe": "src", "video": "src"}


def _missing_docs_tools() -> list[str]:
    missing = [name for name in ("sphinx", "myst_nb", "sphinx_book_theme") if importlib.util.find_spec(name) is None]
    try:
        metadata.distribution("sphinx-mathjax-offline")
    except metadata.PackageNotFoundError:
        missing.append("sphinx-mathjax-offline")
    return missing


def _chromium() -> str | None:
    for name in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if name and Path(name).is_file():
            return name
    return None


def _course_order() -> list[str]:
    """The documents of the sidebar, in order, as conf.py lists them (conf.py imports only the stdlib)."""
    course = runpy.run_path(str(REPO / "conf.py"))["COURSE"]
    return [doc for docs in course.values() for doc in docs]


@pytest.fixture(scope="session")
def book() -> Path:
    """Build the book from scratch (``-E``, so every warning is seen) with ``-W``; its HTML folder."""
    missing = _missing_docs_tools()
    if missing:
        pytest.skip(f"the docs extra is not installed (missing {', '.join(missing)}): pip install -e '.[docs]'")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html",
               "-d", str(BUILD / "doctrees"), str(REPO), str(HTML)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"sphinx-build failed:\n{done.stdout[-4000:]}\n{done.stderr[-8000:]}"
    return HTML


# ---------------------------------------------------------------- static checks of the HTML

class _Page(HTMLParser):
    """The ids of a page, its links (``a``/``link`` href) and resources (img/script/... src)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []        # (tag, href)
        self.resources: list[tuple[str, str]] = []    # (tag, url): fetched when the page loads
        self.nav: list[str] = []                      # hrefs of the sidebar, in order
        self._nav_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        if tag == "nav" and "bd-docs-nav" in (a.get("class") or ""):
            self._nav_depth = 1
        elif tag == "nav" and self._nav_depth:
            self._nav_depth += 1
        if tag in ("a", "link") and a.get("href") is not None:
            self.links.append((tag, a["href"]))
            if tag == "link" and set((a.get("rel") or "").split()) & {"stylesheet", "preload", "icon"}:
                self.resources.append((tag, a["href"]))
            if tag == "a" and self._nav_depth:
                self.nav.append(a["href"])
        if tag in RESOURCE_TAGS and a.get(RESOURCE_TAGS[tag]):
            self.resources.append((tag, a[RESOURCE_TAGS[tag]]))

    def handle_endtag(self, tag):
        if tag == "nav" and self._nav_depth:
            self._nav_depth -= 1


@functools.lru_cache(maxsize=None)
def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def link_problems(html_dir: Path) -> tuple[list[str], int]:
    """Broken internal links of a built HTML folder and the number of internal links checked.

    A link is internal if it has no scheme: its file must exist in the build and its ``#anchor``
    (if any, into an HTML page) must be an ``id`` there. Resources that the browser fetches by
    itself (images, scripts, style sheets) must all be internal: the book works offline."""
    problems, checked = [], 0
    html_dir = html_dir.resolve()
    for page_path in sorted(html_dir.rglob("*.html")):
        if page_path.relative_to(html_dir).parts[0] == "_static":
            continue                                  # the themes' Jinja templates, not pages
        page = _parse(page_path)
        where = page_path.relative_to(html_dir)
        for tag, url in page.resources:
            if urlsplit(url).scheme in ("http", "https") or url.startswith("//"):
                problems.append(f"{where}: <{tag}> loads {url} from the internet")
        for tag, url in page.links + page.resources:
            parts = urlsplit(url)
            if parts.scheme or url.startswith("//"):
                continue                              # https:, mailto:, data:, javascript: ...
            checked += 1
            target = (page_path.parent / unquote(parts.path)).resolve() if parts.path else page_path
            if not target.is_relative_to(html_dir):
                problems.append(f"{where}: {url} leaves the book")
                continue
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"{where}: {url}: no file {target.relative_to(html_dir)}")
                continue
            if parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _parse(target).ids:
                problems.append(f"{where}: {url}: no id #{parts.fragment} in {target.relative_to(html_dir)}")
    return problems, checked


def test_book_has_every_page(book):
    pages = ["index.html", "README.html", *(f"docs/{p.stem}.html" for p in (REPO / "docs").glob("*.md")),
             *(f"notebooks/{p.stem}.html" for p in (REPO / "notebooks").glob("*.ipynb"))]
    assert [p for p in pages if not (book / p).is_file()] == []
    assert len(pages) >= 2 + 11 + 16


def test_book_internal_links_and_anchors(book):
    problems, checked = link_problems(book)
    assert problems == []
    assert checked > 1000                              # the pages cross-link a lot; a sanity floor


def test_book_links_from_markdown_reach_headings(book):
    """Links written on GitHub as ``paper.md#the-model`` and ``../docs/paper.md#...`` become
    links to the heading's id in the built page."""
    hrefs = [url for _, url in _parse(book / "notebooks" / "15_picture_task.html").links]
    assert "../docs/paper.html#the-picture-task-of-the-original-code" in hrefs
    assert "the-picture-task-of-the-original-code" in _parse(book / "docs" / "paper.html").ids
    index_links = [url for _, url in _parse(book / "docs" / "index.html").links]
    assert "../notebooks/05_three_factor_rule.html" in index_links


def test_book_sidebar_in_course_order(book):
    nav = [url.split("#")[0] for url in _parse(book / "docs" / "index.html").nav]
    expected = [doc[len("docs/"):] + ".html" if doc.startswith("docs/") else f"../{doc}.html"
                for doc in _course_order()]
    assert [url for url in nav if url in expected] == expected
    notebooks = [url.split("/")[-1][:2] for url in expected if url.startswith("../notebooks/")]
    assert notebooks == ["01", "02", "03", "04", "05", "06", "07", "16", "08", "09", "10", "11", "12", "13", "14",
                         "15"]


def test_book_serves_mathjax_itself_and_shows_the_animation(book):
    page = _parse(book / "notebooks" / "05_three_factor_rule.html")
    scripts = [url for tag, url in page.resources if tag == "script"]
    assert any(url.split("?")[0] == "../_static/mathjax/tex-chtml.js" for url in scripts), scripts
    assert (book / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    from PIL import Image

    gifs = [url for tag, url in _parse(book / "notebooks" / "15_picture_task.html").resources
            if tag == "img" and url.endswith(".gif")]
    assert len(gifs) == 1
    with Image.open(book / "notebooks" / gifs[0]) as movie:
        assert movie.n_frames > 1                      # the stored animation of training, moving


def test_link_checker_finds_problems(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.html").write_text(
        '<p id="top"><a href="sub/b.html#here">ok</a> <a href="sub/b.html#gone">bad anchor</a> '
        '<a href="missing.html">missing</a> <a href="#top">self</a> <a href="https://example.org/#x">web</a> '
        '<img src="https://example.org/x.png"> <a href="../../outside.html">out</a></p>', encoding="utf-8")
    (tmp_path / "sub" / "b.html").write_text('<h1 id="here">B</h1>', encoding="utf-8")
    _parse.cache_clear()
    problems, checked = link_problems(tmp_path)
    assert checked == 5
    assert len(problems) == 4, problems
    for text in ("no id #gone", "no file missing.html", "from the internet", "leaves the book"):
        assert any(text in p for p in problems), (text, problems)


# ---------------------------------------------------------------- the browser test

BROWSER_PAGES = {          # page → (screenshot name, has equations, what the screenshot scrolls to)
    "index.html": ("index", False, None),              # forwards to docs/index.html
    "notebooks/05_three_factor_rule.html": ("05_three_factor_rule", True, "mjx-container >> nth=3"),
    "docs/validation.html": ("validation", False, None),
    "notebooks/15_picture_task.html": ("15_picture_task", True, "img[src$='.gif']"),
}


@pytest.fixture(scope="session")
def server(book):
    """The book over HTTP on localhost (as ``python -m http.server -d build/book/html`` serves it)."""
    handler = functools.partial(_QuietHandler, directory=str(book))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_book_in_headless_chromium(book, server):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no chromium browser installed (Debian: apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("playwright is not installed (pip install -e '.[docs]')")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    report = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        try:
            for path, (name, has_math, scroll_to) in BROWSER_PAGES.items():
                report[path] = _check_page(browser, f"{server}/{path}", name, has_math, scroll_to)
            # The README's other way: open the file itself, no server (MathJax and its fonts load from disk).
            report["file://"] = _check_page(browser, (book / "notebooks" / "05_three_factor_rule.html").as_uri(),
                                            "05_three_factor_rule_file", True, None)
        finally:
            browser.close()
    problems = {path: r["problems"] for path, r in report.items() if r["problems"]}
    assert problems == {}
    assert report["notebooks/05_three_factor_rule.html"]["equations"] > 10
    assert report["file://"]["equations"] == report["notebooks/05_three_factor_rule.html"]["equations"]
    assert report["notebooks/15_picture_task.html"]["images"] >= 5
    assert report["index.html"]["title"].startswith("Documentation index")


def _check_page(browser, url: str, name: str, has_math: bool, scroll_to: str | None) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, outside = [], []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url} ({r.failure})"))

    def only_local(route):
        if route.request.url.startswith(url.split("/", 3)[0] + "//" + urlsplit(url).netloc) or \
                route.request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    response = page.goto(url, wait_until="load")
    problems = [] if response is not None and response.ok else [f"HTTP {response and response.status}"]
    if url.endswith("/index.html") and "/docs/" not in url:      # the build's top page forwards
        page.wait_for_url("**/docs/index.html")
        page.wait_for_load_state("load")
    equations = 0
    if has_math:
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
        equations = page.evaluate("() => MathJax.startup.promise.then("
                                  "() => document.querySelectorAll('mjx-container').length)")
        untypeset = page.evaluate("() => [...document.querySelectorAll('.math')]"
                                  ".filter(e => !e.querySelector('mjx-container')).length")
        tex_errors = page.evaluate("() => document.querySelectorAll('mjx-merror').length")
        if equations == 0 or untypeset or tex_errors:
            problems.append(f"equations: {equations} typeset, {untypeset} not, {tex_errors} TeX errors")
    # Every image loaded and decoded (made eager first, in case the browser would load it lazily).
    page.evaluate("() => Promise.all([...document.images].map(i => { i.loading = 'eager'; return i.decode().catch(() => null); }))")
    images = page.evaluate("() => [...document.images].map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])")
    problems += [f"image not displayed: {src}" for src, shown in images if not shown]
    if scroll_to:
        page.locator(scroll_to).first.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    title = page.title()
    page.close()
    problems += errors + [f"outside request blocked: {u}" for u in outside]
    return {"problems": problems, "equations": equations, "images": len(images), "title": title}

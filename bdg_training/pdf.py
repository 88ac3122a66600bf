"""HTML → PDF with WeasyPrint, locked down and warmed up once per process.

No Flask here: benchmarks, background jobs and worker processes use this module without an app.

**What a document may load.** Every URL WeasyPrint meets (stylesheets, ``@import``, images, ``@font-face``)
goes through :class:`StaticFetcher`, which serves only:

* ``bdg-static:`` — files under ``bdg_training/static/``. The default base URL is ``bdg-static:///``, so a
  template can write exactly what Flask's ``url_for('static', …)`` gives, ``/static/css/x.css``, or a relative
  ``css/x.css``, or the absolute ``bdg-static:///css/x.css``: all three name ``bdg_training/static/css/x.css``.
  The path is resolved (symlinks followed) and must stay inside the static folder; ``..`` segments, NUL,
  backslashes and file types outside :data:`STATIC_TYPES` are refused.
* ``bdg-font:<file>`` — the four Liberation Serif files, by file name only (:data:`FONT_FILES`), read from the
  Debian font folder (``fonts-liberation2``). No other system file can be named.

Everything else — ``file://``, ``http(s)://``, ``ftp:``, ``data:`` (the QR code is an inline ``<svg>``
element, so nothing needs ``data:``), unknown schemes — raises :class:`AssetRefused` before any I/O. By default
the fetcher is *strict*: a refused or missing resource stops the render with :class:`PdfError` instead of
WeasyPrint's usual warning-and-carry-on, so an admin's template that points outside gets a clear error.

**Fonts.** ``@font-face`` rules for the family ``"Liberation Serif"`` point at ``bdg-font:`` URLs; Liberation
Serif is metric-compatible with the Times New Roman that Nghị định 30/2020 prescribes and covers Vietnamese.
If a file is missing, :class:`FontMissingError` says which and gives the install command; :func:`warm_up`
renders a probe with every face and every tone mark and checks that the PDF embeds Liberation Serif and
nothing else, so a silent fallback to another font cannot go unnoticed.

**Once per process.** The ``FontConfiguration`` (fontconfig scan + the app font files WeasyPrint copies to a
``weasyprint-*`` temporary folder), the base stylesheet and every named stylesheet are built once and reused by
every render; :func:`warm_up` builds them ahead of time (call it in a worker initializer or at start-up). The
temporary font folder is removed at interpreter exit by the process that created it. A fork inherits the warm
state. Renders in one process are serialized by a lock: WeasyPrint's shared font objects are not documented as
thread-safe, and a render is short.

**Beyond one HTML → one PDF** (what certificates.render builds on): inside :func:`session` (the lock, the warm
state, the garbage collector paused), :func:`layout` lays documents out, :func:`find_marks` measures the boxes
of marked elements, and :func:`write_pages` writes pages of several layouts as one PDF with one font subset,
where *layer* pages are written once as Form XObjects painted under other pages and raw PDF operators (a QR
code) can be drawn on a page. WeasyPrint's per-page work on empty page-margin boxes is skipped
(:data:`MARGIN_BOX_SHORTCUT`).
"""

from __future__ import annotations

import atexit
import functools
import gc
import hashlib
import os
import re
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, uses_netloc, uses_relative

import pydyf
from weasyprint import CSS, HTML
from weasyprint.css import ComputedStyle
from weasyprint.document import Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

__all__ = [
    "DEFAULT_BASE_URL",
    "FONT_FAMILY",
    "FONT_INSTALL_COMMAND",
    "AssetRefused",
    "FontMissingError",
    "PageCountError",
    "PdfError",
    "StaticFetcher",
    "Mark",
    "embedded_fonts",
    "find_marks",
    "font_path",
    "html_to_pdf",
    "html_to_pdfs",
    "is_warm",
    "layout",
    "merge_pdfs",
    "page_count",
    "split_pages",
    "render_document",
    "resolve_asset",
    "session",
    "text_width",
    "warm_up",
    "write_pages",
]

STATIC_DIR = Path(__file__).resolve().parent / "static"
PT_PER_PX = 0.75  # PDF points per CSS pixel (72 / 96)
STATIC_SCHEME = "bdg-static"
FONT_SCHEME = "bdg-font"
DEFAULT_BASE_URL = f"{STATIC_SCHEME}:///"

# urljoin() resolves relative references only for schemes it knows: teach it ours, so that "/static/x.css"
# and "x.css" resolve against ``bdg-static:///`` (idempotent; affects no other scheme).
for _registry in (uses_relative, uses_netloc):
    if STATIC_SCHEME not in _registry:
        _registry.append(STATIC_SCHEME)

# Files a document may load from static/, with the MIME type WeasyPrint needs to pick a parser.
STATIC_TYPES = {
    ".css": "text/css",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}
MAX_ASSET_BYTES = 5 * 1024 * 1024

FONT_FAMILY = "Liberation Serif"
FONT_PACKAGE = "fonts-liberation2"
FONT_INSTALL_COMMAND = f"apt-get install -y {FONT_PACKAGE}"
# Where Debian puts the font; BDG_PDF_FONT_DIR (if set) is searched first, for other systems.
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/liberation"),
)
# file name → (font-weight, font-style) of its @font-face rule
FONT_FILES = {
    "LiberationSerif-Regular.ttf": ("normal", "normal"),
    "LiberationSerif-Bold.ttf": ("bold", "normal"),
    "LiberationSerif-Italic.ttf": ("normal", "italic"),
    "LiberationSerif-BoldItalic.ttf": ("bold", "italic"),
}
# PostScript names as they appear (after the "ABCDEF+" subset tag) in a PDF's /BaseFont.
EXPECTED_BASE_FONTS = frozenset({"LiberationSerif", "LiberationSerif-Bold", "LiberationSerif-Italic", "LiberationSerif-BoldItalic"})

_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9.+-]*):")


class PdfError(RuntimeError):
    """Rendering failed; the message says why (refused asset, missing font, bad page count…)."""


class FontMissingError(PdfError):
    """The certificate font is not installed. The message carries the install command."""


class AssetRefused(ValueError):
    """A document asked for a URL outside the app's own static assets."""


class PageCountError(PdfError):
    """A document laid out to a different number of pages than expected (e.g. a certificate overflowed)."""

    def __init__(self, expected: int, actual: int):
        super().__init__(f"expected {expected} page(s), WeasyPrint produced {actual}")
        self.expected = expected
        self.actual = actual


# --------------------------------------------------------------------------------------------------
# Assets
# --------------------------------------------------------------------------------------------------


def font_path(name: str) -> Path:
    """The installed file of one of :data:`FONT_FILES`; :class:`FontMissingError` (with the install command)
    when it is not there. ``name`` outside :data:`FONT_FILES` → :class:`AssetRefused`."""
    if name not in FONT_FILES:
        raise AssetRefused(f"not an allowed font file: {name!r}")
    dirs = list(FONT_DIRS)
    if extra := os.environ.get("BDG_PDF_FONT_DIR"):
        dirs.insert(0, Path(extra))
    for folder in dirs:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    raise FontMissingError(
        f"Thiếu phông chữ {FONT_FAMILY} ({name}) để in giấy chứng nhận; đã tìm trong "
        f"{', '.join(str(d) for d in dirs)}. Cài đặt bằng lệnh: sudo {FONT_INSTALL_COMMAND} "
        f"(hoặc `make sysdeps`). Missing font {name}: run `{FONT_INSTALL_COMMAND}`."
    )


def resolve_asset(url: str) -> tuple[Path, str]:
    """Map an allowed URL to ``(file, mime type)``; raise :class:`AssetRefused` for anything else.

    Pure path arithmetic plus ``stat``: nothing is opened here, and nothing outside ``static/`` (or the four
    font files) is ever stat'ed either, since the scheme and the path are checked first.
    """
    match = _SCHEME_RE.match(url or "")
    if not match:
        raise AssetRefused(f"not an absolute URL: {url[:200]!r}")
    scheme = match[1].lower()
    if scheme == FONT_SCHEME:
        return font_path(unquote(url[match.end() :]).lstrip("/")), "font/ttf"
    if scheme != STATIC_SCHEME:
        raise AssetRefused(f"URL scheme {scheme!r} refused: only the app's static assets are served ({url[:200]!r})")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise AssetRefused(f"malformed URL {url[:200]!r}") from exc
    if parts.netloc:
        raise AssetRefused(f"{STATIC_SCHEME}: URLs have no host: {url[:200]!r}")
    path = unquote(parts.path)
    if "\x00" in path or "\\" in path:
        raise AssetRefused(f"invalid characters in {url[:200]!r}")
    segments = [s for s in path.split("/") if s not in ("", ".")]
    if ".." in segments:
        raise AssetRefused(f"'..' refused in {url[:200]!r}")
    if segments[:1] == ["static"]:
        segments = segments[1:]
    if not segments:
        raise AssetRefused(f"no file named in {url[:200]!r}")
    root = STATIC_DIR.resolve()
    candidate = root.joinpath(*segments).resolve()
    if not candidate.is_relative_to(root):
        raise AssetRefused(f"outside the static folder: {url[:200]!r}")
    mime = STATIC_TYPES.get(candidate.suffix.lower())
    if mime is None:
        raise AssetRefused(f"file type {candidate.suffix!r} not served: {url[:200]!r}")
    if not candidate.is_file():
        raise AssetRefused(f"no such static file: {url[:200]!r}")
    return candidate, mime


@functools.lru_cache(maxsize=64)
def _read(path: Path, mtime_ns: int, size: int) -> bytes:
    if size > MAX_ASSET_BYTES:
        raise AssetRefused(f"{path.name} is larger than {MAX_ASSET_BYTES} bytes")
    return path.read_bytes()


def read_asset(url: str) -> tuple[bytes, str]:
    """The bytes and MIME type of an allowed URL (cached in memory while the file is unchanged)."""
    path, mime = resolve_asset(url)
    stat = path.stat()
    return _read(path, stat.st_mtime_ns, stat.st_size), mime


class StaticFetcher(URLFetcher):
    """WeasyPrint URL fetcher serving only :func:`resolve_asset` URLs.

    ``requested`` lists every URL WeasyPrint asked for and ``refused`` the ones turned down (tests use them to
    prove that user text never reached the fetcher). ``strict=True`` (default) makes any failure fatal for the
    render, surfaced by :func:`html_to_pdf` as :class:`PdfError`; ``strict=False`` lets WeasyPrint log and
    skip the resource.
    """

    def __init__(self, *, strict: bool = True):
        super().__init__(fail_on_errors=strict, allowed_protocols=(STATIC_SCHEME, FONT_SCHEME), allow_redirects=False)
        self.requested: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        self.requested.append(url)
        try:
            body, mime = read_asset(url)
        except Exception:
            self.refused.append(url)
            raise
        return URLFetcherResponse(url, body, {"Content-Type": mime})


# --------------------------------------------------------------------------------------------------
# Process-wide state: font configuration and stylesheets, built once
# --------------------------------------------------------------------------------------------------


def _base_css_text() -> str:
    faces = []
    for name, (weight, style) in FONT_FILES.items():
        font_path(name)  # fail loudly, with the install command, before WeasyPrint would fall back
        faces.append(
            f'@font-face {{ font-family: "{FONT_FAMILY}"; src: url("{FONT_SCHEME}:{name}"); '
            f"font-weight: {weight}; font-style: {style}; }}"
        )
    return "\n".join(faces) + f'\nhtml {{ font-family: "{FONT_FAMILY}"; }}\n'


@dataclass
class _State:
    pid: int
    font_config: FontConfiguration
    base_css: CSS
    named: dict[str, tuple[tuple[int, int], CSS]] = field(default_factory=dict)
    custom: OrderedDict[str, CSS] = field(default_factory=OrderedDict)
    warm_ms: float = 0.0


# WeasyPrint lays out the 16 page-margin boxes (@top-left … @bottom-right-corner) of every page, resolving
# their styles and percentages, even when none has any content — the usual case, and ours: ~15 % of the CPU of
# a class's certificate pages (see render.py). When no margin box of the page has content, its
# ``make_margin_boxes`` yields nothing after all that work; this wrapper checks that case first (16 cached
# style lookups) and otherwise calls the original. Installed only on the WeasyPrint it was written against
# (pinned in requirements.txt); tests check that margin boxes with content still print.
_MARGIN_BOXES = tuple(
    [f"@{side}-{where}" for side in ("top", "bottom") for where in ("left", "center", "right")]
    + [f"@{side}-{where}" for side in ("left", "right") for where in ("top", "middle", "bottom")]
    + [f"@{corner}-corner" for corner in ("top-left", "top-right", "bottom-left", "bottom-right")]
)


def _install_margin_box_shortcut() -> bool:
    import weasyprint
    import weasyprint.layout as layout_module
    import weasyprint.layout.page as page_module

    original = page_module.make_margin_boxes
    if not weasyprint.__version__.startswith("70.") or getattr(original, "bdg_shortcut", False):
        return False
    if getattr(layout_module, "make_margin_boxes", None) is not original:
        return False

    def make_margin_boxes(context, page, state):
        for keyword in _MARGIN_BOXES:
            style = context.style_for(page.page_type, keyword)
            if style is not None and style["content"] not in ("normal", "inhibit", "none"):
                return original(context, page, state)
        return iter(())

    make_margin_boxes.bdg_shortcut = True
    page_module.make_margin_boxes = layout_module.make_margin_boxes = make_margin_boxes
    return True


MARGIN_BOX_SHORTCUT = _install_margin_box_shortcut()

_STATE: _State | None = None
_LOCK = threading.RLock()
_CUSTOM_CSS_CACHE = 16


def _state() -> _State:
    global _STATE
    if _STATE is None:
        font_config = FontConfiguration()
        try:
            base = CSS(string=_base_css_text(), font_config=font_config, url_fetcher=StaticFetcher(), base_url=DEFAULT_BASE_URL)
        except FatalURLFetchingError as exc:  # a BaseException in WeasyPrint: turn it into an ordinary error
            raise FontMissingError(f"{FONT_FAMILY} could not be loaded ({exc.__cause__ or exc}); run `{FONT_INSTALL_COMMAND}`") from exc
        _STATE = _State(pid=os.getpid(), font_config=font_config, base_css=base)
    return _STATE


def _named_css(state: _State, path: str) -> CSS:
    """A static stylesheet by path ("css/certificate.css"), parsed once; re-parsed if the file changes."""
    url = path if _SCHEME_RE.match(path) else f"{DEFAULT_BASE_URL}{path.lstrip('/')}"
    file, _mime = resolve_asset(url)
    stat = file.stat()
    key = (stat.st_mtime_ns, stat.st_size)
    cached = state.named.get(url)
    if cached is None or cached[0] != key:
        css = CSS(url=url, font_config=state.font_config, url_fetcher=StaticFetcher(), base_url=url)
        state.named[url] = cached = (key, css)
    return cached[1]


def _custom_css(state: _State, text: str) -> CSS:
    """A stylesheet given as text (an admin-edited template's CSS), kept in a small LRU by content hash."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    css = state.custom.get(digest)
    if css is None:
        css = CSS(string=text, font_config=state.font_config, url_fetcher=StaticFetcher(), base_url=DEFAULT_BASE_URL)
        state.custom[digest] = css
        while len(state.custom) > _CUSTOM_CSS_CACHE:
            state.custom.popitem(last=False)
    else:
        state.custom.move_to_end(digest)
    return css


_PROBE_HTML = (
    '<p>ẪẶỮỰĐ ẫặữựđ Nguyễn Thị Hồng Phương</p><p><b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b></p>'
    "<p><i>Cần Thơ, ngày 05 tháng 02 năm 2026</i></p><p><b><i>Độc lập - Tự do - Hạnh phúc</i></b></p>"
)


def warm_up(stylesheets: Sequence[str] = ()) -> float:
    """Build the font configuration and stylesheets now, render a probe, check its fonts. Returns ms spent.

    Idempotent and cheap once warm. Raises :class:`FontMissingError` when the probe PDF embeds any font other
    than the four Liberation Serif faces (i.e. a fallback happened).
    """
    start = time.perf_counter()
    with _LOCK:
        state = _state()
        for path in stylesheets:
            _named_css(state, path)
        _advances("LiberationSerif-Regular.ttf")
        _advances("LiberationSerif-Bold.ttf")
        if not state.warm_ms:
            pdf = _write(HTML(string=_PROBE_HTML, base_url=DEFAULT_BASE_URL, url_fetcher=StaticFetcher()), state, [state.base_css], None)
            fonts = embedded_fonts(pdf)
            if fonts != EXPECTED_BASE_FONTS:
                raise FontMissingError(
                    f"the PDF embeds {sorted(fonts)} instead of {sorted(EXPECTED_BASE_FONTS)}: {FONT_FAMILY} did not load; "
                    f"run `{FONT_INSTALL_COMMAND}`"
                )
            state.warm_ms = (time.perf_counter() - start) * 1000 or 0.001
    return (time.perf_counter() - start) * 1000


@functools.lru_cache(maxsize=8)
def _advances(name: str) -> tuple[dict[int, float], float]:
    """(code point → advance width in em, the widest advance) of one of :data:`FONT_FILES` (fontTools)."""
    from fontTools.ttLib import TTFont

    with TTFont(str(font_path(name)), lazy=True) as font:
        scale = 1 / font["head"].unitsPerEm
        metrics = font["hmtx"].metrics
        widths = {code: metrics[glyph][0] * scale for code, glyph in font.getBestCmap().items() if glyph in metrics}
    return widths, max(widths.values())


def text_width(text: str, *, bold: bool = False, italic: bool = False) -> float:
    """Width of ``text`` in em at that face of the certificate font: the sum of the glyph advances, no kerning
    (so never narrower than what WeasyPrint sets — kerning only tightens). A character the font lacks counts as
    its widest glyph. Used to shrink long names so that they fit on their line."""
    name = {(False, False): "LiberationSerif-Regular.ttf", (True, False): "LiberationSerif-Bold.ttf"}.get((bold, italic))
    name = name or ("LiberationSerif-BoldItalic.ttf" if bold else "LiberationSerif-Italic.ttf")
    widths, widest = _advances(name)
    return sum(widths.get(ord(ch), widest) for ch in text)


def is_warm() -> bool:
    """True when this process already has its font configuration and probe done."""
    return _STATE is not None and bool(_STATE.warm_ms)


def reset() -> None:
    """Forget the process state (tests). The temporary font folder is removed now."""
    global _STATE
    with _LOCK:
        _cleanup()
        _STATE = None
        _read.cache_clear()


@atexit.register
def _cleanup() -> None:
    """Remove WeasyPrint's temporary font folder — only in the process that created it (not in forks)."""
    state = _STATE
    if state is None or state.pid != os.getpid():
        return
    folder = getattr(state.font_config, "_folder", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        state.font_config._folder = None


def font_folder() -> Path | None:
    """WeasyPrint's temporary folder of app fonts for this process (None before warm-up)."""
    state = _STATE
    folder = getattr(state.font_config, "_folder", None) if state else None
    return Path(folder) if folder else None


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------


def _write(html: HTML, state: _State, stylesheets: list[CSS], expected_pages: int | None):
    document = html.render(stylesheets=stylesheets, font_config=state.font_config)
    if expected_pages is not None and len(document.pages) != expected_pages:
        raise PageCountError(expected_pages, len(document.pages))
    return document.write_pdf()


def _stylesheets(state: _State, stylesheets: Sequence[str], css: str | None) -> list[CSS]:
    sheets = [state.base_css, *(_named_css(state, path) for path in stylesheets)]
    if css:
        sheets.append(_custom_css(state, css))
    return sheets


@contextmanager
def session():
    """Hold this process's renderer (fonts, stylesheets) for a sequence of :func:`layout` / :func:`write_pages`
    calls, warming it up first if needed; refused resources surface as :class:`PdfError`.

    WeasyPrint's ``FatalURLFetchingError`` is a ``BaseException``: it is turned into an ordinary error here.
    The cyclic garbage collector is paused meanwhile (a 50-page layout allocates ~10⁶ objects that all live
    until the PDF is written: generation-2 scans of them are pure loss, ~8 % of the CPU time) and run once
    afterwards.
    """
    try:
        with _LOCK:
            if not is_warm():
                warm_up()  # first render of the process: check the font before anything is printed with it
            collecting = gc.isenabled()
            gc.disable()
            try:
                yield _state()
            finally:
                if collecting:
                    gc.enable()
    except FatalURLFetchingError as exc:  # BaseException in WeasyPrint: surface it as an ordinary error
        raise PdfError(f"resource refused: {exc.__cause__ or exc}") from exc
    except AssetRefused as exc:  # a named stylesheet that is not a static asset
        raise PdfError(f"resource refused: {exc}") from exc


def layout(
    html: str,
    *,
    base_url: str | None = None,
    stylesheets: Sequence[str] = (),
    css: str | None = None,
    fetcher: StaticFetcher | None = None,
    expected_pages: int | None = None,
    hide: str | None = None,
) -> Document:
    """Lay ``html`` out (no PDF yet) with the warm state; call inside :func:`session`. Arguments as for
    :func:`html_to_pdf`; ``hide``: a CSS selector whose elements are laid out but not painted
    (``visibility: hidden``). Raises :class:`PageCountError` unless the layout has ``expected_pages`` pages."""
    state = _state()
    sheets = _stylesheets(state, stylesheets, css)
    if hide:
        sheets.append(_custom_css(state, f"{hide} {{ visibility: hidden !important; }}"))
    document = HTML(string=html, base_url=base_url or DEFAULT_BASE_URL, url_fetcher=fetcher or StaticFetcher())
    rendered = document.render(stylesheets=sheets, font_config=state.font_config)
    if expected_pages is not None and len(rendered.pages) != expected_pages:
        raise PageCountError(expected_pages, len(rendered.pages))
    return rendered


@dataclass(frozen=True)
class Mark:
    """An element with a given attribute, as laid out: its border box in CSS px from the page's top-left
    corner; its content box in PDF points (``pdf_x``, ``pdf_top``: the top-left corner, origin at the page's
    bottom-left); the element and WeasyPrint's box."""

    page: int
    element: Any
    box: Any
    x: float
    y: float
    width: float
    height: float
    pdf_x: float
    pdf_top: float
    pdf_width: float
    pdf_height: float


def find_marks(pages: Sequence[Any], attribute: str) -> list[Mark]:
    """Every box of ``pages`` (WeasyPrint pages, from :func:`layout`) whose element has ``attribute``, in
    tree order. Reads WeasyPrint's box tree (``Page._page_box``, stable across 5x–70); raises :class:`PdfError`
    if this WeasyPrint does not expose it, so a caller can fall back."""
    marks = []
    for number, page in enumerate(pages):
        root = getattr(page, "_page_box", None)
        if root is None or not hasattr(root, "descendants"):
            raise PdfError("this WeasyPrint version does not expose its page boxes")
        height_pt = page.height * PT_PER_PX
        for box in root.descendants(placeholders=True):  # placeholders: absolutely positioned boxes too
            element = getattr(box, "element", None)
            if element is None or element.get(attribute) is None:
                continue
            style = getattr(box, "style", None)
            if not isinstance(style, ComputedStyle) or style.pseudo_type:
                continue  # the anonymous line/text boxes inside the element, ::before / ::after / ::marker
            marks.append(
                Mark(
                    page=number,
                    element=element,
                    box=box,
                    x=box.border_box_x(),
                    y=box.border_box_y(),
                    width=box.border_width(),
                    height=box.border_height(),
                    pdf_x=box.content_box_x() * PT_PER_PX,
                    pdf_top=height_pt - box.content_box_y() * PT_PER_PX,
                    pdf_width=box.width * PT_PER_PX,
                    pdf_height=box.height * PT_PER_PX,
                )
            )
    return marks


LAYER_NAME = "BdgLayer"


def write_pages(
    document: Document,
    pages: Sequence[Any],
    *,
    layers: Sequence[Any] = (),
    layer_of: Sequence[int | None] | None = None,
    drawings: Sequence[bytes | None] | None = None,
) -> bytes:
    """Write laid-out ``pages`` (from one or more :func:`layout` documents of this process) as one PDF, with
    one font subset for them all; call inside :func:`session`. ``document`` gives the metadata (title).

    * ``layers``: pages painted only as the background of other pages: each is written ONCE, as a PDF Form
      XObject, and ``layer_of[i]`` (an index into ``layers``, or None) is drawn under ``pages[i]``. That is how
      a class's certificates share everything they have in common (frame, headings, course, signer): it is
      laid out, drawn and stored once per chunk instead of once per page. Layer pages are not output pages.
    * ``drawings[i]``: raw PDF operators (user space: points, origin bottom-left) painted on ``pages[i]``
      right after its layer, under WeasyPrint's content — e.g. a QR code (``certificates.qr.pdf_operators``),
      which WeasyPrint would otherwise draw by interpreting an SVG path in Python.

    Each output page with a layer gets its own small ``/Resources`` (the shared one + that layer), so a page
    split out of the file carries only its own layer.
    """
    layers = list(layers)
    pages = list(pages)
    if layer_of is not None and len(layer_of) != len(pages):
        raise ValueError("layer_of must have one entry per page")
    if drawings is not None and len(drawings) != len(pages):
        raise ValueError("drawings must have one entry per page")
    if not layers and not any(drawings or ()):
        return document.copy(pages).write_pdf()

    def finisher(_document, out) -> None:
        kids = out.pages["Kids"]
        numbers = list(kids[::3])
        page_dicts = [out.objects[n] for n in numbers]

        def target(reference) -> Any:
            return out.objects[int(bytes(reference).split()[0])]

        shared = target(page_dicts[0]["Resources"])
        forms = []
        for page_dict in page_dicts[: len(layers)]:
            form = target(page_dict["Contents"])
            form.extra.update({"Type": "/XObject", "Subtype": "/Form", "BBox": page_dict["MediaBox"], "Resources": page_dict["Resources"]})
            resources = pydyf.Dictionary(dict(shared))
            resources["XObject"] = pydyf.Dictionary({**shared.get("XObject", {}), LAYER_NAME: form.reference})
            out.add_object(resources)
            forms.append(resources)
            page_dict.clear()  # the layer page itself is dropped from the page tree below
        for i, page_dict in enumerate(page_dicts[len(layers) :]):
            head = []
            layer = layer_of[i] if layer_of is not None else None
            if layer is not None:
                page_dict["Resources"] = forms[layer].reference
                head.append(b"q /%s Do Q" % LAYER_NAME.encode())
            if drawings is not None and drawings[i]:
                head.append(drawings[i])
            if head:
                stream = target(page_dict["Contents"])
                stream.stream[0:0] = head
        if layers:
            del kids[: 3 * len(layers)]
            out.pages["Count"] -= len(layers)

    return document.copy(layers + pages).write_pdf(finisher=finisher)


def render_document(
    html: str,
    *,
    base_url: str | None = None,
    stylesheets: Sequence[str] = (),
    css: str | None = None,
    fetcher: StaticFetcher | None = None,
    expected_pages: int | None = None,
) -> bytes:
    """Render one HTML document with the warm process state. See :func:`html_to_pdf`."""
    with session():
        document = layout(html, base_url=base_url, stylesheets=stylesheets, css=css, fetcher=fetcher, expected_pages=expected_pages)
        return document.write_pdf()


def html_to_pdf(
    html: str,
    *,
    base_url: str | None = None,
    stylesheets: Sequence[str] = (),
    css: str | None = None,
    fetcher: StaticFetcher | None = None,
    expected_pages: int | None = None,
) -> bytes:
    """One HTML string → PDF bytes.

    * ``base_url``: resolves relative URLs; default ``bdg-static:///`` (see the module doc). Any base is fine —
      the fetcher still serves nothing but static assets.
    * ``stylesheets``: static paths (``"css/certificate.css"``) applied after the base stylesheet (fonts);
      parsed once per process. Prefer them to ``<link>``/``<style>`` in the HTML, which are parsed every time.
    * ``css``: extra stylesheet text (an admin-edited template's CSS), cached by content.
    * ``fetcher``: pass a :class:`StaticFetcher` to inspect what was requested.
    * ``expected_pages``: raise :class:`PageCountError` unless the layout has exactly that many pages.

    Raises :class:`PdfError` (a refused or missing resource, a missing font, a page count mismatch).
    """
    return render_document(html, base_url=base_url, stylesheets=stylesheets, css=css, fetcher=fetcher, expected_pages=expected_pages)


def html_to_pdfs(
    htmls: Iterable[str],
    *,
    base_url: str | None = None,
    stylesheets: Sequence[str] = (),
    css: str | None = None,
    expected_pages: Sequence[int] | None = None,
) -> list[bytes]:
    """Several HTML documents → one PDF each, all with the same warm font configuration and stylesheets.

    For a class, make each document multi-page (one page per certificate, up to ~50): one layout pass and one
    font subset per document is what makes batches fast; this function does not merge anything.
    """
    htmls = list(htmls)
    pages = list(expected_pages) if expected_pages is not None else [None] * len(htmls)
    if len(pages) != len(htmls):
        raise ValueError("expected_pages must have one entry per document")
    return [
        render_document(h, base_url=base_url, stylesheets=stylesheets, css=css, expected_pages=p)
        for h, p in zip(htmls, pages, strict=True)
    ]


# --------------------------------------------------------------------------------------------------
# Splitting and merging (pypdf)
# --------------------------------------------------------------------------------------------------


class _Unsupported(Exception):
    """The fast splitter's assumptions do not hold for this file: use the plain pypdf path."""


def split_pages(document: bytes) -> list[bytes]:
    """Every page of ``document`` as its own one-page PDF — split, never rendered again.

    Fast path for WeasyPrint's output (one flat page tree): pypdf reads the file and walks each page's objects
    (its content stream, resources, fonts — not ``/Parent``); the single-page file is those objects under their
    *original numbers* (so no reference is rewritten) — streams as their original bytes, the dictionaries
    WeasyPrint packs in object streams serialised by pypdf — plus a new one-page ``/Pages`` node and catalog
    and a classic cross-reference table. Objects shared by all pages (the chunk's font subset) are serialised
    once per chunk instead of once per page, which is what makes it several times faster than cloning every
    page with ``PdfWriter.add_page`` (:func:`split_pages_pypdf`, used for any other kind of PDF).
    """
    try:
        return _split_fast(document)
    except _Unsupported:
        return split_pages_pypdf(document)


def split_pages_pypdf(document: bytes) -> list[bytes]:
    """The same as :func:`split_pages`, done with ``PdfWriter.add_page`` for each page (general, slower)."""
    from pypdf import PdfReader, PdfWriter

    out = []
    for page in PdfReader(BytesIO(document)).pages:
        writer = PdfWriter()
        writer.add_page(page)
        buffer = BytesIO()
        writer.write(buffer)
        out.append(buffer.getvalue())
    return out


def _split_fast(document: bytes) -> list[bytes]:
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    reader = PdfReader(BytesIO(document))
    if set(reader.xref) - {0}:
        raise _Unsupported("non-zero generations")
    compressed = set(getattr(reader, "xref_objStm", {}) or {})
    table = reader.xref.get(0, {})
    starts = sorted((offset, num) for num, offset in table.items() if offset and num not in compressed)
    end_of_objects = document.rfind(b"startxref")
    located: dict[int, tuple[int, int]] = {}
    for k, (offset, num) in enumerate(starts):
        located[num] = (offset, starts[k + 1][0] if k + 1 < len(starts) else end_of_objects)
    cache: dict[int, bytes] = {}

    def raw(num: int) -> bytes | None:
        """The object as it will be written: original bytes (streams: font files, page contents) or, for an
        object packed in an object stream (WeasyPrint packs every dictionary), pypdf's serialisation."""
        found = cache.get(num)
        if found is None:
            if num in compressed:
                buffer = BytesIO()
                buffer.write(b"%d 0 obj\n" % num)
                reader.get_object(num).write_to_stream(buffer)
                buffer.write(b"\nendobj\n")
                found = buffer.getvalue()
            elif num in located:
                start, stop = located[num]
                found = document[start:stop].rstrip()
                if not found.startswith(b"%d 0 obj" % num) or not found.endswith(b"endobj"):
                    raise _Unsupported(f"object {num} is not where the table says")
                found += b"\n"
            else:
                return None
            cache[num] = found
        return found

    root = reader.trailer.raw_get("/Root")
    info = reader.trailer.raw_get("/Info") if "/Info" in reader.trailer else None
    pages_ref = root.get_object().raw_get("/Pages")
    if not isinstance(root, IndirectObject) or not isinstance(pages_ref, IndirectObject):
        raise _Unsupported("direct catalog or page tree")
    page_nums = []
    for page in reader.pages:
        ref = page.indirect_reference
        parent = page.raw_get("/Parent") if "/Parent" in page else None
        if ref is None or not isinstance(parent, IndirectObject) or parent.idnum != pages_ref.idnum:
            raise _Unsupported("nested page tree")
        page_nums.append(ref.idnum)
    page_set = set(page_nums)
    refs_of: dict[int, set[int]] = {}

    def refs(num: int) -> set[int]:
        found = refs_of.get(num)
        if found is None:
            found = set()
            stack = [reader.get_object(num)]
            while stack:
                item = stack.pop()
                if isinstance(item, IndirectObject):
                    found.add(item.idnum)
                elif isinstance(item, DictionaryObject):
                    stack.extend(v for k, v in item.items() if k != "/Parent")
                elif isinstance(item, ArrayObject):
                    stack.extend(item)
            refs_of[num] = found
        return found

    header = document[: document.index(b"\n", document.index(b"\n") + 1) + 1]  # "%PDF-1.7" + binary comment
    info_num = info.idnum if isinstance(info, IndirectObject) else None
    out = []
    for page_num in page_nums:
        needed, todo = {page_num}, [page_num]
        while todo:
            for ref in refs(todo.pop()):
                if ref in page_set or ref in needed or raw(ref) is None:
                    continue  # another page (a link target) stays out; a dangling reference reads as null
                needed.add(ref)
                todo.append(ref)
        if info_num is not None and raw(info_num) is not None:
            needed.add(info_num)
        buffer = bytearray(header)
        offsets = {}
        for num in sorted(needed):
            offsets[num] = len(buffer)
            buffer += raw(num)
        offsets[pages_ref.idnum] = len(buffer)
        buffer += b"%d 0 obj\n<</Type /Pages /Kids [%d 0 R] /Count 1>>\nendobj\n" % (pages_ref.idnum, page_num)
        offsets[root.idnum] = len(buffer)
        buffer += b"%d 0 obj\n<</Type /Catalog /Pages %d 0 R>>\nendobj\n" % (root.idnum, pages_ref.idnum)
        size = max(offsets) + 1
        xref = len(buffer)
        buffer += b"xref\n0 %d\n" % size
        buffer += b"".join(b"%010d 00000 n \n" % offsets[n] if n in offsets else b"0000000000 65535 f \n" for n in range(size))
        trailer = b"/Size %d /Root %d 0 R" % (size, root.idnum) + (b" /Info %d 0 R" % info_num if info_num in offsets else b"")
        buffer += b"trailer\n<<%s>>\nstartxref\n%d\n%%%%EOF\n" % (trailer, xref)
        out.append(bytes(buffer))
    return out


def merge_pdfs(documents: Iterable[bytes], *, title: str | None = None) -> bytes:
    """Concatenate PDFs, page after page (pypdf). Each document keeps its own font subset."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for document in documents:
        for page in PdfReader(BytesIO(document)).pages:
            writer.add_page(page)
    if title:
        writer.add_metadata({"/Title": title})
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def page_count(document: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(BytesIO(document)).pages)


# --------------------------------------------------------------------------------------------------
# Inspection
# --------------------------------------------------------------------------------------------------


def embedded_fonts(pdf: bytes) -> set[str]:
    """PostScript names of the font programs embedded in the PDF, e.g. ``{"LiberationSerif", "LiberationSerif-Bold"}``.

    Read from each embedded file's own ``name`` table (ID 6), not from the ``/BaseFont`` label WeasyPrint
    derives from the CSS family, so it tells which font *file* was really used. A font without an embedded
    program is reported by its ``/BaseFont`` with a ``"(not embedded)"`` suffix.
    """
    from fontTools.ttLib import TTFont
    from pypdf import PdfReader

    names: set[str] = set()
    seen: set[int] = set()
    for page in PdfReader(BytesIO(pdf)).pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources is not None else None
        if fonts is None:
            continue
        for ref in fonts.get_object().values():
            font = ref.get_object()
            for f in [font, *(d.get_object() for d in font.get("/DescendantFonts", None) or [])]:
                descriptor = f.get("/FontDescriptor")
                if descriptor is None:
                    continue
                descriptor = descriptor.get_object()
                program = descriptor.get("/FontFile2") or descriptor.get("/FontFile3") or descriptor.get("/FontFile")
                if program is None:
                    names.add(str(f.get("/BaseFont", "?")).lstrip("/").split("+", 1)[-1] + " (not embedded)")
                    continue
                key = program.indirect_reference.idnum if program.indirect_reference else id(program)
                if key in seen:
                    continue
                seen.add(key)
                data = program.get_object().get_data()
                try:
                    names.add(TTFont(BytesIO(data), lazy=True)["name"].getDebugName(6) or "?")
                except Exception:  # noqa: BLE001 - not a TrueType/OpenType program (Type 1, CFF): report the label
                    names.add(str(f.get("/BaseFont", "?")).lstrip("/").split("+", 1)[-1])
    return names

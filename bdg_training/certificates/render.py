"""Certificate PDFs from plain snapshots: one on demand, or a class as chunked multi-page documents.

No database and no Flask: the input is the **snapshot** stored with an issued certificate (every printed field,
as printed), so an issued certificate always prints the same, whatever is edited later.

Snapshot keys (strings unless said; values are printed as given, after NFC normalisation):

=================  ========  ==========================================================================
key                required  example
=================  ========  ==========================================================================
governing_body     yes       "UBND THÀNH PHỐ CẦN THƠ"
issuing_body       yes       "SỞ NỘI VỤ"
number             yes       "07/2026/GCN-SNV" (printed "Số: 07/2026/GCN-SNV")
salutation         yes       "Ông" / "Bà" (``certificates.rules.salutation``)
full_name          yes       "Nguyễn Thị Hồng Phương"
date_of_birth      no        "01/01/1980" (dd/mm/yyyy, or a year for community members)
work_unit          no        "Phường Ninh Kiều"
address            no        printed on its own line when present
course_title       yes       "Tập huấn nghiệp vụ về bình đẳng giới…"
topic              no        "Phòng ngừa, ứng phó bạo lực trên cơ sở giới"
course_dates       yes       "từ ngày 24/11/2026 đến ngày 27/11/2026" (:func:`course_dates_line`)
venue              no        "Trung tâm Hội nghị thành phố Cần Thơ"
hours              no        16 (int or str) → "(16 giờ)"
result_line        no        default "Đã hoàn thành khóa tập huấn"
place_date_line    yes       "Cần Thơ, ngày 05 tháng 02 năm 2026" (``vn.place_date_line``)
signer_lines       yes       ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Trần Thị Mỹ Linh"] — the last is the name
                             (``certificates.rules.signer_block``)
verify_url         yes       "https://…/verify/<code>" — encoded in the QR code
verify_code        yes       printed under the QR code
copy_marker        no        "BẢN SAO" for a duplicate
revoked_marker     no        e.g. "ĐÃ THU HỒI" — printed across the page
=================  ========  ==========================================================================

Batches: :func:`render_batch` renders chunks of ≤ ``chunk_size`` certificates, each chunk ONE PDF (one page
per certificate, one font subset), in up to ``workers`` processes; the merged PDF is the chunks concatenated
with pypdf and the ZIP holds each page split out with pypdf (``pdf.split_pages``) — nothing is rendered twice.

A chunk is drawn in two layers (:func:`_layered_pdf`). A class's certificates differ only in a few lines — the
number, "Chứng nhận Bà: <name>", date of birth and unit, the verification code and the QR code — which the
default template puts in fixed-size *slots* (``data-slot`` elements, content in ``{% block slot_… %}``). The
rest of the page (frame, headings, course, signer: ~13 text lines) is laid out and drawn ONCE per chunk and
stored once as a PDF Form XObject that every page paints under its own slots; certificates whose pages differ
outside the slots (another course, a copy marker…) get their own layer. The pages are the very pictures that
:func:`render_one` draws (a test compares them pixel for pixel). The QR code is not an SVG for WeasyPrint to
interpret but PDF path operators written into the page (``qr.pdf_operators``, in the ``data-qr`` box).

Where the time goes (per certificate in a 50-page chunk, 2-core reference machine, no other load; measured in
instructions with valgrind, which the machine's load does not skew): ~52 M instructions ≈ 6–7 ms CPU in all —
WeasyPrint's layout, drawing and PDF writing of the page with its 4 slots ≈ 40 M, the QR code ≈ 10 M
(``qr.qr_matrix`` ~0.75 ms: segno's encoding, faster placement and mask choice), Jinja ≈ 0.2 ms, splitting ≈
0.2 ms; the parent process adds ~0.5 ms of pypdf merging and zipping. Before the layers (every page laid out in
full, the QR code as an SVG path): ~27 ms. See bench/bench_certificates.py.
"""

from __future__ import annotations

import atexit
import functools
import gc
import logging
import math
import multiprocessing
import os
import re
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from markupsafe import Markup, escape

from bdg_training import pdf
from bdg_training.certificates.qr import pdf_operators as qr_pdf_operators
from bdg_training.certificates.qr import qr_matrix, qr_path
from bdg_training.certificates.rules import display_number
from bdg_training.text import fold, nfc
from bdg_training.vn import format_date, place_date_line

__all__ = [
    "DEFAULT_TEMPLATE",
    "REQUIRED_FIELDS",
    "STYLESHEETS",
    "BatchResult",
    "SnapshotError",
    "TemplateError",
    "certificate_context",
    "course_dates_line",
    "render_batch",
    "render_custom",
    "render_html",
    "render_one",
    "render_pdf",
    "sample_snapshot",
    "shutdown_pool",
    "start_pool",
    "warm_up",
    "zip_member_name",
]

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
DEFAULT_TEMPLATE = "certificates/default.html"
DOCUMENT_TEMPLATE = "certificates/_document.html"
PAGE_CSS = "css/certificate-page.css"  # page geometry, for every template
DEFAULT_CSS = "css/certificate.css"  # the default design
STYLESHEETS = (PAGE_CSS, DEFAULT_CSS)

REQUIRED_FIELDS = (
    "governing_body",
    "issuing_body",
    "number",
    "salutation",
    "full_name",
    "course_title",
    "course_dates",
    "place_date_line",
    "signer_lines",
    "verify_url",
    "verify_code",
)
OPTIONAL_FIELDS = {
    "date_of_birth": "",
    "work_unit": "",
    "address": "",
    "topic": "",
    "venue": "",
    "hours": "",
    "result_line": "Đã hoàn thành khóa tập huấn",
    "copy_marker": "",
    "revoked_marker": "",
}
FACT_SEPARATOR = "\u00a0\u00a0\u2013\u00a0\u00a0"  # "  –  ", kept together
MAX_FIELD_LENGTH = 20_000  # anything longer is not a certificate field; refuse rather than lay it out

# Font-size classes by length (characters): long text shrinks so the page keeps its layout; beyond the
# last step the body box clips (CSS overflow: hidden) rather than spill onto another page.
NAME_SIZES = ((30, "name-xl"), (48, "name-l"), (80, "name-m"), (200, "name-s"))
COURSE_SIZES = ((95, "course-l"), (190, "course-m"))


class SnapshotError(ValueError):
    """A snapshot lacks a required field or has a value that cannot be printed."""


class TemplateError(ValueError):
    """An admin-edited template could not be rendered (syntax, sandbox violation, undefined variable)."""


# --------------------------------------------------------------------------------------------------
# Snapshot → template context
# --------------------------------------------------------------------------------------------------


def course_dates_line(start: date, end: date) -> str:
    """"từ ngày 24/11/2026 đến ngày 27/11/2026"; a one-day course → "ngày 24/11/2026"."""
    if end < start:
        raise ValueError("the course ends before it starts")
    if start == end:
        return f"ngày {format_date(start)}"
    return f"từ ngày {format_date(start)} đến ngày {format_date(end)}"


def _size(text: str, steps: Sequence[tuple[int, str]], last: str) -> str:
    for limit, name in steps:
        if len(text) <= limit:
            return name
    return last


def _text(snapshot: Mapping, key: str, default: str = "") -> str:
    value = snapshot.get(key, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise SnapshotError(f"snapshot field {key!r} must be text, got {type(value).__name__}")
    text = nfc(str(value)).strip()
    if len(text) > MAX_FIELD_LENGTH:
        raise SnapshotError(f"snapshot field {key!r} is longer than {MAX_FIELD_LENGTH} characters")
    return text


def _fields(snapshot: Mapping) -> dict:
    """The snapshot's fields checked and normalised (no QR code yet): :class:`SnapshotError` if unusable."""
    if not isinstance(snapshot, Mapping):
        raise SnapshotError("a snapshot is a mapping of field → value")
    missing = [k for k in REQUIRED_FIELDS if snapshot.get(k) in (None, "", [], ())]
    if missing:
        raise SnapshotError(f"snapshot lacks required field(s): {', '.join(missing)}")
    c = {k: _text(snapshot, k) for k in REQUIRED_FIELDS if k != "signer_lines"}
    c.update({k: _text(snapshot, k, default) for k, default in OPTIONAL_FIELDS.items()})
    lines = snapshot["signer_lines"]
    if isinstance(lines, str) or not isinstance(lines, Sequence) or not all(isinstance(x, str) for x in lines):
        raise SnapshotError("snapshot field 'signer_lines' must be a list of text lines")
    c["signer_lines"] = lines = [nfc(x).strip() for x in lines if x and x.strip()]
    if not lines:
        raise SnapshotError("snapshot lacks required field(s): signer_lines")
    return c


class _Context(dict):
    """A certificate's template variables; ``qr_size`` / ``qr_path`` (the inline-SVG QR code that templates
    edited from an earlier default still use) are only computed when a template asks for them."""

    def __missing__(self, key):
        if key in ("qr_size", "qr_path"):
            self["qr_size"], self["qr_path"] = qr_path(self["verify_url"])
            return self[key]
        raise KeyError(key)


# Shrink-to-fit (:func:`_fit`): the width of the body's text column (certificate.css: .body, 297 − 2 × 24 mm)
# in pt, less 4 % for safety; font sizes tried, in pt.
LINE_WIDTH_PT = (297 - 2 * 24) / 25.4 * 72 * 0.96
NAME_POINTS = tuple(range(25, 10, -1))  # recipient line: the name at 25pt … 11pt (then it wraps, 2 lines)
FACT_POINTS = tuple(range(14, 8, -1))  # facts / address line: 14pt … 9pt (then two 7.8pt lines, "fit-2")
RECIPIENT_LABEL_PT = 15


def _fit(width_em: float, fixed_pt: float, points: Sequence[int]) -> int | None:
    """The largest size in ``points`` at which text ``width_em`` wide, after ``fixed_pt`` of other text, fits
    on one line of :data:`LINE_WIDTH_PT`; None if none does."""
    for size in points:
        if fixed_pt + width_em * size <= LINE_WIDTH_PT:
            return size
    return None


def certificate_context(snapshot: Mapping) -> dict:
    """The variables a certificate template sees as ``c`` (plain text only; the template escapes them).

    All snapshot fields (NFC, trimmed; optional ones default to ""), plus: ``number_line`` ("Số: …"),
    ``recipient_label`` ("Chứng nhận Bà:"), ``facts_line`` ("Sinh ngày: 01/01/1980 – Đơn vị công tác: …", the
    parts present), ``address_line`` ("Địa chỉ: …" or ""), ``when_where_line`` ("Thời gian: từ ngày … đến
    ngày … (16 giờ), tại …"), ``signer_titles`` (all signer lines but the last) and ``signer_name`` (the last),
    CSS classes that shrink long text: ``name_fit`` / ``facts_fit`` / ``address_fit`` (measured with the font's
    glyph widths, see certificate.css), ``name_size`` / ``course_size`` (by length); and, computed on demand,
    ``qr_size`` and ``qr_path`` (SVG path of the QR code of ``verify_url``: the default template does not use
    them — render.py draws the code into its ``data-qr`` box). Raises :class:`SnapshotError` listing every
    missing required field.
    """
    c = _Context(_fields(snapshot))
    lines = c["signer_lines"]
    facts_line = FACT_SEPARATOR.join(
        x for x in (c["date_of_birth"] and f"Sinh ngày: {c['date_of_birth']}", c["work_unit"] and f"Đơn vị công tác: {c['work_unit']}") if x
    )
    address_line = f"Địa chỉ: {c['address']}" if c["address"] else ""
    recipient_label = f"Chứng nhận {c['salutation']}:"
    name_pt = _fit(pdf.text_width(c["full_name"], bold=True), pdf.text_width(recipient_label + " ") * RECIPIENT_LABEL_PT, NAME_POINTS)
    facts_pt = _fit(pdf.text_width(facts_line), 0, FACT_POINTS) if facts_line else FACT_POINTS[0]
    address_pt = _fit(pdf.text_width(address_line), 0, FACT_POINTS) if address_line else FACT_POINTS[0]
    c.update(
        signer_lines=lines,
        signer_titles=lines[:-1],
        signer_name=lines[-1],
        number_line=display_number(c["number"]),
        recipient_label=recipient_label,
        facts_line=facts_line,
        address_line=address_line,
        when_where_line=f"Thời gian: {c['course_dates']}"
        + (f" ({c['hours']} giờ)" if c["hours"] else "")
        + (f", tại {c['venue']}" if c["venue"] else ""),
        name_fit=f"fs-{name_pt or NAME_POINTS[-1]}",
        facts_fit=f"fs-{facts_pt}" if facts_pt else "fit-2",
        address_fit=f"fs-{address_pt}" if address_pt else "fit-2",
        name_size=_size(c["full_name"], NAME_SIZES, "name-xs"),
        course_size=_size(c["course_title"], COURSE_SIZES, "course-s"),
    )
    return c


def sample_snapshot(**overrides) -> dict:
    """A complete, realistic snapshot (previews, tests, benchmarks); ``overrides`` replace fields."""
    snapshot = {
        "governing_body": "UBND THÀNH PHỐ CẦN THƠ",
        "issuing_body": "SỞ NỘI VỤ",
        "number": "07/2026/GCN-SNV",
        "salutation": "Bà",
        "full_name": "Nguyễn Thị Hồng Phương",
        "date_of_birth": "01/01/1980",
        "work_unit": "UBND phường Ninh Kiều",
        "address": "",
        "course_title": "Tập huấn nghiệp vụ về bình đẳng giới và phòng ngừa, ứng phó bạo lực trên cơ sở giới",
        "topic": "",
        "course_dates": course_dates_line(date(2026, 1, 24), date(2026, 1, 27)),
        "venue": "Trung tâm Hội nghị thành phố Cần Thơ",
        "hours": 16,
        "result_line": "Đã hoàn thành khóa tập huấn",
        "place_date_line": place_date_line("Cần Thơ", date(2026, 2, 5)),
        "signer_lines": ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Trần Thị Mỹ Linh"],
        "verify_url": "http://127.0.0.1:5000/verify/Xk3pQ9mZt2Lw8RvA",
        "verify_code": "Xk3pQ9mZt2Lw8RvA",
        "copy_marker": "",
        "revoked_marker": "",
    }
    snapshot.update(overrides)
    return snapshot


# --------------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------------

# Autoescape ON for every template (user text is always escaped). The stylesheets are static files served
# through pdf.py's fetcher, never a <style> block in a template: autoescaping a <style> would turn the quotes
# of @font-face into &#34; and silently drop the font.
_ENV = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    auto_reload=False,
)

# Limits for admin-edited templates (sandboxed).
MAX_TEMPLATE_CHARS = 100_000
MAX_CSS_CHARS = 100_000
MAX_PAGE_HTML_CHARS = 1_000_000
MAX_SEQUENCE_RESULT = 100_000


class _CertificateSandbox(SandboxedEnvironment):
    """Jinja's sandbox (no attribute tricks, range ≤ 100 000) plus a cap on ``*``/``**`` results, so that
    ``{{ "x" * 10**9 }}`` fails instead of allocating a gigabyte."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > 64:
                raise SecurityError("exponent too large")
            return left**right
        if isinstance(left, str | list | tuple) and isinstance(right, int) and len(left) * max(right, 0) > MAX_SEQUENCE_RESULT:
            raise SecurityError("result too long")
        if isinstance(right, str | list | tuple) and isinstance(left, int) and len(right) * max(left, 0) > MAX_SEQUENCE_RESULT:
            raise SecurityError("result too long")
        return left * right


_SANDBOX = _CertificateSandbox(autoescape=True, undefined=StrictUndefined)


def _title(contexts: Sequence[dict]) -> str:
    if len(contexts) == 1:
        return f"Giấy chứng nhận {contexts[0]['number']} – {contexts[0]['full_name'][:200]}"
    return f"Giấy chứng nhận ({len(contexts)} bản)"


def _document(pages: Sequence[Markup], contexts: Sequence[dict], style: str = "") -> str:
    return _ENV.get_template(DOCUMENT_TEMPLATE).render(pages=pages, title=_title(contexts), style=Markup(style))


def _compile_custom(template_source: str):
    if not isinstance(template_source, str) or not template_source.strip():
        raise TemplateError("Mẫu giấy chứng nhận trống.")
    if len(template_source) > MAX_TEMPLATE_CHARS:
        raise TemplateError(f"Mẫu giấy chứng nhận quá dài (tối đa {MAX_TEMPLATE_CHARS} ký tự).")
    try:
        return _SANDBOX.from_string(template_source)
    except Exception as exc:  # TemplateSyntaxError and friends: shown to the admin in the preview
        raise TemplateError(f"Lỗi cú pháp mẫu: {exc}") from exc


def _contexts(snapshots: Iterable[Mapping]) -> list[dict]:
    contexts = [certificate_context(s) for s in snapshots]
    if not contexts:
        raise SnapshotError("no certificate to render")
    return contexts


def _html(contexts: Sequence[dict], template_source: str | None) -> str:
    if template_source is None:
        template = _ENV.get_template(DEFAULT_TEMPLATE)
        pages = [Markup(template.render(c=c)) for c in contexts]
    else:
        template = _compile_custom(template_source)
        pages = []
        for c in contexts:
            try:
                html = template.render(c=c)
            except Exception as exc:  # SecurityError, UndefinedError, TypeError… from admin-written code
                raise TemplateError(f"Lỗi khi dựng mẫu: {type(exc).__name__}: {exc}") from exc
            if len(html) > MAX_PAGE_HTML_CHARS:
                raise TemplateError("Mẫu sinh ra nội dung quá dài.")
            # The sandbox's output is markup written by the admin with every value autoescaped.
            pages.append(Markup(html))
    return _document(pages, contexts)


def render_html(snapshots: Iterable[Mapping], *, template_source: str | None = None) -> str:
    """One HTML document, one page per snapshot, with the default template or an admin-edited one
    (``template_source``: the markup of ONE certificate page, variable ``c``; rendered in the sandbox).
    The QR codes are not in it: :func:`render_one` / :func:`render_batch` draw them into the ``data-qr`` boxes."""
    return _html(_contexts(snapshots), template_source)


# --------------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------------

QR_ATTRIBUTE = "data-qr"  # an element with it gets the certificate's QR code drawn in its content box
SLOT_ATTRIBUTE = "data-slot"  # data-slot="x": per-trainee content, the template's {% block slot_x %}
SLOT_BLOCK_PREFIX = "slot_"
PAGE_ATTRIBUTE = "data-page"  # the .page box of _document.html
_NAME_RE = re.compile(r"^[a-z0-9_]{1,40}$")
_ATTRIBUTE_RE = re.compile(r"^[a-zA-Z_][-a-zA-Z0-9_.]*$")
_GEOMETRY_TOLERANCE = 1e-3  # CSS px

log = logging.getLogger(__name__)


_WARM_SAMPLE = False


def warm_up() -> float:
    """Warm this process: fonts, the certificate stylesheets, the Jinja templates, then two sample certificates
    drawn in layers (once per process: Pango's font sizes, WeasyPrint's and the QR code's caches — forked render
    workers inherit all of it). Returns ms spent."""
    global _WARM_SAMPLE
    start = time.perf_counter()
    pdf.warm_up(STYLESHEETS)
    _ENV.get_template(DEFAULT_TEMPLATE)
    _ENV.get_template(DOCUMENT_TEMPLATE)
    _static_template()
    if not _WARM_SAMPLE:
        _WARM_SAMPLE = True
        _pdf([sample_snapshot(), sample_snapshot(number="08/2026/GCN-SNV", salutation="Ông", full_name="Trần Văn Đức")], None, None, layered=True)
    return (time.perf_counter() - start) * 1000


def _qr_drawings(marks: Sequence[pdf.Mark], page_count: int, urls: Sequence[str], where: Sequence[int] | None = None) -> list[bytes | None]:
    """Per output page, the PDF operators of its certificate's QR code in each ``data-qr`` box.
    ``marks`` are the boxes found on the laid-out pages; ``where[i]`` says which laid-out page holds page
    ``i``'s boxes (its layer), by default page ``i`` itself."""
    boxes: dict[int, list[pdf.Mark]] = {}
    for mark in marks:
        boxes.setdefault(mark.page, []).append(mark)
    drawings: list[bytes | None] = []
    for i in range(page_count):
        found = boxes.get(where[i] if where is not None else i)
        if not found:
            drawings.append(None)
            continue
        matrix = qr_matrix(urls[i])
        drawings.append(
            b"\n".join(qr_pdf_operators(matrix, m.pdf_x, m.pdf_top, min(m.pdf_width, m.pdf_height)) for m in found if m.pdf_width > 0 and m.pdf_height > 0)
            or None
        )
    return drawings


def _full_pdf(contexts: Sequence[dict], template_source: str | None, css: str | None, fetcher=None) -> bytes:
    """The general way: the whole HTML laid out page by page, then the QR codes drawn into their boxes."""
    html = _html(contexts, template_source)
    sheets = (PAGE_CSS,) if template_source is not None else STYLESHEETS
    with pdf.session():
        document = pdf.layout(html, stylesheets=sheets, css=css, fetcher=fetcher, expected_pages=len(contexts))
        marks = pdf.find_marks(document.pages, QR_ATTRIBUTE)
        drawings = _qr_drawings(marks, len(contexts), [c["verify_url"] for c in contexts])
        return pdf.write_pages(document, document.pages, drawings=drawings)


# --- a class: shared layers + per-trainee slots ------------------------------------------------------


class _NotLayerable(Exception):
    """The template's slots do not meet the conditions of layered rendering (see certificate.css)."""


@functools.lru_cache(maxsize=1)
def _static_template():
    """The default template with every slot block emptied: the part of a page shared by a class."""
    blocks = [name for name in _ENV.get_template(DEFAULT_TEMPLATE).blocks if name.startswith(SLOT_BLOCK_PREFIX)]
    source = f'{{% extends "{DEFAULT_TEMPLATE}" %}}' + "".join(f"{{% block {name} %}}{{% endblock %}}" for name in blocks)
    return _ENV.from_string(source)


@dataclass(frozen=True)
class _Slot:
    block: str
    tag: str
    attributes: str  # rendered, escaped
    css_class: str
    mark: pdf.Mark


def _slot_plan(layer_pages: Sequence[Any], slot_marks: Sequence[pdf.Mark], page_marks: Sequence[pdf.Mark], blocks) -> tuple[list[list[_Slot]], str]:
    """Per layer page, its slots (measured) and the CSS placing them; :class:`_NotLayerable` when a slot
    could depend on its content or on what surrounds it."""
    from weasyprint.formatting_structure.boxes import BlockBox

    origin = {m.page: (m.box.padding_box_x(), m.box.padding_box_y()) for m in page_marks}
    plan: list[list[_Slot]] = [[] for _ in layer_pages]
    rules = []
    for mark in slot_marks:
        name = mark.element.get(SLOT_ATTRIBUTE)
        box, style = mark.box, mark.box.style
        if not _NAME_RE.match(name or "") or SLOT_BLOCK_PREFIX + name not in blocks:
            raise _NotLayerable(f"slot {name!r} has no block {SLOT_BLOCK_PREFIX}{name}")
        if any(s.block == SLOT_BLOCK_PREFIX + name for s in plan[mark.page]):
            raise _NotLayerable(f"slot {name!r} twice on a page")
        if not isinstance(box, BlockBox) or mark.page not in origin:
            raise _NotLayerable(f"slot {name!r} is not a block inside .page")
        if style["height"] == "auto" or style["overflow"] == "visible":
            raise _NotLayerable(f"slot {name!r} needs a fixed height and overflow: hidden")
        if (style["position"] in ("absolute", "fixed") or style["float"] != "none") and style["width"] == "auto":
            raise _NotLayerable(f"slot {name!r} is shrink-to-fit (no width)")
        attributes = []
        for key, value in mark.element.attrib.items():
            if key == "class":
                continue
            if not _ATTRIBUTE_RE.match(key):
                raise _NotLayerable(f"slot {name!r} has an unusual attribute {key!r}")
            attributes.append(f' {key}="{escape(value)}"')
        css_class = f"bdg-slot-{mark.page}-{name}"
        x0, y0 = origin[mark.page]
        rules.append(
            f".{css_class}{{position:absolute!important;left:{mark.x - x0!r}px!important;top:{mark.y - y0!r}px!important;"
            f"right:auto!important;bottom:auto!important;width:{mark.width!r}px!important;height:{mark.height!r}px!important;"
            "margin:0!important;box-sizing:border-box!important;float:none!important;visibility:visible!important}"
        )
        classes = " ".join(x for x in ((mark.element.get("class") or "").strip(), css_class) if x)
        plan[mark.page].append(_Slot(SLOT_BLOCK_PREFIX + name, box.element_tag, "".join(attributes), escape(classes), mark))
    return plan, "\n".join(rules)


def _check_slots(plan: Sequence[Sequence[_Slot]], layer_of: Sequence[int], slot_pages: Sequence[Any]) -> None:
    """The slots as laid out on their own are where they were measured and inherit the same text style."""
    from weasyprint.css.properties import INHERITED

    marks = pdf.find_marks(slot_pages, SLOT_ATTRIBUTE)
    by_page: dict[int, list[pdf.Mark]] = {}
    for mark in marks:
        by_page.setdefault(mark.page, []).append(mark)
    checked: set[int] = set()
    for i, layer in enumerate(layer_of):
        found = by_page.get(i, [])
        expected = plan[layer]
        if len(found) != len(expected):
            raise _NotLayerable(f"page {i}: {len(found)} slots laid out, {len(expected)} planned")
        for mark, slot in zip(found, expected, strict=True):
            for a, b in ((mark.x, slot.mark.x), (mark.y, slot.mark.y), (mark.width, slot.mark.width), (mark.height, slot.mark.height)):
                if abs(a - b) > _GEOMETRY_TOLERANCE:
                    raise _NotLayerable(f"page {i}: slot {slot.block} moved ({a} ≠ {b})")
            if layer not in checked:
                differs = [p for p in sorted(INHERITED - {"visibility"}) if mark.box.style[p] != slot.mark.box.style[p]]
                if differs:
                    raise _NotLayerable(f"slot {slot.block} inherits {', '.join(differs)} from its surroundings; set them on the slot")
        checked.add(layer)


def _layered_pdf(contexts: Sequence[dict]) -> bytes:
    """A class with the default template, drawn in two layers (:class:`_NotLayerable` if it cannot be).

    1. Each certificate's page without its slots' content (``_static_template``): certificates whose pages
       are then identical — usually the whole class: same issuer, course, signer — share ONE layer page.
    2. Those layer pages are laid out (slots hidden); each slot's box is measured.
    3. Each certificate's page is laid out with its slots only, placed at the measured boxes (generated CSS).
    4. The PDF: every layer written once, as a Form XObject painted under its certificates' pages; the QR
       codes drawn as vector paths into the measured ``data-qr`` boxes.
    Pages are identical to :func:`render_one`'s (a test compares them as pictures); the cost per certificate
    is that of ~4 short text lines instead of ~17 lines, the frame and the QR path.
    """
    template = _ENV.get_template(DEFAULT_TEMPLATE)
    static_template = _static_template()
    layers: dict[str, int] = {}
    layer_of: list[int] = []
    for c in contexts:
        html = static_template.render(c=c)
        layer_of.append(layers.setdefault(html, len(layers)))
    layer_html = _document([Markup(h) for h in layers], contexts)
    with pdf.session():
        layer_document = pdf.layout(layer_html, stylesheets=STYLESHEETS, expected_pages=len(layers), hide=f"[{SLOT_ATTRIBUTE}]")
        try:
            plan, style = _slot_plan(
                layer_document.pages,
                pdf.find_marks(layer_document.pages, SLOT_ATTRIBUTE),
                pdf.find_marks(layer_document.pages, PAGE_ATTRIBUTE),
                template.blocks,
            )
        except pdf.PdfError as exc:
            raise _NotLayerable(str(exc)) from exc
        pages = []
        for c, layer in zip(contexts, layer_of, strict=True):
            context = template.new_context({"c": c})
            pages.append(
                Markup(
                    "".join(
                        f"<{s.tag}{s.attributes} class=\"{s.css_class}\">{''.join(template.blocks[s.block](context))}</{s.tag}>" for s in plan[layer]
                    )
                )
            )
        slot_document = pdf.layout(_document(pages, contexts, style), stylesheets=STYLESHEETS, expected_pages=len(contexts))
        _check_slots(plan, layer_of, slot_document.pages)
        drawings = _qr_drawings(pdf.find_marks(layer_document.pages, QR_ATTRIBUTE), len(contexts), [c["verify_url"] for c in contexts], layer_of)
        return pdf.write_pages(layer_document, slot_document.pages, layers=layer_document.pages, layer_of=layer_of, drawings=drawings)


def _pdf(snapshots: Sequence[Mapping], template_source: str | None, css: str | None, fetcher=None, *, layered: bool = False) -> bytes:
    contexts = _contexts(snapshots)
    if layered and template_source is None and css is None and fetcher is None and len(contexts) > 1:
        try:
            return _layered_pdf(contexts)
        except _NotLayerable as exc:
            log.warning("certificate template cannot be drawn in layers (%s): rendering every page in full", exc)
    return _full_pdf(contexts, template_source, css, fetcher)


def render_pdf(snapshots: Sequence[Mapping], *, layered: bool = True) -> bytes:
    """Several certificates (default template) as ONE multi-page PDF, in this process: in layers (see
    :func:`_layered_pdf`) or, ``layered=False``, each page laid out in full as :func:`render_one` does."""
    return _pdf(snapshots, None, None, layered=layered)


def render_one(snapshot: Mapping, *, template_source: str | None = None, css: str | None = None, fetcher=None) -> bytes:
    """One certificate → a one-page PDF, on demand (~40 ms in a warm process on the 2-core reference machine,
    half of it the per-document cost: HTML parsing, style cascade, font subsets; the first render of a process
    adds the warm-up, ~0.2 s: call :func:`warm_up` at start-up)."""
    return _pdf([snapshot], template_source, css, fetcher)


def render_custom(template_source: str, css: str | None, snapshot: Mapping, *, fetcher=None) -> bytes:
    """Render an admin-edited template (live preview): ``template_source`` is the markup of one certificate
    page, rendered in Jinja's sandbox with autoescape on, variable ``c`` (see :func:`certificate_context`);
    ``css`` replaces the default design (the page geometry and the font stay). URLs in either can only reach
    static assets. Raises :class:`TemplateError` for template errors, ``pdf.PdfError`` for a refused resource
    or a page overflow (more than one page)."""
    if css is not None and len(css) > MAX_CSS_CHARS:
        raise TemplateError(f"CSS quá dài (tối đa {MAX_CSS_CHARS} ký tự).")
    return _pdf([snapshot], template_source, css or None, fetcher)


def _render_chunk(snapshots: Sequence[Mapping], template_source: str | None = None, css: str | None = None) -> tuple[bytes, list[bytes]]:
    """Worker task: ONE multi-page document for the chunk (in layers with the default template), and its pages
    split out (no re-render)."""
    document = _pdf(snapshots, template_source, css, layered=True)
    pages = pdf.split_pages(document)
    if len(pages) != len(snapshots):
        raise pdf.PageCountError(len(snapshots), len(pages))
    return document, pages


@dataclass(frozen=True)
class BatchResult:
    """``merged_pdf``: every certificate, one page each, in input order; ``zip_bytes``: one PDF per
    certificate (names from :func:`zip_member_name`); ``pages``: the page count (== number of snapshots)."""

    merged_pdf: bytes
    zip_bytes: bytes
    pages: int
    names: tuple[str, ...] = ()


_SLUG_RE = re.compile(r"[^a-z0-9]+")


def zip_member_name(snapshot: Mapping) -> str:
    """ASCII file name for a certificate in the ZIP: "07-2026-GCN-SNV_nguyen-thi-hong-phuong.pdf"."""
    number = re.sub(r"[^A-Za-z0-9-]+", "-", fold(str(snapshot.get("number", ""))).upper()).strip("-") or "GCN"
    name = _SLUG_RE.sub("-", fold(str(snapshot.get("full_name", ""))))[:60].strip("-")
    return f"{number[:60]}_{name}.pdf" if name else f"{number[:60]}.pdf"


def _unique_names(snapshots: Sequence[Mapping]) -> list[str]:
    names, seen = [], set()
    for s in snapshots:
        base = zip_member_name(s)
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base[:-4]}_{n}.pdf"
        seen.add(name)
        names.append(name)
    return names


class _Assembler:
    """Builds the merged PDF and the ZIP in certificate order while chunks arrive in any order, so most of
    the parent's pypdf work overlaps the workers' rendering instead of following it."""

    def __init__(self, names: Sequence[str], chunk_sizes: Sequence[int]):
        from pypdf import PdfWriter

        self.names = list(names)
        self.sizes = list(chunk_sizes)
        self.waiting: dict[int, tuple[bytes, list[bytes]]] = {}
        self.next = 0
        self.written = 0
        self.writer = PdfWriter()
        self.zip_buffer = BytesIO()
        # PDFs are already compressed (Flate streams): storing them is as small and much faster.
        self.archive = zipfile.ZipFile(self.zip_buffer, "w", compression=zipfile.ZIP_STORED)

    def add(self, index: int, result: tuple[bytes, list[bytes]]) -> None:
        from pypdf import PdfReader

        self.waiting[index] = result
        while self.next in self.waiting:
            document, pages = self.waiting.pop(self.next)
            if len(pages) != self.sizes[self.next]:
                raise pdf.PageCountError(self.sizes[self.next], len(pages))
            for page in PdfReader(BytesIO(document)).pages:
                self.writer.add_page(page)
            for data in pages:
                self.archive.writestr(self.names[self.written], data)
                self.written += 1
            self.next += 1

    def finish(self) -> tuple[bytes, bytes, int]:
        total = sum(self.sizes)
        if self.written != total or len(self.writer.pages) != total:
            raise pdf.PageCountError(total, len(self.writer.pages))
        self.writer.add_metadata({"/Title": "Giấy chứng nhận", "/Producer": "bdg_training (WeasyPrint, pypdf)"})
        merged = BytesIO()
        self.writer.write(merged)
        self.archive.close()
        return merged.getvalue(), self.zip_buffer.getvalue(), total


def _chunks(items: Sequence, chunk_size: int) -> list[Sequence]:
    """Balanced chunks of at most ``chunk_size``: 60 items by 50 → 30 + 30, not 50 + 10."""
    count = math.ceil(len(items) / chunk_size)
    size = math.ceil(len(items) / count)
    return [items[i : i + size] for i in range(0, len(items), size)]


# --- worker pool ----------------------------------------------------------------------------------

_POOL: ProcessPoolExecutor | None = None
_POOL_KEY: tuple[int, int] | None = None  # (workers, pid)
_POOL_LOCK = threading.Lock()


def _init_worker() -> None:
    """Pool initializer. A forked worker inherits the parent's warm state, already frozen out of the garbage
    collector's reach (see :func:`_executor`); a fresh one (forkserver, spawn) warms up and freezes it here."""
    if not pdf.is_warm():
        warm_up()
        gc.collect()
        gc.freeze()


def _started() -> None:
    """A no-op task: submitting it makes the pool start its processes now."""


def _executor(workers: int) -> ProcessPoolExecutor:
    """A persistent pool (reused by later batches, so workers are started and warmed once).

    Started with ``fork`` from a warm, single-threaded parent: the workers inherit the fonts, stylesheets and
    templates. Just before forking, the parent's objects are frozen (``gc.freeze``: moved out of the garbage
    collector's generations; undone in the parent right after), so the workers' collections never scan them —
    nor write to, hence copy, the memory pages they share with the parent. From a multi-threaded process (a
    threaded web server) ``fork`` is unsafe, so ``forkserver`` is used and each worker warms up in the
    initializer. The processes are started here, not at the first chunk (:func:`start_pool`).
    """
    global _POOL, _POOL_KEY
    with _POOL_LOCK:
        key = (workers, os.getpid())
        if _POOL is not None and _POOL_KEY == key:
            return _POOL
        if _POOL is not None:
            _POOL.shutdown(wait=False, cancel_futures=True)
        methods = multiprocessing.get_all_start_methods()
        forking = "fork" in methods and threading.active_count() == 1
        if forking:
            warm_up()  # before forking: the children start warm
            context = multiprocessing.get_context("fork")
        elif "forkserver" in methods:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
        else:
            context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker)
        if forking:
            gc.collect()
            gc.freeze()
        try:
            for _ in range(workers):  # with fork, the first submit forks every worker at once
                pool.submit(_started)
        finally:
            if forking:
                gc.unfreeze()
        _POOL, _POOL_KEY = pool, key
        return _POOL


def start_pool(workers: int = 2) -> None:
    """Start (and warm) the render worker processes now, so that the first class batch does not wait for
    them; call it at the start of a background-job worker. Idempotent; :func:`shutdown_pool` stops them."""
    _executor(min(workers, os.cpu_count() or 1))


@atexit.register
def shutdown_pool() -> None:
    """Stop the worker processes (they are otherwise kept for the next batch)."""
    global _POOL, _POOL_KEY
    with _POOL_LOCK:
        if _POOL is not None and _POOL_KEY and _POOL_KEY[1] == os.getpid():
            _POOL.shutdown(wait=True, cancel_futures=True)
        _POOL, _POOL_KEY = None, None


def render_batch(
    snapshots: Sequence[Mapping],
    chunk_size: int = 50,
    workers: int = 2,
    on_progress: Callable[[int, int], None] | None = None,
    *,
    template_source: str | None = None,
    css: str | None = None,
) -> BatchResult:
    """A class of certificates → merged PDF + ZIP of one PDF each.

    Chunks of at most ``chunk_size`` (balanced), each ONE multi-page document; more than one chunk and
    ``workers`` > 1 → rendered in a persistent pool of ``min(workers, CPU count)`` processes (kept for the next
    batch; :func:`shutdown_pool` stops it), otherwise in this process. Each chunk's page count must equal its number of certificates (``pdf.PageCountError`` if a
    certificate overflowed its page). ``on_progress(done, total)`` is called with ``(0, total)`` at the start,
    after each chunk (certificates done so far) and with ``(total, total)`` once the merged PDF and the ZIP
    are built. Snapshots are validated up front: one bad snapshot fails the batch before any rendering.
    """
    snapshots = list(snapshots)
    total = len(snapshots)
    if not total:
        raise SnapshotError("no certificate to render")
    if chunk_size < 1 or workers < 1:
        raise ValueError("chunk_size and workers must be ≥ 1")
    for s in snapshots:  # fail fast, in the caller's process, with the snapshot's own error
        _fields(s)
    progress = on_progress or (lambda done, total: None)
    progress(0, total)
    chunks = _chunks(snapshots, chunk_size)
    names = _unique_names(snapshots)
    assembler = _Assembler(names, [len(c) for c in chunks])
    done = 0
    workers = min(workers, os.cpu_count() or 1)  # more processes than cores only adds memory
    if len(chunks) == 1 or workers == 1:
        for i, chunk in enumerate(chunks):
            assembler.add(i, _render_chunk(chunk, template_source, css))
            done += len(chunk)
            if done < total:
                progress(done, total)
    else:
        executor = _executor(workers)
        futures = {}
        try:
            futures = {executor.submit(_render_chunk, chunk, template_source, css): i for i, chunk in enumerate(chunks)}
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    i = futures.pop(future)  # the future holds the chunk's PDFs: let them go once used
                    assembler.add(i, future.result())
                    done += len(chunks[i])
                    if done < total:
                        progress(done, total)
                finished = future = None
        except BrokenProcessPool as exc:
            shutdown_pool()
            raise pdf.PdfError(f"a render worker died ({exc}); the batch was not produced") from exc
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    merged, zipped, pages = assembler.finish()
    progress(total, total)
    return BatchResult(merged_pdf=merged, zip_bytes=zipped, pages=pages, names=tuple(names))

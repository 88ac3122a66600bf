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

Batches: :func:`render_batch` renders chunks of ≤ ``chunk_size`` certificates, each chunk ONE HTML document
(one page per certificate, one layout, one font subset), in up to ``workers`` processes; the merged PDF is the
chunks concatenated with pypdf and the ZIP holds each page split out with pypdf (``pdf.split_pages``) —
nothing is rendered twice.

Where the time goes (CPU per certificate in a 50-page chunk, 2-core reference machine, ~25–30 ms in all):
WeasyPrint layout + drawing of ~17 text lines ≈ 15–18 ms, drawing the QR code's SVG path ≈ 5–6 ms (WeasyPrint
interprets SVG paths in Python), making the QR code ≈ 2 ms (``certificates.qr``: segno's symbol, mask chosen
~3× faster), Jinja ≈ 0.3 ms, splitting ≈ 0.5 ms. See bench/bench_certificates.py.
"""

from __future__ import annotations

import atexit
import math
import multiprocessing
import os
import re
import threading
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from markupsafe import Markup

from bdg_training import pdf
from bdg_training.certificates.qr import qr_path
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
    "sample_snapshot",
    "shutdown_pool",
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


def certificate_context(snapshot: Mapping) -> dict:
    """The variables a certificate template sees as ``c`` (plain text only; the template escapes them).

    All snapshot fields (NFC, trimmed; optional ones default to ""), plus: ``number_line`` ("Số: …"),
    ``facts_line`` ("Sinh ngày: 01/01/1980 – Đơn vị công tác: …", the parts present), ``when_where_line``
    ("Thời gian: từ ngày … đến ngày … (16 giờ), tại …"),
    ``signer_titles`` (all signer lines but the last) and ``signer_name`` (the last), ``qr_size`` and
    ``qr_path`` (SVG path of the QR code of ``verify_url``), ``name_size`` / ``course_size`` (CSS classes
    that shrink long text). Raises :class:`SnapshotError` listing every missing required field.
    """
    c = _fields(snapshot)
    lines = c["signer_lines"]
    size, path = qr_path(c["verify_url"])
    c.update(
        signer_lines=lines,
        signer_titles=lines[:-1],
        signer_name=lines[-1],
        number_line=display_number(c["number"]),
        qr_size=size,
        qr_path=path,
        facts_line=FACT_SEPARATOR.join(
            x for x in (c["date_of_birth"] and f"Sinh ngày: {c['date_of_birth']}", c["work_unit"] and f"Đơn vị công tác: {c['work_unit']}") if x
        ),
        when_where_line=f"Thời gian: {c['course_dates']}"
        + (f" ({c['hours']} giờ)" if c["hours"] else "")
        + (f", tại {c['venue']}" if c["venue"] else ""),
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


def _document(pages: Sequence[Markup], contexts: Sequence[dict]) -> str:
    return _ENV.get_template(DOCUMENT_TEMPLATE).render(pages=pages, title=_title(contexts))


def _compile_custom(template_source: str):
    if not isinstance(template_source, str) or not template_source.strip():
        raise TemplateError("Mẫu giấy chứng nhận trống.")
    if len(template_source) > MAX_TEMPLATE_CHARS:
        raise TemplateError(f"Mẫu giấy chứng nhận quá dài (tối đa {MAX_TEMPLATE_CHARS} ký tự).")
    try:
        return _SANDBOX.from_string(template_source)
    except Exception as exc:  # TemplateSyntaxError and friends: shown to the admin in the preview
        raise TemplateError(f"Lỗi cú pháp mẫu: {exc}") from exc


def render_html(snapshots: Iterable[Mapping], *, template_source: str | None = None) -> str:
    """One HTML document, one page per snapshot, with the default template or an admin-edited one
    (``template_source``: the markup of ONE certificate page, variable ``c``; rendered in the sandbox)."""
    contexts = [certificate_context(s) for s in snapshots]
    if not contexts:
        raise SnapshotError("no certificate to render")
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


# --------------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------------


def warm_up() -> float:
    """Warm this process: fonts, the certificate stylesheets, the Jinja templates. Returns ms spent."""
    ms = pdf.warm_up(STYLESHEETS)
    _ENV.get_template(DEFAULT_TEMPLATE)
    _ENV.get_template(DOCUMENT_TEMPLATE)
    return ms


def _pdf(snapshots: Sequence[Mapping], template_source: str | None, css: str | None, fetcher=None) -> bytes:
    html = render_html(snapshots, template_source=template_source)
    sheets = (PAGE_CSS,) if template_source is not None else STYLESHEETS
    return pdf.html_to_pdf(html, stylesheets=sheets, css=css, fetcher=fetcher, expected_pages=len(snapshots))


def render_one(snapshot: Mapping, *, template_source: str | None = None, css: str | None = None, fetcher=None) -> bytes:
    """One certificate → a one-page PDF, on demand (~50 ms in a warm process on the 2-core reference machine;
    the first render of a process adds the warm-up, ~0.2 s: call :func:`warm_up` at start-up)."""
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
    """Worker task: ONE multi-page document for the chunk, and its pages split out (pypdf, no re-render)."""
    document = _pdf(snapshots, template_source, css)
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
    """Pool initializer: a forked worker inherits the parent's warm state; a fresh one warms up here."""
    warm_up()


def _executor(workers: int) -> ProcessPoolExecutor:
    """A persistent pool (reused by later batches, so workers are started and warmed once).

    Started with ``fork`` from a warm, single-threaded parent (the workers inherit the fonts and stylesheets);
    from a multi-threaded process (a threaded web server) ``fork`` is unsafe, so ``forkserver`` is used and
    each worker warms up in the initializer.
    """
    global _POOL, _POOL_KEY
    with _POOL_LOCK:
        key = (workers, os.getpid())
        if _POOL is not None and _POOL_KEY == key:
            return _POOL
        if _POOL is not None:
            _POOL.shutdown(wait=False, cancel_futures=True)
        methods = multiprocessing.get_all_start_methods()
        if "fork" in methods and threading.active_count() == 1:
            warm_up()  # before forking: the children start warm
            context = multiprocessing.get_context("fork")
        elif "forkserver" in methods:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
        else:
            context = multiprocessing.get_context("spawn")
        _POOL = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker)
        _POOL_KEY = key
        return _POOL


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
                    i = futures[future]
                    assembler.add(i, future.result())
                    done += len(chunks[i])
                    if done < total:
                        progress(done, total)
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

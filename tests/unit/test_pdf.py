"""bdg_training.pdf: the locked-down fetcher, the font, the warm process state, splitting. No app, no database."""

from __future__ import annotations

import os
import unicodedata
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from bdg_training import pdf

LIBERATION = pdf.EXPECTED_BASE_FONTS


def text_of(document: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(document)).pages)


@pytest.fixture
def fresh_state():
    """Tests that break the process state (fonts) get a clean one before and after."""
    pdf.reset()
    yield
    pdf.reset()


# --- the fetcher -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "http://127.0.0.1:5000/static/css/app.css",
        "https://example.com/logo.png",
        "ftp://example.com/x.css",
        "data:text/css,body{color:red}",
        "data:image/svg+xml;base64,PHN2Zy8+",
        "javascript:alert(1)",
        "bdg-static:///../../../../etc/passwd",
        "bdg-static:///static/../../pdf.py",
        "bdg-static:///%2e%2e/%2e%2e/config.py",
        "bdg-static:///css/..%2f..%2fpdf.py",
        "bdg-static://evil.example/css/app.css",
        "bdg-static:///css/app.css%00.png",
        "bdg-static:///css\\..\\..\\pdf.py",
        "bdg-static:///",
        "bdg-static:///css/does-not-exist.css",
        "bdg-static:///js/app.js",  # not a type a document may load
        "bdg-font:../../../etc/passwd",
        "bdg-font:DejaVuSerif.ttf",
        "/etc/passwd",
        "",
    ],
)
def test_fetcher_refuses_everything_but_static_assets(url):
    fetcher = pdf.StaticFetcher()
    with pytest.raises(pdf.AssetRefused):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_fetcher_refuses_before_touching_the_file_system(monkeypatch):
    opened = []
    real_read_bytes = Path.read_bytes

    def spy(self):
        opened.append(str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", spy)
    pdf._read.cache_clear()
    for url in ("file:///etc/passwd", "bdg-static:///../../../../etc/passwd", "http://localhost/etc/passwd"):
        with pytest.raises(pdf.AssetRefused):
            pdf.read_asset(url)
    assert opened == []


def test_fetcher_serves_static_files_by_scheme_slash_static_or_relative_path():
    expected = (pdf.STATIC_DIR / "css" / "certificate.css").read_bytes()
    for url in ("bdg-static:///css/certificate.css", "bdg-static:///static/css/certificate.css", "bdg-static:css/certificate.css"):
        response = pdf.StaticFetcher().fetch(url)
        assert response.read() == expected
        assert response.content_type == "text/css"


def test_a_symlink_out_of_the_static_folder_is_refused(tmp_path, monkeypatch):
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "ok.css").write_text("p { color: red }")
    secret = tmp_path / "secret.css"
    secret.write_text("secret")
    (static / "css" / "link.css").symlink_to(secret)
    monkeypatch.setattr(pdf, "STATIC_DIR", static)
    assert pdf.read_asset("bdg-static:///css/ok.css")[0] == b"p { color: red }"
    with pytest.raises(pdf.AssetRefused, match="outside"):
        pdf.read_asset("bdg-static:///css/link.css")


def test_only_the_four_liberation_serif_files_are_served_as_fonts():
    for name in pdf.FONT_FILES:
        data, mime = pdf.read_asset(f"bdg-font:{name}")
        assert data[:4] in (b"\x00\x01\x00\x00", b"true") and mime == "font/ttf"


def test_a_document_pointing_outside_fails_loudly_and_reads_nothing():
    fetcher = pdf.StaticFetcher()
    html = '<p>x</p><img src="file:///etc/passwd"><link rel="stylesheet" href="https://example.com/x.css">'
    with pytest.raises(pdf.PdfError, match="refused"):
        pdf.html_to_pdf(html, fetcher=fetcher)
    assert fetcher.refused and all(not u.startswith("bdg-") for u in fetcher.refused)


def test_lenient_mode_skips_refused_resources_and_still_renders():
    fetcher = pdf.StaticFetcher(strict=False)
    document = pdf.html_to_pdf('<p>Xin chào</p><img src="file:///etc/passwd">', fetcher=fetcher)
    assert "Xin chào" in text_of(document)
    assert fetcher.refused == ["file:///etc/passwd"]


def test_relative_and_slash_static_urls_resolve_to_static_assets():
    fetcher = pdf.StaticFetcher()
    pdf.html_to_pdf('<link rel="stylesheet" href="/static/css/certificate-page.css"><p>x</p>', fetcher=fetcher)
    pdf.html_to_pdf('<link rel="stylesheet" href="css/certificate-page.css"><p>x</p>', fetcher=fetcher)
    assert fetcher.requested == ["bdg-static:///static/css/certificate-page.css", "bdg-static:///css/certificate-page.css"]
    assert fetcher.refused == []


# --- fonts -----------------------------------------------------------------------------------------

VIETNAMESE = "ẪẶỮỰĐ ẫặữựđ — Nguyễn Thị Hồng Phương, Cần Thơ"


def test_the_pdf_embeds_liberation_serif_and_nothing_else():
    html = f"<p>{VIETNAMESE}</p><p><b>{VIETNAMESE}</b></p><p><i>{VIETNAMESE}</i></p><p><b><i>{VIETNAMESE}</i></b></p>"
    document = pdf.html_to_pdf(html)
    assert pdf.embedded_fonts(document) == LIBERATION
    text = text_of(document)
    assert unicodedata.normalize("NFC", text) == text
    assert VIETNAMESE in text


def test_a_missing_font_fails_loudly_with_the_install_command(fresh_state, tmp_path, monkeypatch):
    monkeypatch.setattr(pdf, "FONT_DIRS", (tmp_path,))
    monkeypatch.delenv("BDG_PDF_FONT_DIR", raising=False)
    with pytest.raises(pdf.FontMissingError, match="apt-get install -y fonts-liberation2"):
        pdf.html_to_pdf("<p>x</p>")
    with pytest.raises(pdf.FontMissingError, match="fonts-liberation2"):
        pdf.warm_up()


def test_a_font_that_is_not_liberation_serif_is_detected_by_the_warm_up_probe(fresh_state, tmp_path, monkeypatch):
    """A wrong file behind the font name (a silent fallback in disguise) is caught by the probe."""
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
    if not dejavu.exists():
        pytest.skip("DejaVu Serif not installed")
    for name in pdf.FONT_FILES:
        (tmp_path / name).symlink_to(dejavu)
    monkeypatch.setenv("BDG_PDF_FONT_DIR", str(tmp_path))
    with pytest.raises(pdf.FontMissingError, match="embeds"):
        pdf.warm_up()


def test_warm_up_builds_the_state_once_and_the_temporary_font_folder_is_removed(fresh_state):
    assert not pdf.is_warm()
    pdf.warm_up()
    assert pdf.is_warm()
    state = pdf._STATE
    folder = pdf.font_folder()
    assert folder is not None and folder.is_dir() and folder.name.startswith("weasyprint-")
    pdf.html_to_pdf("<p>một</p>")
    pdf.html_to_pdf("<p>hai</p>", stylesheets=("css/certificate-page.css",))
    assert pdf._STATE is state and pdf.font_folder() == folder  # reused, not rebuilt
    pdf.reset()
    assert not folder.exists()


def test_the_cleanup_of_a_fork_leaves_the_parents_font_folder_alone(fresh_state, monkeypatch):
    pdf.warm_up()
    folder = pdf.font_folder()
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as seen from a forked worker
    pdf._cleanup()
    assert folder.exists()


# --- documents ---------------------------------------------------------------------------------------


def test_named_stylesheets_are_applied_and_cached():
    document = pdf.html_to_pdf('<div class="page">a</div><div class="page">b</div>', stylesheets=("css/certificate-page.css",), expected_pages=2)
    page = PdfReader(BytesIO(document)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 595)  # A4 landscape
    assert len(pdf._STATE.named) >= 1


def test_expected_pages_is_checked():
    with pytest.raises(pdf.PageCountError) as error:
        pdf.html_to_pdf('<p>a</p><p style="break-before: page">b</p>', expected_pages=1)
    assert (error.value.expected, error.value.actual) == (1, 2)


def test_several_documents_render_with_the_same_state():
    documents = pdf.html_to_pdfs(["<p>Một</p>", "<p>Hai</p><p style='break-before: page'>Ba</p>"], expected_pages=[1, 2])
    assert [pdf.page_count(d) for d in documents] == [1, 2]
    assert "Ba" in text_of(documents[1])


def test_custom_css_is_applied_through_the_fetcher():
    fetcher = pdf.StaticFetcher()
    with pytest.raises(pdf.PdfError):
        pdf.html_to_pdf("<p>x</p>", css='@import url("file:///etc/passwd"); p { color: red }', fetcher=fetcher)
    document = pdf.html_to_pdf("<p>Đỏ</p>", css="p { color: red; font-weight: bold }")
    assert pdf.embedded_fonts(document) == {"LiberationSerif-Bold"}


def test_page_margin_boxes_with_content_still_print():
    """pdf.py skips WeasyPrint's work on empty page-margin boxes; margin boxes with content must still print."""
    css = '@page { size: A5; @bottom-center { content: "Trang " counter(page) " / " counter(pages) } @top-left-corner { content: "Góc" } }'
    document = pdf.html_to_pdf('<p>Một</p><p style="break-before: page">Hai</p>', css=css, expected_pages=2)
    pages = [page.extract_text() for page in PdfReader(BytesIO(document)).pages]
    assert "Trang 1 / 2" in pages[0] and "Trang 2 / 2" in pages[1] and all("Góc" in p for p in pages)
    assert "Trang" not in text_of(pdf.html_to_pdf("<p>Một</p>"))


def test_layers_are_written_once_and_drawn_under_their_pages():
    with pdf.session():
        layers = pdf.layout('<p>Nền chung Ữ</p><p style="break-before: page">Nền khác</p>', expected_pages=2)
        pages = pdf.layout("".join(f'<p style="break-before: page; margin-top: 3cm">Trang {n}</p>' for n in range(3)), expected_pages=3)
        marks = pdf.find_marks(pages.pages, "style")
        drawing = b"q 0 g 10 10 20 20 re f Q"
        document = pdf.write_pages(layers, pages.pages, layers=layers.pages, layer_of=[0, 1, 0], drawings=[drawing, None, None])
    assert [m.page for m in marks] == [0, 1, 2] and marks[0].y > marks[0].height > 0
    reader = PdfReader(BytesIO(document))
    assert len(reader.pages) == 3
    texts = [" ".join(page.extract_text().split()) for page in reader.pages]
    assert "Nền chung Ữ" in texts[0] and "Trang 0" in texts[0] and "Nền khác" in texts[1] and "Nền chung Ữ" in texts[2]
    forms = [page["/Resources"]["/XObject"].raw_get("/BdgLayer").idnum for page in reader.pages]
    assert forms[0] == forms[2] != forms[1]  # one Form XObject per layer, shared by its pages
    assert drawing in reader.pages[0].get_contents().get_data() and b" re f" not in reader.pages[1].get_contents().get_data()
    assert [pdf.page_count(part) for part in pdf.split_pages(document)] == [1, 1, 1]
    assert pdf.embedded_fonts(document) == {"LiberationSerif"}


# --- splitting and merging ---------------------------------------------------------------------------


def three_pages() -> bytes:
    html = "".join(f'<p style="break-before: page">Trang {n} — Ữ Ự Đ</p>' for n in ("một", "hai", "ba"))
    return pdf.html_to_pdf(html, expected_pages=3)


def test_split_gives_one_valid_single_page_pdf_per_page():
    parts = pdf.split_pages(three_pages())
    assert len(parts) == 3
    for n, part in zip(("một", "hai", "ba"), parts, strict=True):
        reader = PdfReader(BytesIO(part), strict=True)
        assert len(reader.pages) == 1
        assert f"Trang {n}" in reader.pages[0].extract_text()
        assert pdf.embedded_fonts(part) == {"LiberationSerif"}


def test_the_fast_split_and_the_plain_pypdf_split_agree():
    document = three_pages()
    fast, slow = pdf._split_fast(document), pdf.split_pages_pypdf(document)
    assert [text_of(p) for p in fast] == [text_of(p) for p in slow]


def test_a_pdf_the_fast_split_does_not_understand_falls_back_to_pypdf():
    merged = pdf.merge_pdfs([three_pages()])  # written by pypdf: another layout
    parts = pdf.split_pages(merged)
    assert [pdf.page_count(p) for p in parts] == [1, 1, 1]
    assert "Trang ba" in text_of(parts[2])


def test_merge_concatenates_in_order():
    merged = pdf.merge_pdfs([three_pages(), pdf.html_to_pdf("<p>Cuối</p>")], title="Gộp")
    assert pdf.page_count(merged) == 4
    assert text_of(merged).index("Trang hai") < text_of(merged).index("Cuối")


def test_a_named_stylesheet_outside_static_is_refused():
    for path in ("../config.py", "bdg-static:///../../config.py", "file:///etc/passwd", "css/missing.css"):
        with pytest.raises(pdf.PdfError, match="refused"):
            pdf.html_to_pdf("<p>x</p>", stylesheets=(path,))


def test_the_first_render_of_a_process_checks_the_font(fresh_state):
    assert not pdf.is_warm()
    pdf.html_to_pdf("<p>x</p>")
    assert pdf.is_warm()

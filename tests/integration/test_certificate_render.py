"""Certificate PDFs from snapshots (certificates.render, certificates.qr): text, fonts, escaping, batches,
the sandboxed template editor. No database: the renderer works on plain snapshots."""

from __future__ import annotations

import random
import re
import shutil
import string
import subprocess
import tempfile
import unicodedata
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
import segno
from pypdf import PdfReader

from bdg_training import pdf
from bdg_training.certificates import qr, render

NAME = "Nguyễn Thị Ẫn Ặng Ữu Ự Đào"  # Ẫ Ặ Ữ Ự Đ, typed in NFC
COURSE = "Tập huấn nghiệp vụ về bình đẳng giới và phòng ngừa, ứng phó bạo lực trên cơ sở giới"
HOSTILE = '<img src="file:///etc/passwd">'


def pages_text(document: bytes) -> list[str]:
    return [" ".join(p.extract_text().split()) for p in PdfReader(BytesIO(document)).pages]


def snapshot(i: int = 7, **overrides) -> dict:
    code = f"MaXacThuc{i:04d}Ab"
    values = {
        "number": f"{i:02d}/2026/GCN-SNV",
        "full_name": f"{NAME} {i}",
        "course_title": COURSE,
        "verify_url": f"http://127.0.0.1:5000/verify/{code}",
        "verify_code": code,
    }
    values.update(overrides)
    return render.sample_snapshot(**values)


@pytest.fixture(scope="module")
def one() -> bytes:
    return render.render_one(snapshot())


# --- one certificate ---------------------------------------------------------------------------------


def test_the_pdf_text_has_the_exact_nfc_name_number_and_course(one):
    assert unicodedata.is_normalized("NFC", NAME)
    [text] = pages_text(one)
    assert unicodedata.normalize("NFC", text) == text
    assert f"{NAME} 7" in text
    assert "Số: 07/2026/GCN-SNV" in text
    assert COURSE in text
    for line in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "GIẤY CHỨNG NHẬN", "UBND THÀNH PHỐ CẦN THƠ", "SỞ NỘI VỤ"):
        assert line in text
    assert "Cần Thơ, ngày 05 tháng 02 năm 2026" in text
    assert "KT. GIÁM ĐỐC" in text and "PHÓ GIÁM ĐỐC" in text and "Trần Thị Mỹ Linh" in text
    assert "Chứng nhận Bà:" in text and "Sinh ngày: 01/01/1980" in text


def test_one_a4_landscape_page_with_liberation_serif_only(one):
    reader = PdfReader(BytesIO(one))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)
    assert pdf.embedded_fonts(one) == {"LiberationSerif", "LiberationSerif-Bold", "LiberationSerif-Italic"}


QR_BLOCK = re.compile(rb"q 0 g ([\d.]+) 0 0 -[\d.]+ ([\d.]+) ([\d.]+) cm\n((?:\d+ \d+ \d+ 1 re\n)+)f Q")


def drawn_qr(page) -> tuple[tuple[bytes, ...], tuple[float, float, float]]:
    """The QR symbol drawn on a page, read back from its content stream (one rectangle per run of dark
    modules), and (module size, x, y of its top-left corner) in points."""
    [block] = QR_BLOCK.findall(page.get_contents().get_data())
    module, x, y, runs = block
    rows: dict[int, set[int]] = {}
    for start, row, width in re.findall(rb"(\d+) (\d+) (\d+) 1 re", runs):
        rows.setdefault(int(row), set()).update(range(int(start), int(start) + int(width)))
    size = max(rows) + 1
    matrix = tuple(bytes(1 if i in rows.get(r, ()) else 0 for i in range(size)) for r in range(size))
    return matrix, (float(module), float(x), float(y))


def test_the_qr_code_is_drawn_as_vector_rectangles_with_the_code_printed_under_it(one):
    html = render.render_html([snapshot()])
    assert "data-qr" in html and "<svg" not in html and "data:" not in html
    page = PdfReader(BytesIO(one)).pages[0]
    matrix, (module, x, y) = drawn_qr(page)
    url = snapshot()["verify_url"]
    assert matrix == qr.qr_matrix(url) == tuple(bytes(r) for r in segno.make(url, error="m", micro=False).matrix)
    side = module * (len(matrix) + 2 * qr.QUIET_ZONE)
    assert abs(side - 26 / 25.4 * 72) < 0.01  # the symbol and its quiet zone fill the 26 mm box
    assert 60 < x < 200 and 60 < y < 200  # bottom left of the page, above the code
    assert "MaXacThuc0007Ab" in pages_text(one)[0]
    assert b"/Im" not in page.get_contents().get_data()  # …not a raster image


def test_the_qr_code_is_exactly_segnos_symbol():
    """qr.qr_matrix re-does segno's placement and mask choice its own (faster) way: same symbol, every mode
    (byte, numeric, alphanumeric), every length up to version ~30 (version information from 7 on)."""
    rng = random.Random(30)
    alphabets = (string.ascii_letters + string.digits + "-_", string.digits, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 $%*+-./:", "ẪẶỮỰĐ xyz")
    versions = set()
    for n in range(240):
        alphabet = alphabets[n % 4] if n % 5 else alphabets[0]
        code = "".join(rng.choice(alphabet) for _ in range(rng.choice((1, 12, 16, 22, 43, 90, 200, 400, 700))))
        url = code if n % 7 == 0 else f"https://gcn.cantho.gov.vn/verify/{code}" if n % 3 else f"http://127.0.0.1:5000/verify/{code}"
        expected = segno.make(url, error="m", micro=False)
        versions.add(expected.version)
        assert qr.qr_matrix(url) == tuple(bytes(row) for row in expected.matrix), url
    assert min(versions) <= 2 and max(versions) >= 20


def test_user_text_is_escaped_and_never_fetched():
    fetcher = pdf.StaticFetcher()
    document = render.render_one(
        snapshot(full_name=HOSTILE, work_unit='<link rel="stylesheet" href="http://evil.example/x.css">', course_title="</div><style>*{display:none}</style>"),
        fetcher=fetcher,
    )
    [text] = pages_text(document)
    assert HOSTILE in text
    assert "http://evil.example/x.css" in text and "<style>*{display:none}</style>" in text
    assert fetcher.requested == [] and fetcher.refused == []


def test_a_5000_character_name_still_gives_one_correct_page():
    long_name = ("Nguyễn Thị Ẫn Ặng Ữu Ự Đào " * 200)[:5000]
    document = render.render_one(snapshot(full_name=long_name))
    reader = PdfReader(BytesIO(document))
    assert len(reader.pages) == 1
    text = pages_text(document)[0]
    assert "Nguyễn Thị Ẫn Ặng Ữu Ự Đào Nguyễn" in text and "Số: 07/2026/GCN-SNV" in text and "Trần Thị Mỹ Linh" in text
    unbroken = render.render_one(snapshot(full_name="Ự" * 5000))  # no space to break at
    assert len(PdfReader(BytesIO(unbroken)).pages) == 1


def test_duplicate_and_revoked_markers_are_printed():
    text = pages_text(render.render_one(snapshot(copy_marker="BẢN SAO", revoked_marker="ĐÃ THU HỒI")))[0]
    assert "BẢN SAO" in text and "ĐÃ THU HỒI" in text
    assert "BẢN SAO" not in pages_text(render.render_one(snapshot()))[0]


def test_optional_fields_are_left_out_cleanly():
    text = pages_text(render.render_one(snapshot(date_of_birth="", work_unit="", venue="", hours="", topic="Phòng ngừa bạo lực gia đình")))[0]
    assert "Sinh ngày" not in text and "Đơn vị công tác" not in text and ", tại" not in text
    assert "Chủ đề: Phòng ngừa bạo lực gia đình" in text


def test_an_incomplete_snapshot_is_refused_with_every_missing_field():
    broken = snapshot()
    del broken["number"]
    broken["full_name"] = ""
    with pytest.raises(render.SnapshotError, match="number.*full_name|full_name.*number"):
        render.render_one(broken)
    with pytest.raises(render.SnapshotError, match="signer_lines"):
        render.render_one(snapshot(signer_lines="KT. GIÁM ĐỐC"))


def test_course_dates_line():
    from datetime import date

    assert render.course_dates_line(date(2026, 11, 24), date(2026, 11, 27)) == "từ ngày 24/11/2026 đến ngày 27/11/2026"
    assert render.course_dates_line(date(2026, 2, 5), date(2026, 2, 5)) == "ngày 05/02/2026"
    with pytest.raises(ValueError):
        render.course_dates_line(date(2026, 2, 5), date(2026, 2, 4))


def test_zip_member_names_are_ascii_and_unique():
    assert render.zip_member_name(snapshot(number="07/2026/GCN-SNV", full_name="Đặng Thị Ữ")) == "07-2026-GCN-SNV_dang-thi-u.pdf"
    names = render._unique_names([snapshot(1, full_name="A"), snapshot(1, full_name="A")])
    assert names[0] != names[1]


# --- a class ------------------------------------------------------------------------------------------


def check_batch(result: render.BatchResult, snapshots: list[dict]) -> None:
    assert result.pages == len(snapshots)
    merged = PdfReader(BytesIO(result.merged_pdf))
    assert len(merged.pages) == len(snapshots)
    archive = zipfile.ZipFile(BytesIO(result.zip_bytes))
    assert archive.namelist() == list(result.names)
    assert len(archive.namelist()) == len(snapshots)
    for name, s, merged_page in zip(archive.namelist(), snapshots, merged.pages, strict=True):
        member = archive.read(name)
        reader = PdfReader(BytesIO(member))
        assert len(reader.pages) == 1, name
        text = " ".join(reader.pages[0].extract_text().split())
        assert s["full_name"] in text and f"Số: {s['number']}" in text, name
        assert COURSE in text and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Trần Thị Mỹ Linh" in text, name
        assert drawn_qr(reader.pages[0])[0] == qr.qr_matrix(s["verify_url"]), name
        assert s["full_name"] in " ".join(merged_page.extract_text().split())
        assert drawn_qr(merged_page)[0] == qr.qr_matrix(s["verify_url"]), name


def test_a_class_in_worker_processes_gives_merged_pdf_and_zip_of_single_pages():
    snapshots = [snapshot(i) for i in range(1, 61)]  # 3 chunks of 20 over 2 workers
    progress = []
    result = render.render_batch(snapshots, chunk_size=25, workers=2, on_progress=lambda done, total: progress.append((done, total)))
    check_batch(result, snapshots)
    assert progress == [(0, 60), (20, 60), (40, 60), (60, 60)]  # (60, 60) only once the files are built
    assert pdf.embedded_fonts(result.merged_pdf) == {"LiberationSerif", "LiberationSerif-Bold", "LiberationSerif-Italic"}
    render.shutdown_pool()


def test_a_small_class_renders_in_process_as_one_document():
    snapshots = [snapshot(i, full_name=f"Lê Văn Đức {i}") for i in range(1, 6)]
    result = render.render_batch(snapshots, workers=2)
    check_batch(result, snapshots)
    assert render._POOL is None  # no worker process was started for one chunk


def pictures(document: bytes, dpi: int = 50) -> list[bytes]:
    """The pages as grey-scale bitmaps (poppler's pdftoppm), to compare what a reader would see."""
    with tempfile.TemporaryDirectory() as folder:  # pdftoppm writes one file per page under the root given
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-", f"{folder}/page"], input=document, capture_output=True, check=True)
        pages = sorted(Path(folder).glob("page-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        return [p.read_bytes() for p in pages]


def xobjects(page) -> set[str]:
    found = page["/Resources"].get_object().get("/XObject")
    return set(found.get_object()) if found is not None else set()


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (pdftoppm)")
def test_a_class_page_looks_exactly_like_the_certificate_on_demand():
    """A class is drawn in two layers (what all its pages share, once; then each trainee's slots): the pages must
    be the very pictures render_one draws, whatever the name's length, with or without optional lines."""
    snapshots = [
        snapshot(1),
        snapshot(2, full_name="Lê Thị Ẫn Ặng Ữu Ự Đào Nguyễn Thị Hồng Phương Công Tằng Tôn Nữ Bảo Ngọc Minh Khai"),
        snapshot(3, full_name="Đỗ Ữ", date_of_birth="", work_unit=""),
        snapshot(4, work_unit="Hội Liên hiệp Phụ nữ " * 12, address="Số 1 đường Hòa Bình, phường Ninh Kiều"),
        snapshot(5, copy_marker="BẢN SAO"),
        snapshot(6, full_name=HOSTILE, work_unit="</div><style>*{display:none}</style>"),
    ]
    document = render.render_pdf(snapshots)
    reader = PdfReader(BytesIO(document))
    assert len(reader.pages) == len(snapshots)
    assert all(xobjects(page) == {"/BdgLayer"} for page in reader.pages)  # …drawn in layers indeed
    assert pdf.embedded_fonts(document) == {"LiberationSerif", "LiberationSerif-Bold", "LiberationSerif-Italic"}
    expected = [picture for s in snapshots for picture in pictures(render.render_one(s))]
    assert pictures(document) == expected
    assert HOSTILE in " ".join(reader.pages[5].extract_text().split())  # escaped in the slots too


@pytest.mark.parametrize("breaking_css", [".fact { height: auto; }", ".recipient { text-align: inherit; }", ".number { overflow: visible; }"])
def test_a_template_whose_slots_could_move_is_rendered_in_full(monkeypatch, caplog, breaking_css):
    real = pdf._stylesheets
    monkeypatch.setattr(pdf, "_stylesheets", lambda state, sheets, css: real(state, sheets, breaking_css))
    snapshots = [snapshot(1), snapshot(2)]
    document = render.render_pdf(snapshots)
    assert "cannot be drawn in layers" in caplog.text
    reader = PdfReader(BytesIO(document))
    assert [xobjects(page) for page in reader.pages] == [set(), set()]
    for page, s in zip(reader.pages, snapshots, strict=True):
        assert s["full_name"] in " ".join(page.extract_text().split())
        assert drawn_qr(page)[0] == qr.qr_matrix(s["verify_url"])


def test_chunks_are_balanced_and_at_most_chunk_size():
    assert [len(c) for c in render._chunks(list(range(120)), 50)] == [40, 40, 40]
    assert [len(c) for c in render._chunks(list(range(100)), 50)] == [50, 50]
    assert [len(c) for c in render._chunks(list(range(7)), 50)] == [7]


def test_a_bad_snapshot_fails_the_batch_before_rendering():
    with pytest.raises(render.SnapshotError):
        render.render_batch([snapshot(1), {"full_name": "x"}])


def test_a_certificate_that_overflows_its_page_fails_the_batch():
    tall = "<div>{{ c.full_name }}</div>" + "<p>x</p>" * 80
    with pytest.raises(pdf.PageCountError):
        render.render_batch([snapshot(1), snapshot(2)], template_source=tall, css="@page { size: A4; } .page { height: auto; overflow: visible; }")


# --- the admin's template (sandboxed) -----------------------------------------------------------------


def test_render_custom_uses_the_admin_template_with_autoescape():
    source = '<div class="x">{{ c.salutation }} {{ c.full_name }} — {{ c.number_line }}</div>'
    document = render.render_custom(source, ".x { font-size: 20pt; font-weight: bold }", snapshot(full_name=HOSTILE))
    [text] = pages_text(document)
    assert f"Bà {HOSTILE} — Số: 07/2026/GCN-SNV" in text
    assert pdf.embedded_fonts(document) == {"LiberationSerif-Bold"}


@pytest.mark.parametrize(
    "source",
    [
        "{{ c.__class__.__mro__ }}",
        "{{ ''.__class__.__subclasses__() }}",
        "{{ c.full_name.__init__.__globals__ }}",
        "{{ 'x' * 1000000000 }}",
        "{{ 10 ** 100000 }}",
        "{% for i in range(10000000) %}x{% endfor %}",
        "{{ c.nope }}",
        "{% if %}",
        "{% include 'certificates/default.html' %}",
    ],
)
def test_render_custom_refuses_unsafe_or_broken_templates(source):
    with pytest.raises(render.TemplateError):
        render.render_custom(source, "", snapshot())


def test_render_custom_cannot_reach_outside_through_css_or_markup():
    with pytest.raises(pdf.PdfError):
        render.render_custom("<p>{{ c.full_name }}</p>", '@import "file:///etc/passwd";', snapshot())
    with pytest.raises(pdf.PdfError):
        render.render_custom('<img src="https://example.com/x.png">', "", snapshot())
    with pytest.raises(pdf.PdfError):
        render.render_custom('<p style="background: url(/static/../../../config.py)">x</p>', "", snapshot())


def test_render_custom_may_use_static_assets():
    document = render.render_custom('<link rel="stylesheet" href="/static/css/certificate.css"><div class="title">GIẤY CHỨNG NHẬN</div>', "", snapshot())
    assert "GIẤY CHỨNG NHẬN" in pages_text(document)[0]


def test_the_default_template_is_a_valid_custom_template():
    """The editor starts from the default template and stylesheet: they must render the same way."""
    source = (render.TEMPLATES_DIR / render.DEFAULT_TEMPLATE).read_text(encoding="utf-8")
    css = (pdf.STATIC_DIR / render.DEFAULT_CSS).read_text(encoding="utf-8")
    custom = render.render_custom(source, css, snapshot())
    assert pages_text(custom) == pages_text(render.render_one(snapshot()))


def test_the_svg_path_draws_exactly_the_dark_modules():
    import re

    matrix = qr.qr_matrix("http://127.0.0.1:5000/verify/Xk3pQ9mZt2Lw8RvA")
    drawn = [bytearray(len(matrix)) for _ in matrix]
    x = y = 0
    for command, a, b in re.findall(r"([Mmh])(\d+)(?: (\d+)\.5)?", qr.svg_path(matrix)):
        if command == "M":
            x, y = int(a), int(b)
        elif command == "m":
            x += int(a)
        else:
            for i in range(x, x + int(a)):
                drawn[y][i] = 1
            x += int(a)
    assert tuple(bytes(row) for row in drawn) == matrix

"""Certificate PDFs from snapshots (certificates.render, certificates.qr): text, fonts, escaping, batches,
the sandboxed template editor. No database: the renderer works on plain snapshots."""

from __future__ import annotations

import random
import string
import unicodedata
import zipfile
from io import BytesIO

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


def test_the_qr_code_is_an_inline_vector_path_with_the_code_printed_under_it(one):
    html = render.render_html([snapshot()])
    size, path = qr.qr_path(snapshot()["verify_url"])
    assert f'd="{path}"' in html and "<svg" in html and "data:" not in html
    assert "MaXacThuc0007Ab" in pages_text(one)[0]
    content = PdfReader(BytesIO(one)).pages[0].get_contents().get_data()
    assert content.count(b" l\n") + content.count(b" l ") > size  # the modules are drawn as vector strokes
    assert b"/Im" not in content  # …not as a raster image


def test_the_qr_code_is_exactly_segnos_symbol():
    rng = random.Random(30)
    for n in range(120):
        code = "".join(rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(rng.choice((12, 16, 22, 43, 90, 200))))
        url = f"https://gcn.cantho.gov.vn/verify/{code}" if n % 3 else f"http://127.0.0.1:5000/verify/{code}"
        expected = segno.make(url, error="m", micro=False)
        assert qr.qr_matrix(url) == tuple(bytes(row) for row in expected.matrix), url


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
        assert s["full_name"] in " ".join(merged_page.extract_text().split())


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

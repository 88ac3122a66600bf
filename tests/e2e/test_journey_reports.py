"""Journey 7: the city organizer (tochuc.thanhpho, at the root of the unit tree) opens the reports,
asks for the whole of this year for the whole city, and exports the annual report as Excel and as
PDF; both files carry the same sex-disaggregated headline figures as the page.

The figures depend on what the other journeys did to the demo data, so the journey compares the
exports with the page at the same moment rather than with fixed numbers; the year is today's."""

from __future__ import annotations

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from pypdf import PdfReader


def _figures(row) -> list[int]:
    """Nam, Nữ, Tổng of a split row of the page (the "% nữ" cell is left out)."""
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    return [int(c.replace(".", "")) for c in cells[:3]]


def test_city_organizer_exports_the_annual_report(journey):
    page = journey.page
    year = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).year  # the app's "this year"
    journey.login("tochuc.thanhpho")
    journey.menu("Báo cáo")
    assert page.get_by_role("heading", name="Báo cáo thống kê").count() == 1

    # The whole city, the whole year.
    assert page.get_by_label(re.compile("^Đơn vị")).locator("option:checked").inner_text().strip() == "thành phố Cần Thơ"
    page.get_by_label("Năm", exact=True).fill(str(year))
    page.get_by_label("Kỳ", exact=True).select_option(label="Cả năm")
    journey.check_accessibility()
    page.get_by_label("Nhóm đơn vị").focus()
    journey.tab_to("^Xem$", limit=5)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text(f"Năm {year} (01/01/{year} – 31/12/{year})").count() >= 1
    participations = _figures(page.locator("#table-headline tr[data-row='participations']"))
    assert participations[2] > 0 and participations[0] + participations[1] == participations[2]
    journey.check_accessibility()
    journey.shot("report")

    # Excel: one workbook, the period and the unit on it, the same headline figures.
    journey.tab_to("Xuất Excel")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == f"bao-cao-bdg-{year}0101-{year}1231.xlsx"
    with open(download.value.path(), "rb") as handle:
        workbook = load_workbook(io.BytesIO(handle.read()), read_only=True)
    rows = [[cell for cell in row] for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)]
    texts = " ".join(str(cell) for row in rows for cell in row if cell is not None)
    assert "thành phố Cần Thơ" in texts and f"Năm {year}" in texts
    headline = next(row for row in rows if row and row[0] == "Lượt người")
    assert list(headline[1:4]) == participations

    # PDF: the same report, printable.
    with page.expect_download() as download:
        page.get_by_role("link", name="Xuất PDF").click()
    assert download.value.suggested_filename == f"bao-cao-bdg-{year}0101-{year}1231.pdf"
    with open(download.value.path(), "rb") as handle:
        data = handle.read()
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 1
    text = "\n".join(page_.extract_text() for page_ in reader.pages)
    assert "thành phố Cần Thơ" in text and f"Năm {year}" in text
    nam, nu, tong = participations
    assert re.search(rf"Lượt người {nam} {nu} {tong} ", text), text[:800]

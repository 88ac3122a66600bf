"""Journey 5: the signer of Sở Nội vụ reviews the demo's finished city course (left for the signer to
issue), issues every eligible trainee's certificate at once, waits for the print job, and downloads
the merged PDF (one page per certificate) and the ZIP (one PDF per person).

The course is the demo's finished course of the city, which no other journey touches; the course's
dates, and so the certificates', are relative to today."""

from __future__ import annotations

import io
import re
import zipfile

from pypdf import PdfReader

TITLE = "Tập huấn giảng viên nguồn về phòng ngừa bạo lực trên cơ sở giới"


def test_signer_issues_the_class_certificates_and_downloads_the_pdf_and_zip(journey):
    page = journey.page
    page.on("dialog", lambda dialog: dialog.accept())  # "Cấp N giấy chứng nhận?" asks first
    journey.login("nguoiky.snv")
    journey.menu("Giấy chứng nhận", "Giấy chứng nhận")
    journey.check_accessibility()
    journey.shot("courses")
    page.get_by_role("link", name=TITLE).click()

    # The review: who is eligible and why the others are not.
    issue = page.get_by_role("button", name=re.compile(r"Cấp cho tất cả học viên đủ điều kiện \(\d+\)"))
    eligible = int(re.search(r"\((\d+)\)", issue.inner_text()).group(1))
    assert eligible > 5
    assert page.get_by_text("Chưa có điểm kiểm tra sau").count() + page.get_by_text(re.compile(r"Điểm kiểm tra sau .* < 5,00")).count() >= 1
    journey.check_accessibility()
    journey.shot("review")
    journey.tab_to(r"Cấp cho tất cả học viên đủ điều kiện")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # Issued, numbered in the register; the print job runs in the background and the page follows it.
    flash = page.get_by_text(re.compile(rf"Đã cấp {eligible} giấy chứng nhận \(số 01/\d{{4}}/GCN-SNV → {eligible:02d}/\d{{4}}/GCN-SNV\)"))
    assert flash.count() == 1, page.locator("main").inner_text()
    pdf_link = page.get_by_role("link", name=f"Tải PDF gộp để in ({eligible} trang)")
    pdf_link.wait_for(timeout=120_000)
    journey.check_accessibility()
    journey.shot("job-done")

    with page.expect_download() as download:
        pdf_link.click()
    data = _read(download.value)
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == eligible
    first = reader.pages[0].extract_text()
    assert "GIẤY CHỨNG NHẬN" in first and TITLE in " ".join(first.split()) and "01/" in first

    with page.expect_download() as download:
        page.get_by_role("link", name="Tải ZIP (mỗi người một tệp PDF)").click()
    archive = zipfile.ZipFile(io.BytesIO(_read(download.value)))
    names = archive.namelist()
    assert len(names) == eligible and all(name.endswith(".pdf") for name in names)
    assert all(archive.read(name).startswith(b"%PDF-") for name in names)
    assert len(PdfReader(io.BytesIO(archive.read(names[0]))).pages) == 1

    # Back on the review: everyone eligible now holds a certificate; nothing left to issue.
    page.get_by_role("link", name=re.compile(r"HLHPN-\d{4}-\d+")).first.click()
    assert page.get_by_role("button", name=re.compile("Cấp cho tất cả")).count() == 0
    assert page.get_by_role("button", name=f"In tất cả giấy chứng nhận đã cấp ({eligible})").count() == 1
    assert page.locator("td .text-success", has_text="Đã cấp").count() == eligible  # not a red "reason"
    assert page.get_by_text("Đã có giấy chứng nhận còn hiệu lực").count() == 0
    journey.shot("review-after")


def _read(download) -> bytes:
    with open(download.path(), "rb") as handle:
        return handle.read()

"""Journey 6: a stranger checks a certificate. The demo trainee downloads her certificate (issued by
the demo for the finished course of xã Cờ Đỏ); the verification code is printed under the QR code,
whose URL is the public verification page. Someone with no account opens that URL on a phone: the
certificate is valid ("còn hiệu lực"), with the holder and the course — and no date of birth, which
the paper certificate does show.

Uses only demo data no other journey changes (certificates of that course are never revoked)."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

COURSE = "Tập huấn Luật Bình đẳng giới và kỹ năng lồng ghép giới cho cán bộ, công chức xã"
HOLDER = "Thạch Thị Sa Rươl"
BIRTH = "14/09/1987"


def test_a_stranger_opens_the_verification_url_of_a_certificate(journey, browser, live_server):
    page = journey.page
    journey.login("hocvien")
    journey.menu("Giấy chứng nhận của tôi")
    journey.check_accessibility()
    journey.shot("my-certificates")
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải PDF").first.click()
    with open(download.value.path(), "rb") as handle:
        data = handle.read()
    assert data.startswith(b"%PDF-")
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert HOLDER in text and BIRTH in text  # the paper certificate carries the date of birth
    code = re.search(r"Quét mã để xác thực\s+([A-Za-z0-9_-]{12,})", text).group(1)
    url = f"{live_server}/verify/{code}"  # what the QR code beside it encodes (the snapshot's verify_url)
    assert page.get_by_role("link", name="Trang xác thực").first.get_attribute("href") == f"/verify/{code}"
    number = re.search(r"Số: (\S+)", text).group(1)

    # A stranger, on a phone, with no account.
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, locale="vi-VN")
    stranger = context.new_page()
    response = stranger.goto(url)
    assert response.status == 200 and "/login" not in stranger.url
    main = stranger.locator("main").inner_text()
    assert "còn hiệu lực" in main
    assert HOLDER in main and COURSE in main and number in main
    assert BIRTH not in main and "1987" not in main and "Sinh ngày" not in main
    assert stranger.evaluate("document.documentElement.lang") == "vi"
    stranger.screenshot(path=str(journey.folder / "verify-phone.png"), full_page=True)

    # An unknown code says so (404), and the lookup form is keyboard usable and labelled.
    assert stranger.goto(f"{live_server}/verify/MaKhongTonTai123456").status == 404
    assert "Không tìm thấy giấy chứng nhận" in stranger.locator("main").inner_text()
    context.close()
    journey.logout()
    journey.go("/verify/")
    journey.check_accessibility()
    journey.page.get_by_label(re.compile("Mã xác thực")).fill(code)
    journey.tab_to("^Kiểm tra$", limit=5)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == url and "còn hiệu lực" in page.locator("main").inner_text()
    journey.shot("verify-desktop")

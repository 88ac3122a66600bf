"""Journey: QR check-in on a phone while the projected screen counts arrivals; a withdrawal mails
the promoted trainee (read in the development mailbox)."""

from __future__ import annotations

import re

DEMO_TITLE = "Sinh hoạt chuyên đề: thử điểm danh bằng mã QR"
OPEN_TITLE = "Phòng ngừa và ứng phó với bạo lực trên cơ sở giới cho thành viên Ban vì sự tiến bộ của phụ nữ"


def test_a_trainee_checks_in_with_a_phone_and_the_screen_counts_it(journey, phone):
    problems: list[str] = []
    journey.page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "404" not in m.text else None)
    journey.page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 and not r.url.endswith("/favicon.ico") else None
    )
    journey.login("tochuc.codo")
    journey.go("/checkin/")
    journey.page.get_by_role("row", name=re.compile(DEMO_TITLE)).get_by_role("link", name="Màn hình QR").click()
    qr = journey.page.locator("#checkin-qr")
    qr.wait_for(state="visible")
    first_src = qr.get_attribute("src")
    assert first_src.startswith("data:image/svg+xml")
    assert journey.page.locator("#checkin-present").inner_text() == "0"
    journey.check_accessibility()
    journey.shot("screen")
    # What the phone's camera reads from the QR code (the screen's own state endpoint says the same).
    url = journey.page.evaluate("fetch(document.getElementById('checkin-screen').dataset.stateUrl).then(r => r.json()).then(d => d.url)")
    assert url.startswith(journey.base + "/checkin/c/")

    phone.page.goto(url)  # not signed in yet: sign in, then back to the confirmation
    phone.page.get_by_label("Tên đăng nhập hoặc email").fill("hocvien")
    phone.page.get_by_label("Mật khẩu").fill("mat-khau-e2e-2026")
    phone.page.get_by_role("button", name="Đăng nhập").click()
    phone.page.get_by_role("button", name="Xác nhận tôi có mặt").click()
    assert phone.page.get_by_text("Điểm danh thành công").count() == 1
    assert phone.page.get_by_text("Có mặt", exact=True).count() == 1
    phone.shot("checked-in")

    # The screen polls: the count goes to 1 without reloading.
    journey.page.locator("#checkin-present", has_text=re.compile(r"^1$")).wait_for(timeout=10_000)
    journey.shot("screen-counted")
    assert problems == []

    # Scanning again does not count twice.
    phone.page.goto(url)
    phone.page.get_by_role("button", name="Xác nhận tôi có mặt").click()
    assert phone.page.get_by_text("Bạn đã điểm danh buổi này trước đó").count() == 1


def test_a_withdrawal_mails_the_promoted_trainee(journey):
    journey.page.on("dialog", lambda dialog: dialog.accept())
    journey.login("tochuc.codo")
    journey.go("/classes")
    journey.page.get_by_role("link", name=OPEN_TITLE).first.click()
    waiting = journey.page.url + "?status=waitlisted"
    journey.page.goto(waiting)
    head = journey.page.locator("table tbody tr").first.locator("td").nth(1).locator("a").inner_text().strip()
    journey.page.goto(journey.page.url.split("?")[0] + "?status=confirmed")
    journey.page.get_by_role("button", name="Rút").first.click()
    journey.page.wait_for_load_state()
    journey.logout()

    journey.login("admin")
    journey.go("/notifications/mailbox?q=chính thức")
    mail = journey.page.locator("article").first
    assert "Anh/chị đã có chỗ chính thức" in mail.inner_text()
    assert head in mail.inner_text()
    journey.shot("mailbox")

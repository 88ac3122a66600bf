"""Journey: the organizer of xã Cờ Đỏ schedules a course under the year's plan, adds its sessions,
opens registration, sees it on the calendar and in plan vs scheduled; anyone then finds it in the
public catalogue."""

from __future__ import annotations

import re
from datetime import date, timedelta


def _scheduled(page) -> int:
    row = page.locator("tr", has=page.get_by_role("rowheader", name="Số lớp"))
    return int(re.match(r"\s*(\d+)", row.locator("td").nth(1).inner_text()).group(1))


def test_organizer_schedules_a_course_that_the_public_can_find(journey, browser, live_server):
    start = date.today() + timedelta(days=7)  # one week out: registration is open meanwhile
    year = (start + timedelta(days=1)).year  # the course counts in the year of its end date
    title = "Tập huấn kỹ năng lồng ghép giới cho cán bộ ấp (hành trình e2e)"
    journey.login("tochuc.codo")

    nav = journey.page.get_by_role("navigation", name="Điều hướng chính")
    for label in ("Lớp tập huấn", "Kế hoạch", "Lịch"):
        assert nav.get_by_role("link", name=label, exact=True, include_hidden=True).count() == 1, label
    assert nav.get_by_role("link", name="Chủ đề", exact=True, include_hidden=True).count() == 0

    # The year's plans: only xã Cờ Đỏ's subtree, with planned vs scheduled.
    journey.menu("Tập huấn", "Kế hoạch")
    journey.go(f"/courses/plans?year={year}")
    assert journey.page.get_by_text("Vĩnh Thạnh").count() == 0
    journey.check_accessibility()
    journey.page.get_by_role("link", name="xã Cờ Đỏ", exact=True).first.click()
    before = _scheduled(journey.page)
    journey.shot("plan")

    # Schedule a course under that plan.
    journey.page.get_by_role("link", name="Lên lịch lớp mới").click()
    journey.check_accessibility()
    page = journey.page
    page.get_by_label("Tên lớp").fill(title)
    page.get_by_label("Chủ đề").select_option(label="Luật Bình đẳng giới và kỹ năng lồng ghép giới")
    page.get_by_label("Địa điểm").fill("Hội trường UBND xã Cờ Đỏ")
    page.get_by_label("Ngày bắt đầu").fill(start.strftime("%d/%m/%Y"))
    page.get_by_label("Ngày kết thúc").fill((start + timedelta(days=1)).strftime("%d/%m/%Y"))
    page.get_by_label("Số học viên tối đa").fill("40")
    page.get_by_label("Mở đăng ký từ").fill((date.today() - timedelta(days=1)).strftime("%d/%m/%Y 07:00"))
    page.get_by_label("Hạn đăng ký").fill((start - timedelta(days=3)).strftime("%d/%m/%Y 17:00"))
    page.get_by_label("Cán bộ", exact=True).check()
    journey.shot("course-form")
    page.get_by_role("button", name="Tạo lớp").click()
    assert page.get_by_text("Đã tạo lớp").count() == 1

    # Two sessions; the form proposes the next day each time.
    for trainer in ("ThS. Nguyễn Thị Thanh Tâm", "Trần Văn Phúc"):
        page.get_by_role("link", name="Thêm buổi học").click()
        journey.check_accessibility()
        page.get_by_label("Giảng viên / báo cáo viên").fill(trainer)
        page.get_by_role("button", name="Lưu").click()
        assert page.get_by_text("Đã thêm buổi học.").count() == 1
    assert page.get_by_role("heading", name="Buổi học (2)").count() == 1

    page.get_by_role("button", name="Mở đăng ký").click()
    assert page.get_by_text("Đang mở đăng ký").count() >= 1
    journey.shot("course-open")

    # On the month calendar.
    journey.go(f"/courses/calendar?month={start:%Y-%m}")
    assert page.get_by_role("heading", name=f"Lịch học · Tháng {start:%m/%Y}").count() == 1
    assert page.locator(".calendar-event", has_text=title).count() == 2  # one per session
    journey.check_accessibility()
    journey.shot("calendar")

    # Plan vs scheduled: one more course on the schedule.
    journey.go(f"/courses/plans?year={year}")
    page.get_by_role("link", name="xã Cờ Đỏ", exact=True).first.click()
    assert _scheduled(page) == before + 1
    assert page.get_by_role("link", name=title).count() == 0 and page.get_by_text(title).count() == 1

    # Anyone, not logged in, finds it in the catalogue.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    anonymous = context.new_page()
    anonymous.goto(live_server + "/")
    anonymous.get_by_role("link", name="Lớp đang mở đăng ký").click()
    anonymous.get_by_role("link", name=title).click()
    assert anonymous.get_by_text("Hội trường UBND xã Cờ Đỏ").count() >= 1
    assert anonymous.locator("li.list-group-item").count() == 2
    ics = anonymous.get_by_role("link", name="Thêm vào lịch (.ics)").get_attribute("href")
    response = anonymous.request.get(live_server + ics)
    assert response.ok and response.headers["content-type"].startswith("text/calendar")
    assert response.text().count("BEGIN:VEVENT") == 2
    anonymous.screenshot(path=str(journey.folder / "public-course.png"), full_page=True)
    context.close()

"""Journey 3: the organizer of xã Cờ Đỏ takes attendance on the grid of the demo course running
today (sessions yesterday, today and tomorrow), then types the class's paper post-test scores into
one grid — a wrong cell first (nothing is saved), then all of them — and sees the results.

The course is the demo's running course of xã Cờ Đỏ; no other journey touches its attendance or
its post-test (the QR check-in journey has a course of its own)."""

from __future__ import annotations

import re

TITLE = "Kỹ năng phòng, chống bạo lực gia đình cho tổ hòa giải các ấp"
SCORES = ["7,5", "8.25", "10", "6", "4,75", "9", "5"]  # typed as on paper: comma or point


def test_organizer_takes_attendance_and_enters_paper_post_test_scores(journey):
    page = journey.page
    journey.login("tochuc.codo")
    journey.menu("Tập huấn", "Lớp tập huấn")
    page.get_by_role("link", name=TITLE).first.click()
    page.get_by_role("link", name="Danh sách học viên").click()
    page.get_by_role("link", name="Điểm danh", exact=True).click()
    assert page.get_by_role("heading", name=TITLE).count() == 1

    # The grid: yesterday's and today's sessions can be marked, tomorrow's cannot.
    rows = page.locator("table tbody tr")
    people = rows.count()
    assert people > 10
    assert page.locator("select[id^='m-']").count() == 2 * people
    assert page.get_by_label(re.compile(r", buổi 3$")).count() == 0
    journey.check_accessibility()
    journey.shot("attendance-before")

    # Three people did not come today: two absent, one excused.
    present_today = [
        rows.nth(i).locator("th").inner_text().strip()
        for i in range(people)
        if rows.nth(i).locator("td").nth(1).locator("select").input_value() == "present"
        and rows.nth(i).locator("td").nth(0).locator("select").input_value() == "present"
    ][:3]
    assert len(present_today) == 3
    for name, status in zip(present_today, ("Vắng", "Vắng", "Vắng có phép"), strict=True):
        page.get_by_label(f"{name}, buổi 2", exact=True).select_option(label=status)
    page.get_by_label(f"{present_today[-1]}, buổi 2", exact=True).focus()
    journey.tab_to("Lưu điểm danh", limit=3 * people + 10)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text("Đã lưu điểm danh (3 thay đổi).").count() == 1
    for name in present_today:
        row = page.get_by_role("row", name=re.compile("^" + re.escape(name)))
        assert "50% (1/2)" in row.inner_text()
    assert page.get_by_label(f"{present_today[0]}, buổi 2", exact=True).input_value() == "absent"
    assert page.get_by_label(f"{present_today[2]}, buổi 2", exact=True).input_value() == "excused"
    journey.shot("attendance-saved")

    # Paper post-test scores for the class, on one grid.
    page.get_by_role("link", name="Thông tin lớp").click()
    page.get_by_role("link", name="Nhập điểm trên giấy").click()
    assert page.get_by_role("heading", name="Nhập điểm bài làm trên giấy").count() == 1
    journey.check_accessibility()
    names = [page.locator("table tbody tr").nth(i).locator("td").nth(1).inner_text().split("\n")[0].strip() for i in range(people)]
    cells = [page.get_by_label(f"Điểm cuối khóa của {name}", exact=True) for name in names]
    assert all(cell.input_value() == "" for cell in cells)  # no post-test yet

    # A slip of the pen: 11 is refused, and nothing at all is saved.
    cells[0].fill("11")
    for cell, score in zip(cells[1:], SCORES[1:], strict=False):
        cell.fill(score)
    page.get_by_role("button", name="Lưu bảng điểm").click()
    page.wait_for_load_state()
    assert page.locator(".is-invalid").count() == 1
    assert page.get_by_label(f"Điểm cuối khóa của {names[0]}", exact=True).get_attribute("aria-invalid") == "true"
    journey.shot("scores-error")

    # Fixed; everyone else sat the test too (a few in ink that reads 6).
    typed = [SCORES[i] if i < len(SCORES) else "6" for i in range(people)]
    page.get_by_label(f"Điểm cuối khóa của {names[0]}", exact=True).fill(typed[0])
    for name, score in zip(names[len(SCORES) :], typed[len(SCORES) :], strict=True):
        page.get_by_label(f"Điểm cuối khóa của {name}", exact=True).fill(score)
    page.get_by_label(f"Điểm cuối khóa của {names[-1]}", exact=True).focus()
    journey.tab_to("Lưu bảng điểm", limit=5)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text(f"Đã lưu điểm: {people} điểm mới, 0 điểm sửa, 0 điểm xóa.").count() == 1
    assert page.get_by_label(f"Điểm cuối khóa của {names[0]}", exact=True).input_value() == "7,50"
    assert page.get_by_label(f"Điểm cuối khóa của {names[1]}", exact=True).input_value() == "8,25"
    journey.shot("scores-saved")

    # The results: the class now has post-test scores beside the pre-test.
    page.get_by_role("link", name="Xem kết quả").click()
    journey.check_accessibility()
    first = page.get_by_role("row", name=re.compile(re.escape(names[0]))).last.inner_text()
    assert "7,50" in first and "Đạt" in first  # the post-test just typed
    low = page.get_by_role("row", name=re.compile(re.escape(names[4]))).last.inner_text()
    assert "4,75" in low and "Chưa đạt" in low  # below the pass mark of 5,00
    journey.shot("results")

"""Journey 2: on a phone, a person finds a full open course in the public catalogue, registers as a
guest (account + registration in one step) and lands on the waiting list; the organizer withdraws a
confirmed trainee on a computer; the person's phone then shows "Đã xác nhận".

The course is this journey's own (two seats, both taken), so no other journey's withdrawals or
registrations move this person's place in line; every date is relative to today."""

from __future__ import annotations

import re
from datetime import time, timedelta

from sqlalchemy import select

TITLE = "Kỹ năng truyền thông về bình đẳng giới cho tổ trưởng tổ phụ nữ (e2e danh sách chờ)"
PHONE = "0913 202 468"


def _full_course(build) -> dict:
    from bdg_training.courses.models import Topic
    from bdg_training.courses.services import local_to_utc, local_today
    from bdg_training.extensions import db
    from bdg_training.units.models import Unit

    with build() as make:
        codo = db.session.scalar(select(Unit).where(Unit.kind == "xa", Unit.name == "Cờ Đỏ"))
        topic = db.session.scalar(select(Topic).where(Topic.name == "Luật Bình đẳng giới và kỹ năng lồng ghép giới"))
        today = local_today()
        start = today + timedelta(days=12)
        course = make.course(
            codo,
            topic=topic,
            title=TITLE,
            code="E2E-CHO",
            status="open",
            capacity=2,
            start_date=start,
            end_date=start,
            sessions=[(start, "07:30", "11:00"), (start, "13:30", "16:30")],
            reg_opens_at=local_to_utc(today - timedelta(days=2), time(7, 0)),
            reg_closes_at=local_to_utc(today + timedelta(days=7), time(17, 0)),
            venue="Nhà văn hóa ấp Thới Hòa",
            target_groups=["hoi_vien", "nguoi_dan"],
        )
        seated = [make.trainee(name, commit=False) for name in ("Trần Thị Bích Ngọc", "Lê Văn Hiếu")]
        for trainee in seated:
            make.enrollment(course, trainee, commit=False)
        return {"id": course.id, "seated": [t.full_name for t in seated]}


def test_a_guest_joins_the_waiting_list_on_a_phone_and_is_promoted(phone, journey, build):
    course = _full_course(build)
    page = phone.page

    # The public catalogue, on a phone: find the course, open it, register.
    phone.go("/")
    page.get_by_role("link", name="Lớp đang mở đăng ký").first.click()
    page.get_by_label("Tìm theo tên lớp").fill("danh sách chờ")
    page.get_by_role("button", name="Tìm").click()
    phone.check_accessibility()
    phone.shot("catalogue")
    page.get_by_role("link", name=TITLE).click()
    assert page.get_by_text("Số chỗ").count() == 1
    phone.shot("course")
    page.get_by_role("link", name="Đăng ký tham gia").click()

    # The guest form: the registration window is shown in Vietnam time, the form is labelled.
    closes = page.get_by_role("status").inner_text()
    assert "Đang mở đăng ký đến 17:00 ngày" in closes, closes  # Vietnam time, as the organizer set it
    assert "Lớp đã đủ chỗ" in closes and "danh sách chờ" in closes
    phone.check_accessibility()
    page.get_by_label("Họ", exact=True).fill("Danh")
    page.get_by_label("Tên đệm").fill("Thị")
    page.get_by_label("Tên", exact=True).fill("Sóc Phia")
    page.get_by_label("Giới tính").select_option(label="Nữ")
    page.get_by_label("Ngày sinh").fill("12/06/1990")
    page.get_by_label("Dân tộc").select_option(label="Khơ-me")
    page.get_by_label("Số điện thoại").fill(PHONE)
    page.get_by_label("Nơi công tác / sinh hoạt").fill("Chi hội Phụ nữ ấp Thới Hòa")
    page.get_by_label("Đối tượng").select_option(label="Hội viên")
    page.get_by_label("Mật khẩu", exact=True).fill("mat-khau-cua-soc-phia")
    page.get_by_label("Nhập lại mật khẩu").fill("mat-khau-cua-soc-phia")
    page.get_by_label(re.compile("Tôi đã đọc thông báo")).check()
    phone.shot("guest-form")
    page.get_by_label("Nhập lại mật khẩu").focus()
    phone.tab_to("Tạo tài khoản và đăng ký", limit=10)
    with page.expect_navigation():
        page.keyboard.press("Enter")  # submitted from the keyboard

    # Account created, signed in, and on the waiting list: first in line.
    assert page.get_by_text("Đã tạo tài khoản (tên đăng nhập: 0913202468)").count() == 1
    assert page.locator(".badge", has_text="Danh sách chờ").count() == 1
    assert page.get_by_text("thứ 1").count() == 1
    phone.check_accessibility()
    phone.shot("waitlisted")
    confirmation = page.url

    # The organizer, on a computer, withdraws one of the two confirmed trainees.
    journey.page.on("dialog", lambda dialog: dialog.accept())
    journey.login("tochuc.codo")
    journey.go(f"/classes/{course['id']}")
    journey.check_accessibility()
    journey.go(f"/classes/{course['id']}?status=waitlisted")
    assert journey.page.get_by_role("row", name=re.compile("Danh Thị Sóc Phia")).count() == 1
    journey.shot("waiting-list")
    journey.go(f"/classes/{course['id']}?status=confirmed")
    leaving = course["seated"][1]
    journey.page.get_by_role("row", name=re.compile(leaving)).get_by_role("button", name="Rút").click()
    journey.page.wait_for_load_state()
    assert journey.page.get_by_text(f"Đã rút {leaving} khỏi lớp. Chuyển từ danh sách chờ vào lớp: Danh Thị Sóc Phia.").count() == 1
    journey.shot("withdrawn")

    # Back on the phone: confirmed.
    page.goto(confirmation)
    assert page.locator(".badge", has_text="Đã xác nhận").count() == 1
    assert page.get_by_text("Bạn đã có chỗ trong lớp").count() == 1
    phone.shot("confirmed")
    page.goto(phone.base + "/me/courses")
    assert page.get_by_role("link", name=TITLE).count() >= 1
    assert page.locator(".badge", has_text="Đã xác nhận").count() >= 1
    phone.check_accessibility()
    phone.shot("my-courses")

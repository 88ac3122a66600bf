"""Journey 4: a trainee takes the pre-test online on a phone — finds it under "Kiểm tra & đánh giá",
starts it, saves part of the answers, answers the rest, submits, and sees the score.

The course, its pre-test (five questions of the demo bank, open from yesterday to the first day of
the course) and the trainee are this journey's own; every date is relative to today."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from tests.factories import PASSWORD

TITLE = "Luật Bình đẳng giới cho cán bộ ấp Thới Thuận (e2e kiểm tra đầu vào)"
USERNAME = "e2e.kiemtra"


def _course_with_a_pretest(build) -> dict:
    from bdg_training.assessments.models import Question
    from bdg_training.courses.models import Topic
    from bdg_training.courses.services import local_to_utc, local_today
    from bdg_training.extensions import db
    from bdg_training.units.models import Unit

    with build() as make:
        codo = db.session.scalar(select(Unit).where(Unit.kind == "xa", Unit.name == "Cờ Đỏ"))
        topic = db.session.scalar(select(Topic).where(Topic.name == "Luật Bình đẳng giới và kỹ năng lồng ghép giới"))
        questions = db.session.scalars(
            select(Question).where(Question.topic_id == topic.id, Question.status == "active").order_by(Question.id).limit(5)
        ).all()
        assert len(questions) == 5, "the demo bank has questions on the law"
        today = local_today()
        start = today + timedelta(days=6)
        course = make.course(codo, topic=topic, title=TITLE, code="E2E-KTDV", status="open", start_date=start, end_date=start, commit=False)
        make.test_form(
            course,
            "pre",
            questions,
            title="Kiểm tra nhận thức đầu khóa",
            time_limit_minutes=15,
            opens_at=local_to_utc(today - timedelta(days=1), time(7, 0)),
            closes_at=local_to_utc(start, time(9, 0)),  # before the first morning
            commit=False,
        )
        user = make.user("trainee", unit=None, username=USERNAME, full_name="Kim Thị Sô Phi", commit=False)
        trainee = make.trainee("Kim Thị Sô Phi", user_id=user.id, unit_id=codo.id, commit=False)
        make.enrollment(course, trainee, commit=False)
        keys = [(q.text, [o.text for o in q.options if o.is_correct], [o.text for o in q.options if not o.is_correct]) for q in questions]
        return {"id": course.id, "keys": keys}


def _answer(page, number: int, texts: list[str]) -> None:
    card = page.locator(f"#cau-{number}")
    for text in texts:
        card.get_by_label(text, exact=True).check()


def test_a_trainee_takes_the_pretest_on_a_phone(phone, build):
    course = _course_with_a_pretest(build)
    keys = course["keys"]
    page = phone.page
    phone.page.on("dialog", lambda dialog: dialog.accept())  # «Nộp bài?» asks first
    phone.login(USERNAME, PASSWORD)

    phone.menu("Kiểm tra & đánh giá")
    card = page.locator(".card", has=page.get_by_role("heading", name=TITLE))
    assert card.get_by_text("Đang mở").count() == 1
    phone.check_accessibility()
    phone.shot("my-tests")
    card.get_by_role("link", name="Vào bài").first.click()

    assert page.get_by_text("5 câu hỏi · 15 phút").count() == 1
    phone.check_accessibility()
    phone.tab_to("Bắt đầu làm bài")
    phone.shot("before-start")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # The questions in the form's order; answer two, save, come back later.
    for number, (text, _right, _wrong) in enumerate(keys, start=1):
        assert text in page.locator(f"#cau-{number} legend").inner_text()
    phone.check_accessibility()
    _answer(page, 1, keys[0][1])
    _answer(page, 2, keys[1][1])
    phone.shot("answering")
    page.get_by_role("button", name="Lưu", exact=True).click()
    assert page.get_by_text("Đã lưu câu trả lời (2/5 câu đã trả lời)").count() == 1
    assert page.get_by_text("2/5 câu đã lưu câu trả lời").count() == 1

    # The rest: one of them wrong on purpose, then submit.
    page.goto(phone.base + "/assessments/me")
    page.locator(".card", has=page.get_by_role("heading", name=TITLE)).get_by_role("link", name="Làm tiếp").click()
    assert page.locator("#cau-1 input:checked").count() == len(keys[0][1])  # the saved answers are there
    _answer(page, 3, keys[2][1])
    _answer(page, 4, keys[3][2][:1])  # wrong
    _answer(page, 5, keys[4][1])
    phone.shot("all-answered")
    with page.expect_navigation():
        page.get_by_role("button", name="Nộp bài").click()

    assert page.get_by_text("Đã nộp bài. Điểm của bạn: 8,00/10.").count() == 1
    assert "Đúng 4,00/5,00 điểm" in page.locator("main").inner_text()
    phone.check_accessibility()
    phone.shot("score")

    # Taking it again is not possible: the list now shows the score.
    page.goto(phone.base + "/assessments/me")
    card = page.locator(".card", has=page.get_by_role("heading", name=TITLE))
    assert card.get_by_text("8,00/10").count() == 1
    assert card.get_by_role("link", name="Xem kết quả").count() == 1
    phone.shot("my-tests-done")

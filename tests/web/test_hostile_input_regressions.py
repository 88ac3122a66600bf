"""The crashes the hostile input sweep (test_hostile_input.py) found, each pinned by an example."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bdg_training.auth.models import User
from bdg_training.database import utcnow
from bdg_training.extensions import db
from tests.conftest import fresh, login


def test_a_test_form_posted_with_only_its_opening_time_is_checked_not_crashed(client, make):
    """The stored closing time came back from SQLite naive, the posted opening time aware: comparing them
    raised TypeError (500). Stored times are now read as aware UTC."""
    unit = make.unit("Cờ Đỏ", kind="xa")
    organizer = make.user("organizer", unit=unit)
    topic = make.topic("Luật Bình đẳng giới")
    course = make.course(unit, topic=topic, status="running")
    question = make.question("Câu hỏi thử?", topic=topic)
    start = utcnow() + timedelta(days=2)
    make.test_form(course, "pre", [question], opens_at=start, closes_at=start + timedelta(hours=2))
    login(client, organizer)
    later = (datetime.now() + timedelta(days=10)).strftime("%d/%m/%Y 09:30")
    response = client.post(f"/assessments/courses/{course.id}/forms/pre", data={"opens_at": later, "question_ids": [str(question.id)]})
    assert response.status_code == 200  # the form again, with the error: it closes before it opens
    assert "Đóng lúc" in response.get_data(as_text=True)


def test_a_user_with_an_email_is_saved_and_a_bad_email_is_refused(client, make):
    """wtforms' Email() needs the email_validator package, which is not installed: any email was a 500."""
    admin = make.user("admin")
    unit = make.unit("Cờ Đỏ", kind="xa")
    login(client, admin)
    data = {"username": "tochuc.moi", "full_name": "Nguyễn Văn Mới", "role": "organizer", "unit_id": unit.id}
    bad = client.post("/admin/users/new", data={**data, "email": "khong-phai-email"})
    assert bad.status_code == 200 and "Địa chỉ email không hợp lệ." in bad.get_data(as_text=True)
    good = client.post("/admin/users/new", data={**data, "email": "moi@example.vn"})
    assert good.status_code in (200, 302)
    fresh()
    assert db.session.scalar(select(User.email).where(User.username == "tochuc.moi")) == "moi@example.vn"


def test_huge_or_odd_numbers_in_filters_and_ids_are_ignored(client, make):
    """/courses/?year=10**40 (date out of range), ?topic=10**40 (database integer overflow), "²" (isdigit
    but not int) and a huge plan id in the course form were 500s."""
    unit = make.unit("Cờ Đỏ", kind="xa")
    organizer = make.user("organizer", unit=unit)
    course = make.course(unit, status="draft", title="Lớp nháp")
    login(client, organizer)
    for query in ({"year": "1" * 40}, {"topic": "1" * 40}, {"unit": "9" * 25}, {"year": "²"}, {"year": "0"}):
        assert client.get("/courses/", query_string=query).status_code == 200, query
    assert client.get("/courses/calendar", query_string={"unit": "1" * 30}).status_code in (200, 404)
    response = client.post(f"/courses/{course.id}/edit", data={"title": "Lớp nháp", "plan_id": "1" * 40})
    assert response.status_code in (200, 302)  # the form with its errors, or saved without a plan
    fresh()
    assert db.session.get(type(course), course.id).plan_id is None


def test_answers_with_odd_ids_are_ignored(client, make):
    """An answer posted as q-<id>=² (a digit for str.isdigit, not for int) was a 500."""
    from bdg_training.assessments import services

    unit = make.unit("Cờ Đỏ", kind="xa")
    topic = make.topic("Luật Bình đẳng giới")
    course = make.course(unit, topic=topic, status="running")
    question = make.question("Câu hỏi thử?", topic=topic)
    make.test_form(course, "pre", [question], opens_at=utcnow() - timedelta(hours=1), closes_at=utcnow() + timedelta(hours=1))
    user = make.user("trainee")
    enrollment = make.enrollment(course, make.trainee("Thạch Thị Sa Rươl", user=user))
    services.start_attempt(user, enrollment, "pre", utcnow())
    db.session.commit()
    login(client, user)
    response = client.post(
        f"/assessments/me/courses/{course.id}/pre/answers",
        data={f"q-{question.id}": "²", "q-²": "1", f"q-{'9' * 30}": "1", "action": "save"},
    )
    assert response.status_code == 302


def test_an_id_beyond_a_database_integer_in_a_url_is_not_found(client):
    for path in ("/courses/catalogue/99999999999999999999", "/register/2147483648", "/verify/" + "x" * 300):
        assert client.get(path).status_code == 404, path

"""QR check-in through the browser: the trainee scans the screen (signing in on the way), the
organizer's screen counts arrivals, the organizer scans personal codes — scoped and CSRF-protected."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bdg_training.checkin import rules
from bdg_training.checkin import views as checkin_views
from bdg_training.enrollment.models import Attendance
from bdg_training.extensions import db
from tests.conftest import fresh, login

DAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 7, 2, 0, 10, tzinfo=UTC)  # 09:00:10 in Vietnam; the session runs 07:30–11:00


@pytest.fixture
def clock(monkeypatch):
    """The views' clock, settable: ``clock.now = …``."""

    class Clock:
        now = NOW

    monkeypatch.setattr(checkin_views, "utcnow", lambda: Clock.now)
    return Clock


@pytest.fixture
def klass(make, clock):
    tree = make.reform_tree()
    course = make.course(
        tree["x_codo"], status="running", start_date=DAY, title="Phòng chống bạo lực gia đình", sessions=[(DAY, "07:30", "11:00")]
    )
    user = make.user("trainee", full_name="Thạch Thị Sa Rươl")
    trainee = make.trainee("Thạch Thị Sa Rươl", user_id=user.id)
    make.enrollment(course, trainee, status="confirmed")
    organizer = make.user("organizer", unit=tree["x_codo"])
    return {"tree": tree, "course": course, "session": course.sessions[0], "user": user, "trainee": trainee, "organizer": organizer}


def _code(session, moment=NOW) -> str:
    return rules.session_token("testing-only", session.id, rules.window_index(moment))


def _present(session) -> int:
    fresh()
    return db.session.scalar(select(func.count(Attendance.id)).where(Attendance.session_id == session.id, Attendance.status == "present"))


def test_a_trainee_scans_signs_in_confirms_and_is_present_once(client, klass):
    session = klass["session"]
    # The phone is not signed in: the scan is remembered, then login, then back to the confirm page.
    response = client.get(f"/checkin/c/{_code(session)}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login?next=/checkin/confirm")
    login(client, klass["user"])
    html = client.get("/checkin/confirm").get_data(as_text=True)
    assert "Phòng chống bạo lực gia đình" in html and "Xác nhận tôi có mặt" in html
    response = client.post("/checkin/confirm")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/checkin/done/{session.id}")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Điểm danh thành công" in html and "Có mặt" in html
    assert _present(session) == 1

    # A replayed scan (same code, still fresh) does not count twice.
    client.get(f"/checkin/c/{_code(session)}")
    client.post("/checkin/confirm")
    assert "Bạn đã điểm danh buổi này trước đó" in client.get(f"/checkin/done/{session.id}").get_data(as_text=True)
    # Replaying the confirm POST without a fresh scan does nothing either.
    assert client.post("/checkin/confirm").status_code == 400
    assert _present(session) == 1


def test_an_expired_or_forged_code_is_refused_and_remembers_nothing(client, klass, clock):
    session = klass["session"]
    login(client, klass["user"])
    expired = _code(session, NOW - timedelta(seconds=60))
    response = client.get(f"/checkin/c/{expired}")
    assert response.status_code == 400 and "đã hết hạn" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    good = _code(session)
    for forged in (good[:-1] + ("A" if good[-1] != "A" else "B"), good.replace(f"{session.id}.", f"{session.id + 1}.", 1), "123"):
        response = client.get(f"/checkin/c/{forged}")
        assert response.status_code == 400 and "không hợp lệ" in response.get_data(as_text=True)
    assert client.post("/checkin/confirm").status_code == 400
    assert _present(session) == 0


def test_the_previous_code_still_works_for_a_slow_scanner(client, klass, clock):
    login(client, klass["user"])
    code = _code(klass["session"])
    clock.now = NOW + timedelta(seconds=35)  # the screen moved on to the next code meanwhile
    assert client.get(f"/checkin/c/{code}").status_code == 302
    assert client.post("/checkin/confirm").status_code == 302
    assert _present(klass["session"]) == 1


def test_a_trainee_of_another_course_is_refused(client, klass, make):
    other = make.course(klass["tree"]["x_codo"], status="running", start_date=DAY)
    user = make.user("trainee")
    make.enrollment(other, make.trainee("Lê Văn Khách", sex="nam", user_id=user.id))
    login(client, user)
    client.get(f"/checkin/c/{_code(klass['session'])}")
    html = client.get("/checkin/confirm").get_data(as_text=True)
    assert "không có tên trong danh sách chính thức" in html and "Xác nhận tôi có mặt" not in html
    html = client.post("/checkin/confirm").get_data(as_text=True)
    assert "không có tên trong danh sách chính thức" in html
    assert _present(klass["session"]) == 0


def test_outside_the_session_window_a_check_in_is_refused(client, klass, clock):
    login(client, klass["user"])
    clock.now = datetime(2026, 12, 7, 4, 30, tzinfo=UTC)  # 11:30, the session ended at 11:00
    client.get(f"/checkin/c/{_code(klass['session'], clock.now)}")
    html = client.post("/checkin/confirm").get_data(as_text=True)
    assert "Buổi học đã kết thúc lúc 11:00 ngày 07/12/2026" in html
    assert _present(klass["session"]) == 0


def test_a_scan_is_remembered_for_ten_minutes_only(client, klass, clock):
    client.get(f"/checkin/c/{_code(klass['session'])}")
    login(client, klass["user"])
    clock.now = NOW + timedelta(minutes=11)
    assert client.post("/checkin/confirm").status_code == 400
    assert _present(klass["session"]) == 0


def test_the_code_names_no_trainee_so_a_staff_account_cannot_check_in(client, klass):
    login(client, klass["organizer"])
    client.get(f"/checkin/c/{_code(klass['session'])}")
    assert "không gắn với học viên" in client.post("/checkin/confirm").get_data(as_text=True)
    assert _present(klass["session"]) == 0


def test_confirm_needs_a_csrf_token(client, klass, csrf_on):
    login(client, klass["user"])
    client.get(f"/checkin/c/{_code(klass['session'])}")
    assert client.post("/checkin/confirm").status_code == 400
    assert _present(klass["session"]) == 0


# --- the organizer's screen -------------------------------------------------------------------------
def test_the_screen_shows_a_rotating_code_and_live_counts_without_inline_script(client, klass, clock):
    login(client, klass["organizer"])
    response = client.get(f"/checkin/sessions/{klass['session'].id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert 'src="data:image/svg+xml' in html and "checkin.js" in html
    assert all('src="' in tag for tag in re.findall(r"<script[^>]*>", html))  # no inline script (CSP)
    assert ' style="' not in html

    state = client.get(f"/checkin/sessions/{klass['session'].id}/state").get_json()
    assert state["state"] == "open" and (state["present"], state["confirmed"]) == (0, 1)
    assert state["url"] == f"http://127.0.0.1:5000/checkin/c/{_code(klass['session'])}"
    assert state["qr"].startswith("data:image/svg+xml")
    clock.now = NOW + timedelta(seconds=30)
    later = client.get(f"/checkin/sessions/{klass['session'].id}/state").get_json()
    assert later["window"] == state["window"] + 1 and later["url"] != state["url"]

    # A trainee checks in; the screen's count follows.
    login(client, klass["user"])
    client.get(later["url"].removeprefix("http://127.0.0.1:5000"))
    client.post("/checkin/confirm")
    login(client, klass["organizer"])
    assert client.get(f"/checkin/sessions/{klass['session'].id}/state").get_json()["present"] == 1


def test_before_the_window_the_screen_shows_no_code(client, klass, clock):
    clock.now = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)  # 06:00
    login(client, klass["organizer"])
    state = client.get(f"/checkin/sessions/{klass['session'].id}/state").get_json()
    assert state["state"] == "before" and state["qr"] is None and "07:00" in state["message"]


def test_screens_are_scoped_and_staff_only(client, klass, make):
    session_id = klass["session"].id
    login(client, make.user("organizer", unit=klass["tree"]["x_vt"]))
    for url in (f"/checkin/sessions/{session_id}", f"/checkin/sessions/{session_id}/state", f"/checkin/sessions/{session_id}/scan"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/checkin/sessions/{session_id}/scan", data={"code": "x"}).status_code == 404
    login(client, klass["user"])
    for url in (f"/checkin/sessions/{session_id}", f"/checkin/sessions/{session_id}/state", "/checkin/", f"/checkin/t/{'x'}"):
        assert client.get(url).status_code == 403, url
    login(client, make.user("admin"))
    assert client.get(f"/checkin/sessions/{session_id}").status_code == 200


def test_the_index_lists_sessions_in_scope(client, klass, make, monkeypatch):
    from bdg_training.courses import services as course_services

    monkeypatch.setattr(course_services, "local_today", lambda now=None: DAY)
    make.course(klass["tree"]["x_vt"], status="running", start_date=DAY, title="Lớp của Vĩnh Thạnh")
    login(client, klass["organizer"])
    html = client.get("/checkin/").get_data(as_text=True)
    assert "Phòng chống bạo lực gia đình" in html and "Lớp của Vĩnh Thạnh" not in html


# --- personal codes ------------------------------------------------------------------------------------
def test_the_organizer_scans_a_personal_code_into_the_form(client, klass):
    login(client, klass["user"])
    html = client.get("/checkin/me").get_data(as_text=True)
    code = re.search(r"<code[^>]*>([^<]+)</code>", html).group(1)
    assert 'src="data:image/svg+xml' in html

    login(client, klass["organizer"])
    session_id = klass["session"].id
    response = client.post(f"/checkin/sessions/{session_id}/scan", data={"code": f"http://127.0.0.1:5000/checkin/t/{code}"})
    assert response.status_code == 302
    html = client.get(f"/checkin/sessions/{session_id}/scan").get_data(as_text=True)
    assert "Đã điểm danh có mặt: Thạch Thị Sa Rươl" in html and "Đã điểm danh: 1 / 1" in html
    client.post(f"/checkin/sessions/{session_id}/scan", data={"code": code})
    assert "đã điểm danh buổi này lúc 07/12/2026 09:00" in client.get(f"/checkin/sessions/{session_id}/scan").get_data(as_text=True)
    assert _present(klass["session"]) == 1


def test_a_forged_personal_code_is_refused_on_the_scan_form(client, klass):
    login(client, klass["organizer"])
    response = client.post(f"/checkin/sessions/{klass['session'].id}/scan", data={"code": "1.AAAAAAAAAAAAAAAAAAAAAA"})
    assert response.status_code == 200 and "Mã điểm danh không hợp lệ" in response.get_data(as_text=True)
    assert _present(klass["session"]) == 0


def test_a_personal_code_opened_by_the_organizers_phone_offers_todays_open_sessions(client, klass, make):
    from bdg_training.checkin import services

    code = services.personal_code(klass["trainee"].id)
    login(client, klass["organizer"])
    html = client.get(f"/checkin/t/{code}").get_data(as_text=True)
    assert "Điểm danh: Thạch Thị Sa Rươl" in html and f'action="/checkin/sessions/{klass["session"].id}/scan"' in html
    login(client, make.user("organizer", unit=klass["tree"]["x_vt"]))
    assert "không có buổi học nào đang mở điểm danh" in client.get(f"/checkin/t/{code}").get_data(as_text=True)
    assert client.get("/checkin/t/1.forged").status_code == 400


def test_my_code_page_for_an_account_without_trainee(client, make):
    login(client, make.user("admin"))
    assert "không gắn với học viên" in client.get("/checkin/me").get_data(as_text=True)


def test_my_courses_shows_the_personal_code(client, klass):
    login(client, klass["user"])
    html = client.get("/me/courses").get_data(as_text=True)
    from bdg_training.checkin import services

    code = services.personal_code(klass["trainee"].id)
    assert "Mã điểm danh cá nhân" in html and code in html and 'src="data:image/svg+xml' in html

"""The courses blueprint through the test client: courses, sessions, life cycle, cloning, scope,
bad input, calendar, public catalogue and iCalendar feed, plans, topics."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bdg_training.audit.models import AuditEvent
from bdg_training.courses.models import Course, CourseSession, Topic, TrainingPlan
from bdg_training.courses.services import local_today
from bdg_training.database import as_utc, utcnow
from bdg_training.extensions import db
from tests.conftest import fresh, login


@pytest.fixture
def t(make):
    tree = make.reform_tree()
    tree["topic"] = make.topic("Luật Bình đẳng giới và kỹ năng lồng ghép giới")
    tree["org"] = make.user("organizer", unit=tree["x_codo"])
    tree["org_vt"] = make.user("organizer", unit=tree["x_vt"])
    tree["org_city"] = make.user("organizer", unit=tree["city"])
    return tree


def _count(model) -> int:
    fresh()
    return db.session.scalar(select(func.count(model.id)))


def _form(t, **changes) -> dict:
    data = {
        "code": "",
        "title": "Tập huấn Luật Bình đẳng giới cho cán bộ xã",
        "topic_id": t["topic"].id,
        "unit_id": t["x_codo"].id,
        "plan_id": "",
        "funding_source": "Chương trình 1790/QĐ-TTg",
        "venue": "Hội trường UBND xã Cờ Đỏ",
        "capacity": "40",
        "start_date": "07/12/2026",
        "end_date": "08/12/2026",
        "hours": "6",
        "reg_opens_at": "20/11/2026 07:00",
        "reg_closes_at": "04/12/2026 17:00",
        "target_groups": ["can_bo", "hoi_vien"],
        "description": "",
        "pass_mark": "5,5",
        "min_attendance_pct": "80",
        "issuing_unit_id": "",
        "signer_id": "",
    }
    data.update(changes)
    return data


# --------------------------------------------------------------------------------------------
# Create and edit
# --------------------------------------------------------------------------------------------
def test_organizer_creates_a_course(client, t, make):
    t["x_codo"].short_code = "CĐ"
    plan = make.plan(t["x_codo"], 2026)
    login(client, t["org"])
    page = client.get("/courses/new").get_data(as_text=True)
    assert f'value="CD-{local_today().year}-01"' in page  # a code is suggested for this year
    response = client.post("/courses/new", data=_form(t))
    assert response.status_code == 302
    fresh()
    course = db.session.scalar(select(Course))
    assert response.headers["Location"].endswith(f"/courses/{course.id}")
    assert (course.code, course.status, course.plan_id, course.created_by_id) == ("CD-2026-01", "draft", plan.id, t["org"].id)
    assert course.target_groups == ["can_bo", "hoi_vien"] and str(course.pass_mark) == "5.50"
    # 07:00 and 17:00 in Vietnam, stored in UTC
    assert as_utc(course.reg_opens_at) == datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
    assert as_utc(course.reg_closes_at) == datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.object_type == "courses")) == "course.create"
    edit_page = client.get(f"/courses/{course.id}/edit").get_data(as_text=True)
    assert 'value="20/11/2026 07:00"' in edit_page and 'value="04/12/2026 17:00"' in edit_page and 'value="5,5"' in edit_page


BAD_INPUT = [
    ({"title": "  "}, "Vui lòng nhập tên lớp."),
    ({"code": "CĐ 01"}, "Mã lớp chỉ được gồm chữ cái không dấu, chữ số và các ký tự - / _."),
    ({"topic_id": ""}, "Vui lòng chọn chủ đề."),
    ({"capacity": "0"}, "Sĩ số tối đa phải từ 1 trở lên."),
    ({"capacity": ""}, "Vui lòng nhập sĩ số tối đa."),
    ({"capacity": "bốn mươi"}, "Vui lòng nhập một số nguyên."),
    ({"start_date": "31/02/2026"}, "Ngày không hợp lệ: “31/02/2026”, hãy nhập theo dạng dd/mm/yyyy"),
    ({"start_date": "2026/12/07"}, "Ngày không hợp lệ: “2026/12/07”, hãy nhập theo dạng dd/mm/yyyy"),
    ({"end_date": "06/12/2026"}, "Ngày kết thúc không được trước ngày bắt đầu."),
    ({"end_date": ""}, "Vui lòng nhập ngày kết thúc."),
    ({"reg_closes_at": "07/12/2026 08:00"}, "Phải đóng đăng ký không muộn hơn ngày bắt đầu lớp (07/12/2026)."),
    ({"reg_closes_at": "hôm nay"}, "Thời gian không hợp lệ: “hôm nay”, hãy nhập theo dạng dd/mm/yyyy hh:mm"),
    ({"reg_opens_at": "05/12/2026 07:00"}, "Thời điểm đóng đăng ký phải sau thời điểm mở đăng ký."),
    ({"pass_mark": "11"}, "Điểm đạt phải từ 0 đến 10."),
    ({"pass_mark": "năm"}, "Vui lòng nhập một số (ví dụ 5 hoặc 5,5)."),
    ({"min_attendance_pct": "120"}, "Tỷ lệ tham dự tối thiểu phải từ 0 đến 100%."),
    ({"hours": "-2"}, "Số giờ học không được âm."),
    ({"target_groups": ["can_bo", "nguoi_ngoai_hanh_tinh"]}, "không phải lựa chọn hợp lệ."),
]


@pytest.mark.parametrize(("changes", "message"), BAD_INPUT)
def test_each_bad_field_is_shown_and_nothing_is_saved(client, t, changes, message):
    login(client, t["org"])
    response = client.post("/courses/new", data=_form(t, **changes))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert "is-invalid" in html
    assert _count(Course) == 0


def test_every_error_is_shown_at_once(client, t):
    login(client, t["org"])
    html = client.post(
        "/courses/new", data=_form(t, title="", start_date="31/02/2026", capacity="0", pass_mark="11", topic_id="", reg_closes_at="x")
    ).get_data(as_text=True)
    for message in (
        "Vui lòng nhập tên lớp.",
        "Ngày không hợp lệ: “31/02/2026”",
        "Sĩ số tối đa phải từ 1 trở lên.",
        "Điểm đạt phải từ 0 đến 10.",
        "Vui lòng chọn chủ đề.",
        "Thời gian không hợp lệ: “x”",
    ):
        assert message in html
    assert "Vui lòng nhập ngày bắt đầu." not in html  # the parse error says it already
    assert _count(Course) == 0


def test_unit_outside_scope_or_closed_is_refused(client, t):
    login(client, t["org"])
    html = client.post("/courses/new", data=_form(t, unit_id=t["x_vt"].id)).get_data(as_text=True)
    assert "Lựa chọn không hợp lệ." in html
    html = client.post("/courses/new", data=_form(t, unit_id=t["h_codo"].id)).get_data(as_text=True)
    assert "Đơn vị tổ chức đã ngừng hoạt động từ sau ngày 30/06/2025" in html
    assert _count(Course) == 0


def test_organizer_edits_a_course_with_an_audited_diff(client, t, make):
    course = make.course(t["x_codo"], code="CD-2026-01", title="Tên cũ", capacity=30, start_date=date(2026, 12, 7), end_date=date(2026, 12, 8))
    login(client, t["org"])
    page = client.get(f"/courses/{course.id}/edit").get_data(as_text=True)
    assert 'value="Tên cũ"' in page and 'value="07/12/2026"' in page
    response = client.post(f"/courses/{course.id}/edit", data=_form(t, code="CD-2026-01", title="Tên mới", capacity="35"))
    assert response.status_code == 302
    fresh()
    course = db.session.get(Course, course.id)
    assert (course.title, course.capacity) == ("Tên mới", 35)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "course.update"))
    assert event.changes["title"] == ["Tên cũ", "Tên mới"] and event.changes["capacity"] == [30, 35]


def test_edit_refuses_moving_dates_away_from_the_sessions(client, t, make):
    course = make.course(t["x_codo"], code="CD-2026-01", start_date=date(2026, 12, 7), end_date=date(2026, 12, 8))
    login(client, t["org"])
    html = client.post(f"/courses/{course.id}/edit", data=_form(t, code="CD-2026-01", start_date="09/12/2026", end_date="10/12/2026", reg_closes_at="")).get_data(as_text=True)
    assert "Buổi học ngày 07/12/2026 nằm ngoài thời gian của lớp (09/12/2026 – 10/12/2026)." in html
    fresh()
    assert db.session.get(Course, course.id).start_date == date(2026, 12, 7)


def test_finished_course_is_not_editable(client, t, make):
    course = make.course(t["x_codo"], status="finished", title="Đã xong")
    login(client, t["org"])
    response = client.post(f"/courses/{course.id}/edit", data=_form(t, title="Đổi"))
    assert response.status_code == 302
    fresh()
    assert db.session.get(Course, course.id).title == "Đã xong"


# --------------------------------------------------------------------------------------------
# Scope and roles
# --------------------------------------------------------------------------------------------
def test_organizer_cannot_see_or_touch_another_units_course(client, t, make):
    other = make.course(t["x_vt"], title="Lớp Vĩnh Thạnh", status="open")
    session_id = other.sessions[0].id
    login(client, t["org"])
    base = f"/courses/{other.id}"
    for url in (base, f"{base}/edit", f"{base}/clone", f"{base}/cancel", f"{base}/sessions/new", f"{base}/sessions/{session_id}/edit"):
        assert client.get(url).status_code == 404, url
    for url, data in (
        (f"{base}/edit", _form(t, title="Chiếm")),
        (f"{base}/status", {"target": "closed"}),
        (f"{base}/cancel", {"reason": "x"}),
        (f"{base}/delete", {}),
        (f"{base}/clone", {"unit_id": t["x_codo"].id, "start_date": "07/12/2027"}),
        (f"{base}/sessions/new", {"date": "07/12/2026", "start_time": "07:30", "end_time": "11:00"}),
        (f"{base}/sessions/{session_id}/delete", {}),
    ):
        assert client.post(url, data=data).status_code == 404, url
    assert "Lớp Vĩnh Thạnh" not in client.get("/courses/").get_data(as_text=True)
    assert client.get(f"/courses/?unit={t['x_vt'].id}").status_code == 404
    fresh()
    other = db.session.get(Course, other.id)
    assert (other.title, other.status, len(other.sessions)) == ("Lớp Vĩnh Thạnh", "open", 1)
    assert _count(Course) == 1


def test_organizer_sees_the_courses_of_predecessor_units(client, t, make):
    make.course(t["h_codo"], title="Lớp huyện cũ", start_date=date(2024, 4, 16), status="finished")
    login(client, t["org"])
    assert "Lớp huyện cũ" in client.get("/courses/").get_data(as_text=True)


def test_session_of_another_course_is_not_reachable_through_mine(client, t, make):
    mine = make.course(t["x_codo"])
    theirs = make.course(t["x_vt"])
    login(client, t["org"])
    assert client.get(f"/courses/{mine.id}/sessions/{theirs.sessions[0].id}/edit").status_code == 404
    assert client.post(f"/courses/{mine.id}/sessions/{theirs.sessions[0].id}/delete").status_code == 404
    assert _count(CourseSession) == 2


@pytest.mark.parametrize("role", ["trainee", "signer"])
def test_non_organizers_reach_no_staff_course_page(client, make, role):
    login(client, make.user(role))
    for url in ("/courses/", "/courses/new", "/courses/plans", "/courses/calendar", "/courses/topics"):
        assert client.get(url).status_code == 403, url


def test_topics_are_for_admins_only(client, t):
    login(client, t["org"])
    assert client.get("/courses/topics").status_code == 403
    assert client.post("/courses/topics/new", data={"name": "Mới"}).status_code == 403


def test_admin_sees_every_course(client, t, make):
    make.course(t["x_vt"], title="Lớp Vĩnh Thạnh")
    make.course(t["x_codo"], title="Lớp Cờ Đỏ")
    login(client, make.user("admin", unit=t["city"]))
    html = client.get("/courses/").get_data(as_text=True)
    assert "Lớp Vĩnh Thạnh" in html and "Lớp Cờ Đỏ" in html


# --------------------------------------------------------------------------------------------
# List: filters, search, query count
# --------------------------------------------------------------------------------------------
def test_list_filters_and_diacritic_insensitive_search(client, t, make):
    law = t["topic"]
    dv = make.topic("Phòng, chống bạo lực gia đình")
    make.course(t["x_codo"], code="CD-2026-01", title="Luật Bình đẳng giới", topic=law, status="open")
    make.course(t["vstbpn_codo"], code="VS-2026-01", title="Phòng, chống bạo lực gia đình", topic=dv)
    make.course(t["h_codo"], code="CD-2024-01", title="Luật cho huyện", topic=law, start_date=date(2024, 4, 16), status="finished")
    login(client, t["org"])

    def codes(query):
        html = client.get("/courses/?" + query).get_data(as_text=True)
        return sorted(set(re.findall(r">((?:CD|VS)-20\d\d-\d\d)</a>", html)))

    assert codes("") == ["CD-2024-01", "CD-2026-01", "VS-2026-01"]
    assert codes("q=binh+dang") == ["CD-2026-01"]
    assert codes("q=BẠO+LỰC") == ["VS-2026-01"]
    assert codes("q=cd-2024") == ["CD-2024-01"]
    assert codes("year=2024") == ["CD-2024-01"]
    assert codes(f"topic={law.id}") == ["CD-2024-01", "CD-2026-01"]
    assert codes("status=open") == ["CD-2026-01"]
    assert codes(f"unit={t['vstbpn_codo'].id}") == ["VS-2026-01"]
    assert codes(f"unit={t['x_codo'].id}&year=2026") == ["CD-2026-01", "VS-2026-01"]
    assert "Không có lớp nào phù hợp với bộ lọc." in client.get("/courses/?q=khong+co+dau").get_data(as_text=True)


def test_course_list_query_count_does_not_grow(client, t, make, count_queries):
    login(client, t["org"])
    for i in range(3):
        make.course(t["x_codo"], title=f"Lớp {i}", sessions=[(date(2026, 12, 7), "07:30", "11:00"), (date(2026, 12, 8), "07:30", "11:00")])
    client.get("/courses/")  # warm up
    with count_queries() as few:
        assert client.get("/courses/").status_code == 200
    for i in range(20):
        make.course(t["vstbpn_codo"] if i % 2 else t["x_codo"], topic=make.topic(commit=False), title=f"Lớp thêm {i}")
    with count_queries() as many:
        html = client.get("/courses/").get_data(as_text=True)
    assert "Lớp thêm 19" in html
    assert many.count == few.count


# --------------------------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------------------------
def test_add_edit_delete_sessions(client, t, make):
    course = make.course(t["x_codo"], start_date=date(2026, 12, 7), end_date=date(2026, 12, 9), sessions=[])
    login(client, t["org"])
    new_page = client.get(f"/courses/{course.id}/sessions/new").get_data(as_text=True)
    assert 'placeholder="Hội trường UBND xã"' in new_page  # the course's venue is the default
    response = client.post(f"/courses/{course.id}/sessions/new", data={"date": "07/12/2026", "start_time": "7h30", "end_time": "11:00", "trainer": "Nguyễn Văn A"})
    assert response.status_code == 302
    fresh()
    session = db.session.scalar(select(CourseSession))
    assert (session.date, str(session.start_time), session.venue, session.effective_venue) == (date(2026, 12, 7), "07:30:00", None, "Hội trường UBND xã")
    response = client.post(f"/courses/{course.id}/sessions/{session.id}/edit", data={"date": "08/12/2026", "start_time": "13:30", "end_time": "16:30", "venue": "Phòng họp 2"})
    assert response.status_code == 302
    fresh()
    session = db.session.get(CourseSession, session.id)
    assert (session.date, str(session.end_time), session.effective_venue) == (date(2026, 12, 8), "16:30:00", "Phòng họp 2")
    assert client.post(f"/courses/{course.id}/sessions/{session.id}/delete").status_code == 302
    assert _count(CourseSession) == 0
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"course.session_add", "course.session_update", "course.session_delete"} <= actions


@pytest.mark.parametrize(
    ("data", "messages"),
    [
        ({"date": "10/12/2026", "start_time": "07:30", "end_time": "11:00"}, ["Ngày học phải nằm trong thời gian của lớp (07/12/2026 – 08/12/2026)."]),
        ({"date": "07/12/2026", "start_time": "11:00", "end_time": "07:30"}, ["Giờ kết thúc phải sau giờ bắt đầu."]),
        ({"date": "", "start_time": "", "end_time": ""}, ["Vui lòng nhập ngày học.", "Vui lòng nhập giờ bắt đầu.", "Vui lòng nhập giờ kết thúc."]),
        ({"date": "7/13/2026", "start_time": "25:00", "end_time": "11:00"}, ["Ngày không hợp lệ: “7/13/2026”", "Giờ không hợp lệ: “25:00”"]),
    ],
)
def test_bad_session_shows_errors_and_saves_nothing(client, t, make, data, messages):
    course = make.course(t["x_codo"], start_date=date(2026, 12, 7), end_date=date(2026, 12, 8), sessions=[])
    login(client, t["org"])
    html = client.post(f"/courses/{course.id}/sessions/new", data=data).get_data(as_text=True)
    for message in messages:
        assert message in html
    assert _count(CourseSession) == 0


def test_clashing_session_is_saved_with_a_warning(client, t, make):
    make.course(t["vstbpn_codo"], title="Lớp của Ban", venue="Hội trường UBND xã", sessions=[(date(2026, 12, 7), "08:00", "10:00")])
    course = make.course(t["x_codo"], venue="hội trường  ubnd XÃ", sessions=[])
    login(client, t["org"])
    response = client.post(f"/courses/{course.id}/sessions/new", data={"date": "07/12/2026", "start_time": "09:00", "end_time": "11:00"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Đã thêm buổi học." in html
    assert "Cảnh báo trùng lịch: Trùng địa điểm “Hội trường UBND xã” với buổi học 08:00–10:00 ngày 07/12/2026 của lớp “Lớp của Ban”." in html
    assert _count(CourseSession) == 2
    assert "Trùng địa điểm" in client.get(f"/courses/{course.id}").get_data(as_text=True)  # still shown on the course page


def test_no_sessions_after_finished(client, t, make):
    course = make.course(t["x_codo"], status="finished")
    login(client, t["org"])
    response = client.post(f"/courses/{course.id}/sessions/new", data={"date": "07/12/2026", "start_time": "07:30", "end_time": "11:00"})
    assert response.status_code == 302
    assert _count(CourseSession) == 1


# --------------------------------------------------------------------------------------------
# Life cycle: transitions, cancel, delete
# --------------------------------------------------------------------------------------------
def test_transitions_through_buttons(client, t, make):
    empty = make.course(t["x_codo"], sessions=[])
    course = make.course(t["x_codo"], reg_closes_at=utcnow() + timedelta(days=3), start_date=local_today() + timedelta(days=10))
    login(client, t["org"])
    html = client.post(f"/courses/{empty.id}/status", data={"target": "open"}, follow_redirects=True).get_data(as_text=True)
    assert "Lớp chưa có buổi học nào, không thể mở đăng ký." in html
    detail = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert "Mở đăng ký" in detail and "Hủy lớp" in detail
    client.post(f"/courses/{course.id}/status", data={"target": "open"})
    html = client.post(f"/courses/{course.id}/status", data={"target": "running"}, follow_redirects=True).get_data(as_text=True)
    assert "Không thể chuyển lớp từ “Đang mở đăng ký” sang “Đang diễn ra”." in html
    fresh()
    assert db.session.get(Course, empty.id).status == "draft"
    course = db.session.get(Course, course.id)
    assert course.status == "open" and course.published_at is not None
    response = client.post(f"/courses/{course.id}/status", data={"target": "cancelled"})
    assert response.headers["Location"].endswith(f"/courses/{course.id}/cancel")  # a reason is asked first


def test_cancel_requires_a_reason(client, t, make):
    course = make.course(t["x_codo"], status="open")
    login(client, t["org"])
    html = client.post(f"/courses/{course.id}/cancel", data={"reason": "   "}).get_data(as_text=True)
    assert "Vui lòng nhập lý do hủy lớp." in html
    fresh()
    assert db.session.get(Course, course.id).status == "open"
    response = client.post(f"/courses/{course.id}/cancel", data={"reason": "Không đủ học viên đăng ký."})
    assert response.status_code == 302
    fresh()
    course = db.session.get(Course, course.id)
    assert (course.status, course.cancel_reason) == ("cancelled", "Không đủ học viên đăng ký.")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "course.status"))
    assert event.changes == {"status": ["open", "cancelled"], "cancel_reason": [None, "Không đủ học viên đăng ký."]}
    html = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert "Lớp đã bị hủy." in html and "Không đủ học viên đăng ký." in html
    assert client.get(f"/courses/{course.id}/cancel").status_code == 302  # cannot cancel twice


def test_only_a_draft_can_be_deleted(client, t, make):
    draft_id, opened_id = make.course(t["x_codo"]).id, make.course(t["x_codo"], status="open").id
    login(client, t["org"])
    html = client.post(f"/courses/{opened_id}/delete", follow_redirects=True).get_data(as_text=True)
    assert "Chỉ xóa được lớp ở trạng thái nháp" in html
    assert client.post(f"/courses/{draft_id}/delete").status_code == 302
    fresh()
    assert db.session.get(Course, draft_id) is None and db.session.get(Course, opened_id) is not None
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "course.delete"))


# --------------------------------------------------------------------------------------------
# Clone
# --------------------------------------------------------------------------------------------
def test_clone_to_next_year_through_the_form(client, t, make):
    t["x_codo"].short_code = "CĐ"
    course = make.course(
        t["x_codo"], code="CD-2026-01", status="finished", start_date=date(2026, 3, 2), end_date=date(2026, 3, 3),
        sessions=[(date(2026, 3, 2), "07:30", "11:00"), (date(2026, 3, 3), "13:30", "16:30")],
    )  # fmt: skip
    login(client, t["org"])
    page = client.get(f"/courses/{course.id}/clone").get_data(as_text=True)
    assert 'value="02/03/2027"' in page
    response = client.post(f"/courses/{course.id}/clone", data={"unit_id": t["x_codo"].id, "start_date": "02/03/2027", "code": "", "title": ""})
    assert response.status_code == 302
    fresh()
    clone = db.session.scalar(select(Course).where(Course.cloned_from_id == course.id))
    assert response.headers["Location"].endswith(f"/courses/{clone.id}")
    assert (clone.code, clone.status, clone.title) == ("CD-2027-01", "draft", course.title)
    assert [s.date for s in clone.sessions] == [date(2027, 3, 2), date(2027, 3, 3)]
    assert client.get(f"/courses/{clone.id}").status_code == 200


def test_clone_refuses_a_unit_outside_scope_and_bad_dates(client, t, make):
    course = make.course(t["x_codo"])
    login(client, t["org"])
    html = client.post(f"/courses/{course.id}/clone", data={"unit_id": t["x_vt"].id, "start_date": "07/12/2027"}).get_data(as_text=True)
    assert "Lựa chọn không hợp lệ." in html
    html = client.post(f"/courses/{course.id}/clone", data={"unit_id": t["x_codo"].id, "start_date": "32/12/2027"}).get_data(as_text=True)
    assert "Ngày không hợp lệ: “32/12/2027”" in html
    html = client.post(f"/courses/{course.id}/clone", data={"unit_id": t["x_codo"].id, "start_date": "07/12/2027", "code": course.code}).get_data(as_text=True)
    assert f"Mã lớp “{course.code}” đã được dùng cho một lớp khác." in html
    assert _count(Course) == 1


# --------------------------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------------------------
def _cells(html: str) -> dict[int, str]:
    """Day number → the cell's HTML, for the days of the shown month."""
    cells = {}
    for chunk in html.split('<td class="calendar-day')[1:]:
        if chunk.startswith(" calendar-outside"):
            continue
        day = int(re.search(r'<div class="calendar-date">(\d+)', chunk).group(1))
        cells[day] = chunk.split("</td>")[0]
    return cells


def test_calendar_shows_exactly_the_sessions_of_the_month_in_scope(client, t, make):
    make.course(t["x_codo"], code="A-1", status="open", start_date=date(2026, 12, 3), end_date=date(2027, 1, 2),
                sessions=[(date(2026, 12, 3), "07:30", "11:00"), (date(2026, 12, 3), "13:30", "16:30"), (date(2027, 1, 2), "07:30", "11:00")])  # fmt: skip
    make.course(t["vstbpn_codo"], code="B-1", start_date=date(2026, 12, 10), sessions=[(date(2026, 12, 10), "08:00", "10:00")])  # draft of a child unit
    make.course(t["x_vt"], code="C-1", status="open", start_date=date(2026, 12, 3))  # another unit
    make.course(t["x_codo"], code="D-1", status="cancelled", start_date=date(2026, 12, 4))  # cancelled
    make.course(t["x_codo"], code="E-1", status="finished", start_date=date(2026, 11, 30))  # shown grid day, other month
    login(client, t["org"])
    html = client.get("/courses/calendar?month=2026-12").get_data(as_text=True)
    assert "Tháng 12/2026" in html and "3 buổi học trong tháng" in html
    cells = _cells(html)
    assert len(cells) == 31
    assert {day: re.findall(r"\b([A-E]-1)\b", cell) for day, cell in cells.items() if re.search(r"\b[A-E]-1\b", cell)} == {3: ["A-1", "A-1"], 10: ["B-1"]}
    assert "07:30–11:00" in cells[3] and "13:30–16:30" in cells[3] and "Nháp" in cells[10]
    assert "month=2026-11" in html and "month=2027-01" in html  # previous / next month
    assert re.search(r"<th[^>]*>Thứ Hai</th>", html).start() < html.index("Chủ nhật")  # Monday first

    january = _cells(client.get("/courses/calendar?month=2027-01").get_data(as_text=True))
    assert [day for day, cell in january.items() if "A-1" in cell] == [2]
    only_child = client.get(f"/courses/calendar?month=2026-12&unit={t['vstbpn_codo'].id}").get_data(as_text=True)
    assert "B-1" in only_child and "A-1" not in only_child
    assert client.get(f"/courses/calendar?month=2026-12&unit={t['x_vt'].id}").status_code == 404
    assert "Tháng " in client.get("/courses/calendar?month=2026-99").get_data(as_text=True)  # a bad month: this month


# --------------------------------------------------------------------------------------------
# Public catalogue, public page, iCalendar
# --------------------------------------------------------------------------------------------
def test_catalogue_lists_exactly_the_open_courses_still_taking_registrations(client, t, make):
    now, today = utcnow(), local_today()
    soon = today + timedelta(days=10)
    make.course(t["x_codo"], title="Mở còn hạn", status="open", reg_closes_at=now + timedelta(days=5), start_date=soon, capacity=33)
    make.course(t["x_vt"], title="Mở của Vĩnh Thạnh", status="open", reg_closes_at=now + timedelta(hours=1), start_date=soon)
    make.course(t["x_codo"], title="Mở không hạn", status="open", start_date=today + timedelta(days=3))
    make.course(t["x_codo"], title="Sắp mở", status="open", reg_opens_at=now + timedelta(days=2), reg_closes_at=now + timedelta(days=6), start_date=soon)
    make.course(t["x_codo"], title="Hết hạn", status="open", reg_closes_at=now - timedelta(minutes=1), start_date=soon)
    make.course(t["x_codo"], title="Không hạn đã bắt đầu", status="open", start_date=today)
    for status in ("draft", "closed", "running", "finished", "cancelled"):
        make.course(t["x_codo"], title=f"Trạng thái {status}", status=status, reg_closes_at=now + timedelta(days=5), start_date=soon)
    html = client.get("/courses/catalogue").get_data(as_text=True)  # anonymous
    titles = set(re.findall(r'<h2 class="h5 card-title"><a href="[^"]+">([^<]+)</a>', html))
    assert titles == {"Mở còn hạn", "Mở của Vĩnh Thạnh", "Mở không hạn", "Sắp mở"}
    assert "xã Cờ Đỏ" in html and "33 học viên" in html and "Hội trường UBND xã" in html
    assert "Chưa mở đăng ký — nhận đăng ký từ" in html
    assert set(re.findall(r'<h2 class="h5 card-title"><a href="[^"]+">([^<]+)</a>', client.get("/courses/catalogue?q=vinh+thanh").get_data(as_text=True))) == {
        "Mở của Vĩnh Thạnh"
    }


def test_catalogue_shows_registration_times_in_vietnam_time(client, t, make):
    deadline = datetime.combine(local_today() + timedelta(days=5), datetime.min.time()).replace(hour=10, tzinfo=UTC)  # 17:00 in Vietnam
    make.course(t["x_codo"], title="Lớp A", status="open", reg_closes_at=deadline, start_date=local_today() + timedelta(days=9))
    html = client.get("/courses/catalogue").get_data(as_text=True)
    assert f"Đang mở đăng ký đến 17:00 ngày {(local_today() + timedelta(days=5)):%d/%m/%Y}" in html


def test_empty_catalogue_and_welcome_link(client):
    assert "Hiện chưa có lớp nào đang mở đăng ký." in client.get("/courses/catalogue").get_data(as_text=True)
    welcome = client.get("/").get_data(as_text=True)
    assert 'href="/courses/catalogue"' in welcome and "Lớp đang mở đăng ký" in welcome


def test_public_course_page(client, t, make):
    opened = make.course(t["x_codo"], title="Lớp mở", status="open", description="Nội dung <b>đậm</b>")
    closed = make.course(t["x_codo"], title="Lớp đóng", status="closed")
    cancelled = make.course(t["x_codo"], title="Lớp hủy", status="cancelled", cancel_reason="Lý do nội bộ")
    draft = make.course(t["x_codo"], title="Lớp nháp")
    never = make.course(t["x_codo"], title="Hủy từ nháp", status="cancelled", published_at=None)
    html = client.get(f"/courses/catalogue/{opened.id}").get_data(as_text=True)
    assert "Lớp mở" in html and "07:30–11:00" in html and "&lt;b&gt;đậm&lt;/b&gt;" in html
    assert "Đã đóng đăng ký" in client.get(f"/courses/catalogue/{closed.id}").get_data(as_text=True)
    html = client.get(f"/courses/catalogue/{cancelled.id}").get_data(as_text=True)
    assert "Lớp đã bị hủy." in html and "Lý do nội bộ" not in html
    assert client.get(f"/courses/catalogue/{draft.id}").status_code == 404
    assert client.get(f"/courses/catalogue/{never.id}").status_code == 404


def test_ical_feed(client, t, make):
    opened = make.course(t["x_codo"], title="Lớp A, B", status="open", sessions=[(date(2026, 12, 7), "07:30", "11:00"), (date(2026, 12, 8), "13:30", "16:30")])
    draft = make.course(t["x_codo"], title="Lớp nháp")
    response = client.get(f"/courses/{opened.id}/calendar.ics")  # anonymous
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('inline; filename="T-')
    body = response.get_data(as_text=True)
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert body.count("BEGIN:VEVENT") == 2 and "DTSTART:20261207T003000Z" in body and "SUMMARY:Lớp A\\, B" in body
    assert f"UID:session-{opened.sessions[1].id}@" in body
    assert f"/courses/catalogue/{opened.id}" in body
    assert client.get(f"/courses/{draft.id}/calendar.ics").status_code == 404
    login(client, t["org_vt"])
    assert client.get(f"/courses/{draft.id}/calendar.ics").status_code == 404  # another unit's draft
    login(client, t["org"])
    private = client.get(f"/courses/{draft.id}/calendar.ics")
    assert private.status_code == 200 and "no-store" in private.headers["Cache-Control"]


# --------------------------------------------------------------------------------------------
# Annual plans
# --------------------------------------------------------------------------------------------
def _plan_form(t, **changes) -> dict:
    data = {
        "unit_id": t["x_codo"].id,
        "year": "2026",
        "planned_courses": "4",
        "planned_trainees": "160",
        "planned_female_pct": "60",
        "source_document": "Kế hoạch số 12/KH-UBND",
        "note": "",
        "targets-0-indicator": "Cán bộ được tập huấn về bình đẳng giới",
        "targets-0-source_document": "28/NQ-CP",
        "targets-0-target_value": "100",
        "targets-0-measure": "%",
        "targets-1-indicator": "",
        "targets-2-indicator": "Số cuộc truyền thông",
        "targets-2-source_document": "1790/QĐ-TTg",
        "targets-2-target_value": "2",
        "targets-2-measure": "cuộc",
    }
    data.update(changes)
    return data


def test_organizer_builds_the_years_plan(client, t):
    login(client, t["org"])
    assert client.get("/courses/plans/new").status_code == 200
    response = client.post("/courses/plans/new", data=_plan_form(t))
    assert response.status_code == 302
    fresh()
    plan = db.session.scalar(select(TrainingPlan))
    assert (plan.unit_id, plan.year, plan.planned_courses, str(plan.planned_female_pct)) == (t["x_codo"].id, 2026, 4, "60.00")
    assert [(x.indicator, x.source_document, str(x.target_value), x.measure) for x in plan.targets] == [
        ("Cán bộ được tập huấn về bình đẳng giới", "28/NQ-CP", "100.00", "%"),
        ("Số cuộc truyền thông", "1790/QĐ-TTg", "2.00", "cuộc"),
    ]
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.object_type == "training_plans")) == "plan.create"
    html = client.post("/courses/plans/new", data=_plan_form(t)).get_data(as_text=True)
    assert "xã Cờ Đỏ đã có kế hoạch năm 2026." in html
    assert _count(TrainingPlan) == 1


def test_plan_form_errors_per_field_and_per_row(client, t):
    login(client, t["org"])
    html = client.post(
        "/courses/plans/new",
        data=_plan_form(t, year="20x6", planned_courses="-1", planned_female_pct="150", **{"targets-2-indicator": "", "targets-0-target_value": "-5"}),
    ).get_data(as_text=True)
    for message in ("Vui lòng nhập một số nguyên.", "Số lớp dự kiến không được âm.", "Tỷ lệ nữ phải từ 0 đến 100%.", "Vui lòng nhập tên chỉ tiêu.", "Giá trị không được âm."):
        assert message in html
    assert _count(TrainingPlan) == 0


def test_plan_form_adds_a_row_without_saving(client, t):
    login(client, t["org"])
    html = client.post("/courses/plans/new", data=_plan_form(t, add_row="1")).get_data(as_text=True)
    assert 'name="targets-3-indicator"' in html and 'value="Số cuộc truyền thông"' in html
    assert _count(TrainingPlan) == 0


def test_plan_edit_removes_a_row(client, t, make):
    plan = make.plan(t["x_codo"], 2026)
    login(client, t["org"])
    client.post("/courses/plans/new", data=_plan_form(t, year="2027"))
    fresh()
    plan = db.session.scalar(select(TrainingPlan).where(TrainingPlan.year == 2027))
    first, second = plan.targets
    edit = client.get(f"/courses/plans/{plan.id}/edit").get_data(as_text=True)
    assert f'name="targets-0-id" type="hidden" value="{first.id}"' in edit
    data = _plan_form(t, year="2027", **{"targets-0-id": first.id, "targets-0-delete": "y", "targets-2-id": second.id, "targets-2-target_value": "3"})
    assert client.post(f"/courses/plans/{plan.id}/edit", data=data).status_code == 302
    fresh()
    assert [(x.indicator, str(x.target_value)) for x in db.session.get(TrainingPlan, plan.id).targets] == [("Số cuộc truyền thông", "3.00")]


def test_plan_page_compares_planned_scheduled_and_finished(client, t, make):
    plan = make.plan(t["x_codo"], 2026, planned_courses=4, planned_trainees=160)
    for status in ("draft", "open", "finished", "cancelled"):
        make.course(t["x_codo"], plan=plan, status=status, title=f"Lớp {status}")
    login(client, t["org"])
    html = client.get(f"/courses/plans/{plan.id}").get_data(as_text=True)
    assert re.search(r"Số lớp</th><td[^>]*>4</td>\s*<td[^>]*>3 \(75%\)</td>\s*<td[^>]*>1 đã kết thúc \(25%\)</td>", html)
    assert "Không tính 1 lớp đã hủy." in html
    assert re.search(r"Học viên \(người\)</th><td[^>]*>160</td>", html)
    assert "Lớp draft" in html and "Lớp cancelled" in html


def test_city_organizer_sees_every_units_plans_side_by_side(client, t, make):
    make.plan(t["x_codo"], 2026, planned_courses=4)
    make.plan(t["x_vt"], 2026, planned_courses=3)
    make.plan(t["city"], 2026, planned_courses=6)
    make.plan(t["x_vt"], 2025, planned_courses=9)
    login(client, t["org_city"])
    html = client.get("/courses/plans?year=2026").get_data(as_text=True)
    assert "xã Cờ Đỏ" in html and "xã Vĩnh Thạnh" in html and "thành phố Cần Thơ" in html
    assert "Tổng cộng (3 đơn vị)" in html and re.search(r"Tổng cộng \(3 đơn vị\)</th>\s*<td[^>]*>13</td>", html)
    login(client, t["org"])
    html = client.get("/courses/plans?year=2026").get_data(as_text=True)
    assert "xã Cờ Đỏ" in html and "Vĩnh Thạnh" not in html
    vt_plan = db.session.scalar(select(TrainingPlan).where(TrainingPlan.unit_id == t["x_vt"].id, TrainingPlan.year == 2026))
    assert client.get(f"/courses/plans/{vt_plan.id}").status_code == 404
    assert client.post(f"/courses/plans/{vt_plan.id}/edit", data=_plan_form(t)).status_code == 404
    assert client.post(f"/courses/plans/{vt_plan.id}/delete").status_code == 404


def test_new_course_from_a_plan_is_prefilled(client, t, make):
    plan = make.plan(t["vstbpn_codo"], 2027)
    login(client, t["org"])
    html = client.get(f"/courses/new?plan_id={plan.id}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{plan.id}">|<option value="{plan.id}" selected>', html)


# --------------------------------------------------------------------------------------------
# Topics
# --------------------------------------------------------------------------------------------
def test_admin_manages_topics(client, t, make):
    login(client, make.user("admin", unit=t["city"]))
    assert client.post("/courses/topics/new", data={"name": "Công tác gia đình", "sort_order": "3", "active": "y"}).status_code == 302
    html = client.post("/courses/topics/new", data={"name": "công tác GIA ĐÌNH", "sort_order": "4"}).get_data(as_text=True)
    assert "Đã có chủ đề “Công tác gia đình”." in html
    fresh()
    topic = db.session.scalar(select(Topic).where(Topic.name == "Công tác gia đình"))
    assert client.post(f"/courses/topics/{topic.id}/edit", data={"name": "Công tác gia đình", "sort_order": "3"}).status_code == 302  # hidden
    login(client, t["org"])
    assert "Công tác gia đình" not in client.get("/courses/new").get_data(as_text=True)
    fresh()  # the test's own snapshot predates the requests' writes: start a new one before writing
    login(client, make.user("admin", unit=t["city"]))
    used = t["topic"]
    make.course(t["x_codo"], topic=used)
    html = client.post(f"/courses/topics/{used.id}/delete", follow_redirects=True).get_data(as_text=True)
    assert "đang được dùng cho 1 lớp, không thể xóa" in html
    assert client.post(f"/courses/topics/{topic.id}/delete").status_code == 302
    topic_id, used_id = topic.id, used.id
    fresh()
    assert db.session.get(Topic, topic_id) is None and db.session.get(Topic, used_id) is not None
    assert {"topic.create", "topic.update", "topic.delete"} <= set(db.session.scalars(select(AuditEvent.action)))


# --------------------------------------------------------------------------------------------
# Navigation
# --------------------------------------------------------------------------------------------
def test_navigation_entries_by_role(client, t, make):
    login(client, t["org"])
    html = client.get("/courses/plans").get_data(as_text=True)
    nav = html.split("</nav>")[0]
    assert 'href="/courses/">Lớp tập huấn' in nav and "Kế hoạch" in nav and 'href="/courses/calendar">Lịch' in nav and "Chủ đề" not in nav
    assert re.search(r'class="dropdown-item active" aria-current="page" href="/courses/plans"', nav)
    login(client, make.user("admin", unit=t["city"]))
    assert 'href="/courses/topics"' in client.get("/").get_data(as_text=True)


def test_admin_adds_the_default_topics_once(client, make):
    make.topic("luật bình đẳng giới và kỹ năng lồng ghép giới")  # already there, typed differently
    login(client, make.user("admin"))
    html = client.get("/courses/topics").get_data(as_text=True)
    assert "Thêm các chủ đề mặc định" in html and "<li>Công tác gia đình</li>" in html
    assert "<li>Luật Bình đẳng giới và kỹ năng lồng ghép giới</li>" not in html
    client.post("/courses/topics/defaults")
    fresh()
    assert db.session.scalar(select(func.count(Topic.id))) == 4
    assert "Thêm các chủ đề mặc định" not in client.get("/courses/topics").get_data(as_text=True)
    assert "Đã có đủ các chủ đề mặc định." in client.post("/courses/topics/defaults", follow_redirects=True).get_data(as_text=True)
    assert _count(Topic) == 4


def test_plans_page_query_count_does_not_grow(client, t, make, count_queries):
    login(client, t["org_city"])
    make.plan(t["x_codo"], 2026)
    client.get("/courses/plans?year=2026")
    with count_queries() as few:
        assert client.get("/courses/plans?year=2026").status_code == 200
    for i in range(8):
        plan = make.plan(make.unit(f"Xã {i}", parent=t["city"]), 2026)
        make.course(plan.unit, plan=plan, status="finished")
    with count_queries() as many:
        assert "Xã 7" in client.get("/courses/plans?year=2026").get_data(as_text=True)
    assert many.count == few.count


@pytest.mark.parametrize("url", ["/courses/calendar?month=2026-12", "/courses/catalogue"])
def test_calendar_and_catalogue_query_counts_do_not_grow(client, t, make, count_queries, url):
    def add(n):
        for i in range(n):
            make.course(t["x_codo"] if i % 2 else t["vstbpn_codo"], topic=make.topic(commit=False), status="open",
                        reg_closes_at=utcnow() + timedelta(days=1), start_date=date(2026, 12, 7 + i % 20),
                        sessions=[(date(2026, 12, 7 + i % 20), "07:30", "11:00"), (date(2026, 12, 7 + i % 20), "13:30", "16:30")])  # fmt: skip

    login(client, t["org"])
    add(2)
    client.get(url)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    add(15)
    with count_queries() as many:
        assert client.get(url).status_code == 200
    assert many.count == few.count

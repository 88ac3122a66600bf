"""Enrolment pages: sign-up, guest registration, the trainee's own pages, the organizer's class
list, approval, withdrawal with promotion, attendance, exports, scope."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bdg_training.audit.models import AuditEvent
from bdg_training.auth.models import User
from bdg_training.enrollment.models import Attendance, Enrollment, Trainee
from bdg_training.extensions import db
from tests.conftest import csrf_token, fresh, login

TODAY = date.today()


def _guest(**overrides):
    data = {
        "family_name": "Thạch",
        "middle_name": "Thị",
        "given_name": "Sa Rươl",
        "sex": "nu",
        "birth": "05/02/1985",
        "ethnicity": "05",
        "phone": "0912 345 678",
        "target_group": "hoi_vien",
        "password": "mat-khau-rat-dai-1",
        "confirm": "mat-khau-rat-dai-1",
        "consent": "y",
    }
    data.update(overrides)
    return data


@pytest.fixture
def tree(make):
    return make.reform_tree()


@pytest.fixture
def open_course(make, tree):
    return make.course(tree["x_codo"], status="open", capacity=2, start_date=TODAY + timedelta(days=20), title="Luật Bình đẳng giới cơ bản")


def _count(model) -> int:
    fresh()
    return db.session.scalar(select(func.count()).select_from(model))


# --------------------------------------------------------------------------------------------
# Self sign-up and guest registration
# --------------------------------------------------------------------------------------------
def test_self_signup_needs_consent_then_creates_account_and_trainee(client):
    html = client.get("/signup").get_data(as_text=True)
    assert "Thông báo về xử lý dữ liệu cá nhân" in html and "Nghị định 13/2023/NĐ-CP" in html
    response = client.post("/signup", data=_guest(consent=""))
    assert response.status_code == 200
    assert "Vui lòng đọc và đồng ý" in response.get_data(as_text=True)
    assert _count(Trainee) == 0 and _count(User) == 0

    response = client.post("/signup", data=_guest())
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/courses")
    fresh()
    trainee = db.session.scalar(select(Trainee))
    assert trainee.full_name == "Thạch Thị Sa Rươl" and trainee.sex == "nu" and trainee.phone == "+84912345678"
    assert trainee.ethnicity_code == "05" and trainee.ethnicity_code_list == "TCTK-1979"
    assert trainee.user.username == "0912345678" and trainee.user.role == "trainee" and trainee.consent_at is not None
    assert client.get("/me/courses").status_code == 200  # signed in


def test_signup_shows_field_errors_and_saves_nothing(client):
    response = client.post("/signup", data=_guest(birth="31/02/1985", personal_id="123", phone="0123", sex=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Ngày không hợp lệ" in html and "12 chữ số" in html and "Vui lòng chọn giới tính" in html
    assert _count(Trainee) == 0 and _count(User) == 0


def test_signup_refuses_a_phone_that_already_has_an_account(client, make):
    make.user("trainee", username="0912345678")
    response = client.post("/signup", data=_guest())
    assert "Số điện thoại này đã có tài khoản" in response.get_data(as_text=True)
    assert _count(Trainee) == 0


def test_signup_is_rate_limited_per_ip(client, app):
    app.config["SIGNUP_LIMIT_PER_IP"] = "2 per minute"
    try:
        for _ in range(2):
            assert client.post("/signup", data=_guest(consent="")).status_code == 200
        assert client.post("/signup", data=_guest(consent="")).status_code == 429
    finally:
        app.config.pop("SIGNUP_LIMIT_PER_IP")


def test_guest_registers_for_an_open_course_in_one_step(client, open_course):
    page = client.get(f"/register/{open_course.id}").get_data(as_text=True)
    assert "Tạo tài khoản và đăng ký" in page
    response = client.post(f"/register/{open_course.id}", data=_guest())
    assert response.status_code == 302 and "/me/enrollments/" in response.headers["Location"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã xác nhận" in html and "Luật Bình đẳng giới cơ bản" in html
    fresh()
    enrollment = db.session.scalar(select(Enrollment))
    assert enrollment.status == "confirmed" and enrollment.source == "self"


def test_guest_registration_when_closed_creates_nothing(client, make, tree):
    course = make.course(tree["x_codo"], status="closed", capacity=5)
    html = client.get(f"/register/{course.id}").get_data(as_text=True)
    assert "Đã đóng đăng ký" in html and "Tạo tài khoản và đăng ký" not in html
    client.post(f"/register/{course.id}", data=_guest())
    assert _count(User) == 0 and _count(Enrollment) == 0


def test_a_draft_course_has_no_registration_page(client, make, tree):
    course = make.course(tree["x_codo"], status="draft")
    assert client.get(f"/register/{course.id}").status_code == 404


# --------------------------------------------------------------------------------------------
# The trainee's own pages
# --------------------------------------------------------------------------------------------
def _trainee_user(make, name="Lý Thị Mai"):
    user = make.user("trainee", full_name=name)
    trainee = make.trainee(name, user=user)
    return user, trainee


def test_trainee_registers_sees_waitlist_position_and_withdraws(client, make, open_course):
    make.enrollment(open_course, make.trainee("Kim Văn Sang", sex="nam"))
    make.enrollment(open_course, make.trainee("Danh Thị Na"))
    user, trainee = _trainee_user(make)
    login(client, user)
    html = client.get("/me/courses").get_data(as_text=True)
    assert "Luật Bình đẳng giới cơ bản" in html  # among the open courses
    response = client.post(f"/register/{open_course.id}/self")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "thứ 1" in html and "danh sách chờ" in html
    html = client.get("/me/courses").get_data(as_text=True)
    assert "vị trí 1" in html
    fresh()
    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.trainee_id == trainee.id))
    assert client.post(f"/me/enrollments/{enrollment.id}/withdraw").status_code == 302
    fresh()
    assert db.session.get(Enrollment, enrollment.id).status == "withdrawn"


def test_trainee_sees_only_their_own_records(client, make, open_course):
    user, _ = _trainee_user(make)
    other = make.enrollment(open_course, make.trainee("Quách Thị Hoa"))
    login(client, user)
    assert client.get(f"/me/enrollments/{other.id}").status_code == 404
    assert client.post(f"/me/enrollments/{other.id}/withdraw").status_code == 404
    fresh()
    assert db.session.get(Enrollment, other.id).status == "confirmed"
    assert "Quách Thị Hoa" not in client.get("/me/courses").get_data(as_text=True)
    for url in (f"/classes/{open_course.id}", "/trainees", f"/trainees/{other.trainee_id}", "/classes", f"/classes/{open_course.id}/export.xlsx"):
        assert client.get(url).status_code == 403, url


def test_staff_endpoints_refuse_trainees_and_trainee_pages_refuse_staff(client, app, make, open_course):
    user, _ = _trainee_user(make)
    login(client, user)
    staff_only = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("enrollment.") and "GET" in r.methods]
    checked = 0
    for rule in staff_only:
        if rule.endpoint in {"enrollment.signup", "enrollment.register", "enrollment.my_courses", "enrollment.confirmation", "enrollment.profile"}:
            continue
        url = rule.rule.replace("<int:course_id>", str(open_course.id)).replace("<int:session_id>", str(open_course.sessions[0].id))
        url = url.replace("<int:trainee_id>", "1").replace("<int:batch_id>", "1")
        assert client.get(url).status_code == 403, url
        checked += 1
    assert checked >= 10
    login(client, make.user("organizer", unit=open_course.unit))
    assert client.get("/me/courses").status_code == 403
    assert client.get("/me/profile").status_code == 403


def test_trainee_profile_edit_is_audited(client, make):
    user, trainee = _trainee_user(make)
    login(client, user)
    assert 'value="Lý"' in client.get("/me/profile").get_data(as_text=True)
    data = _guest(family_name="Lý", middle_name="Thị", given_name="Mai", phone="0987654321")
    for key in ("password", "confirm", "consent"):
        data.pop(key)
    assert client.post("/me/profile", data=data).status_code == 302
    fresh()
    assert db.session.get(Trainee, trainee.id).phone == "+84987654321"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "trainee.update")) is not None


# --------------------------------------------------------------------------------------------
# Organizer: class list, enrolment, approval, withdrawal
# --------------------------------------------------------------------------------------------
def test_roster_is_sorted_the_vietnamese_way_and_masks_ids(client, make, tree):
    course = make.course(tree["x_codo"], status="open", capacity=10)
    for name in ("Trần Văn Ư", "Lê Thị Út", "Nguyễn Văn Đông", "Phạm Thị Dung", "Võ Thị Ánh", "Võ Thị Anh", "Trần Thị Ánh"):
        make.enrollment(course, make.trainee(name, personal_id=None))
    make.enrollment(course, make.trainee("Lâm Văn Bảo", sex="nam", personal_id="092090001234"))
    login(client, make.user("organizer", unit=tree["x_codo"]))
    html = client.get(f"/classes/{course.id}").get_data(as_text=True)
    # tên, then tên đệm, then họ, letters before tones: Anh < Ánh only when everything else is equal
    order = ["Trần Thị Ánh", "Võ Thị Anh", "Võ Thị Ánh", "Lâm Văn Bảo", "Phạm Thị Dung", "Nguyễn Văn Đông", "Lê Thị Út", "Trần Văn Ư"]
    positions = [html.index(name) for name in order]
    assert positions == sorted(positions)
    assert "********1234" in html and "092090001234" not in html


def test_organizer_finds_trainee_with_either_tone_placement_and_enrols(client, make, tree):
    course = make.course(tree["x_codo"], status="open", capacity=1)
    make.enrollment(course, make.trainee("Sơn Thị Phương"))
    person = make.trainee("Nguyễn Thị Hòa", unit=tree["x_codo"])
    login(client, make.user("organizer", unit=tree["x_codo"]))
    for query in ("hoà", "Hòa", "nguyen thi hoa"):
        assert "Nguyễn Thị Hòa" in client.get(f"/classes/{course.id}/add?q={query}").get_data(as_text=True), query
    response = client.post(f"/classes/{course.id}/enrol", data={"trainee_id": person.id})
    assert response.status_code == 302
    fresh()
    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.trainee_id == person.id))
    assert (enrollment.status, enrollment.waitlist_position, enrollment.source) == ("waitlisted", 1, "organizer")


def test_search_by_name_stays_in_scope_but_exact_id_finds_anyone(client, make, tree):
    course = make.course(tree["x_codo"], status="open")
    make.trainee("Đặng Thị Hòa", unit=tree["x_vt"], personal_id="092185001111", phone="+84911222333")
    login(client, make.user("organizer", unit=tree["x_codo"]))
    assert "Đặng Thị Hòa" not in client.get(f"/classes/{course.id}/add?q=hoa").get_data(as_text=True)
    html = client.get(f"/classes/{course.id}/add?q=092185001111").get_data(as_text=True)
    assert "Đặng Thị Hòa" in html and "0911 222 333" not in html  # found, contact details not shown
    assert "Đặng Thị Hòa" in client.get(f"/classes/{course.id}/add?q=0911 222 333").get_data(as_text=True)


def test_organizer_adds_a_new_trainee_straight_into_the_class(client, make, tree):
    course = make.course(tree["x_codo"], status="running")
    login(client, make.user("organizer", unit=tree["x_codo"]))
    data = _guest()
    for key in ("password", "confirm", "consent"):
        data.pop(key)
    response = client.post(f"/classes/{course.id}/add/new", data=data)
    assert response.status_code == 302
    fresh()
    enrollment = db.session.scalar(select(Enrollment))
    assert enrollment.trainee.full_name == "Thạch Thị Sa Rươl" and enrollment.status == "confirmed"


def test_withdrawal_on_the_roster_promotes_the_first_waitlisted(client, make, tree):
    course = make.course(tree["x_codo"], status="open", capacity=1)
    seated = make.enrollment(course, make.trainee("Trương Văn Lợi", sex="nam"))
    first = make.enrollment(course, make.trainee("Lý Thị Kiều"), status="waitlisted", waitlist_position=1)
    second = make.enrollment(course, make.trainee("Kim Thị Thu"), status="waitlisted", waitlist_position=2)
    login(client, make.user("organizer", unit=tree["x_codo"]))
    response = client.post(f"/enrollments/{seated.id}/withdraw")
    assert response.status_code == 302
    assert "Lý Thị Kiều" in client.get(response.headers["Location"]).get_data(as_text=True)
    fresh()
    assert db.session.get(Enrollment, first.id).status == "confirmed"
    assert (db.session.get(Enrollment, second.id).status, db.session.get(Enrollment, second.id).waitlist_position) == ("waitlisted", 1)
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"enrollment.withdraw", "enrollment.promote"} <= actions


def test_bulk_approval_fills_seats_in_registration_order(client, make, tree):
    course = make.course(tree["x_codo"], status="open", capacity=2, needs_approval=True)
    pending = [make.enrollment(course, make.trainee(f"Nguyễn Thị Chờ{i}"), status="pending", source="self") for i in range(3)]
    rejected = make.enrollment(course, make.trainee("Lê Văn Từ", sex="nam"), status="pending", source="self")
    login(client, make.user("organizer", unit=tree["x_codo"]))
    assert "Duyệt các đăng ký đã chọn" in client.get(f"/classes/{course.id}?status=pending").get_data(as_text=True)
    client.post(f"/classes/{course.id}/decide", data={"action": "approve", "ids": [e.id for e in pending]})
    client.post(f"/classes/{course.id}/decide", data={"action": "reject", "ids": [rejected.id], "note": "Không thuộc đối tượng"})
    fresh()
    statuses = [(db.session.get(Enrollment, e.id).status, db.session.get(Enrollment, e.id).waitlist_position) for e in pending]
    assert statuses == [("confirmed", None), ("confirmed", None), ("waitlisted", 1)]
    assert db.session.get(Enrollment, rejected.id).status == "rejected"


def test_approving_a_non_pending_registration_changes_nothing(client, make, tree):
    course = make.course(tree["x_codo"], status="open", capacity=5, needs_approval=True)
    pending = make.enrollment(course, status="pending", source="self")
    confirmed = make.enrollment(course)
    login(client, make.user("organizer", unit=tree["x_codo"]))
    client.post(f"/classes/{course.id}/decide", data={"action": "approve", "ids": [pending.id, confirmed.id]})
    fresh()
    assert db.session.get(Enrollment, pending.id).status == "pending"


# --------------------------------------------------------------------------------------------
# Scope
# --------------------------------------------------------------------------------------------
def test_organizer_of_another_unit_gets_404_everywhere(client, make, tree):
    course = make.course(tree["x_vt"], status="running", capacity=5)
    enrollment = make.enrollment(course, make.trainee("Trần Thị Vân"))
    session_id = course.sessions[0].id
    login(client, make.user("organizer", unit=tree["x_codo"]))
    gets = [
        f"/classes/{course.id}",
        f"/classes/{course.id}/add",
        f"/classes/{course.id}/add/new",
        f"/classes/{course.id}/export.xlsx",
        f"/classes/{course.id}/attendance",
        f"/classes/{course.id}/import",
        f"/classes/{course.id}/sessions/{session_id}/sign-in",
        f"/trainees/{enrollment.trainee_id}",
        f"/trainees/{enrollment.trainee_id}/edit",
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = [
        f"/classes/{course.id}/enrol",
        f"/classes/{course.id}/decide",
        f"/enrollments/{enrollment.id}/withdraw",
        f"/classes/{course.id}/attendance",
        f"/classes/{course.id}/attendance/{session_id}/all-present",
        f"/trainees/{enrollment.trainee_id}/edit",
    ]
    for url in posts:
        assert client.post(url, data={"trainee_id": enrollment.trainee_id, "ids": [enrollment.id], "action": "approve"}).status_code == 404, url
    assert "Trần Thị Vân" not in client.get("/trainees").get_data(as_text=True)
    assert course.code not in client.get("/classes").get_data(as_text=True)
    fresh()
    assert db.session.get(Enrollment, enrollment.id).status == "confirmed"
    assert db.session.scalar(select(func.count(Attendance.id))) == 0


def test_duplicates_and_merge_are_for_admins_only(client, make, tree):
    login(client, make.user("organizer", unit=tree["x_codo"]))
    assert client.get("/trainees/duplicates").status_code == 403
    assert client.post("/trainees/merge", data={"keep_id": 1, "ids": [1, 2]}).status_code == 403


def test_forms_need_their_csrf_token(client, make, tree, csrf_on):
    course = make.course(tree["x_codo"], status="open", capacity=5)
    login(client, make.user("organizer", unit=tree["x_codo"]))
    assert client.post(f"/classes/{course.id}/enrol", data={"trainee_id": 1}).status_code == 400
    token = csrf_token(client, f"/classes/{course.id}/add/new")
    data = _guest(csrf_token=token)
    for key in ("password", "confirm", "consent"):
        data.pop(key)
    assert client.post(f"/classes/{course.id}/add/new", data=data).status_code == 302


# --------------------------------------------------------------------------------------------
# Attendance, exports, sign-in sheet
# --------------------------------------------------------------------------------------------
@pytest.fixture
def running(make, tree):
    start = TODAY - timedelta(days=2)
    course = make.course(
        tree["x_codo"],
        status="running",
        capacity=10,
        start_date=start,
        end_date=start + timedelta(days=4),
        sessions=[(start, "07:30", "11:00"), (start + timedelta(days=1), "07:30", "11:00"), (start + timedelta(days=4), "07:30", "11:00")],
    )
    a = make.enrollment(course, make.trainee("Thạch Thị Sa Rươl", personal_id="092185004321"))
    b = make.enrollment(course, make.trainee("Kim Văn Sóc", sex="nam"))
    return course, a, b


def test_attendance_grid_all_present_then_corrections_and_rate_on_roster(client, make, tree, running):
    course, a, b = running
    held, second, future = course.sessions
    login(client, make.user("organizer", unit=tree["x_codo"]))
    html = client.get(f"/classes/{course.id}/attendance").get_data(as_text=True)
    assert f'name="m-{a.id}-{held.id}"' in html and f'name="m-{a.id}-{future.id}"' not in html
    client.post(f"/classes/{course.id}/attendance/{held.id}/all-present")
    client.post(f"/classes/{course.id}/attendance", data={f"m-{a.id}-{second.id}": "present", f"m-{b.id}-{second.id}": "excused"})
    fresh()
    marks = {(m.enrollment_id, m.session_id): m.status for m in db.session.scalars(select(Attendance))}
    assert marks == {(a.id, held.id): "present", (b.id, held.id): "present", (a.id, second.id): "present", (b.id, second.id): "excused"}
    html = client.get(f"/classes/{course.id}").get_data(as_text=True)
    assert "100% <span" in html and "50% <span" in html
    # a future session cannot be marked
    client.post(f"/classes/{course.id}/attendance", data={f"m-{a.id}-{future.id}": "present"})
    fresh()
    assert db.session.scalar(select(func.count(Attendance.id))) == 4


def test_attendance_is_refused_before_the_course_runs(client, make, tree):
    course = make.course(tree["x_codo"], status="open", start_date=TODAY - timedelta(days=1))
    enrollment = make.enrollment(course)
    login(client, make.user("organizer", unit=tree["x_codo"]))
    client.post(f"/classes/{course.id}/attendance", data={f"m-{enrollment.id}-{course.sessions[0].id}": "present"})
    assert _count(Attendance) == 0


def test_export_masks_ids_unless_an_admin_asks_and_is_audited(client, make, tree, running):
    course, *_ = running
    login(client, make.user("organizer", unit=tree["x_codo"]))
    response = client.get(f"/classes/{course.id}/export.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    values = [c for row in load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True) for c in row if c]
    assert "********4321" in values and "092185004321" not in values
    assert "Thạch Thị Sa Rươl" in values
    values = [c for row in load_workbook(io.BytesIO(client.get(f"/classes/{course.id}/export.xlsx?full_ids=1").data)).active.iter_rows(values_only=True) for c in row if c]
    assert "092185004321" not in values  # organizers never get full IDs
    fresh()
    login(client, make.user("admin", unit=tree["city"]))
    values = [c for row in load_workbook(io.BytesIO(client.get(f"/classes/{course.id}/export.xlsx?full_ids=1").data)).active.iter_rows(values_only=True) for c in row if c]
    assert "092185004321" in values
    fresh()
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "enrollment.export")) == 3


def test_sign_in_sheet_pdf_per_session(client, make, tree, running):
    course, *_ = running
    login(client, make.user("organizer", unit=tree["x_codo"]))
    session = course.sessions[0]
    html = client.get(f"/classes/{course.id}/sessions/{session.id}/sign-in?format=html").get_data(as_text=True)
    assert "DANH SÁCH HỌC VIÊN KÝ TÊN" in html and html.index("Thạch Thị Sa Rươl") < html.index("Kim Văn Sóc")  # Rươl before Sóc
    response = client.get(f"/classes/{course.id}/sessions/{session.id}/sign-in")
    assert response.status_code == 200 and response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    fresh()
    other = make.course(tree["x_codo"], status="running")
    assert client.get(f"/classes/{course.id}/sessions/{other.sessions[0].id}/sign-in").status_code == 404


def test_roster_query_count_does_not_grow_with_rows(client, make, tree, count_queries, running):
    course, a, b = running
    login(client, make.user("organizer", unit=tree["x_codo"]))
    client.post(f"/classes/{course.id}/attendance/{course.sessions[0].id}/all-present")
    with count_queries() as few:
        assert client.get(f"/classes/{course.id}").status_code == 200
    fresh()
    for i in range(15):
        make.enrollment(course, make.trainee(f"Lâm Thị Hồng{i}", unit=tree["x_codo"]), status="waitlisted" if i % 2 else "confirmed", waitlist_position=i if i % 2 else None)
    client.post(f"/classes/{course.id}/attendance/{course.sessions[0].id}/all-present")
    with count_queries() as many:
        assert client.get(f"/classes/{course.id}").status_code == 200
    assert many.count == few.count
    for url in (f"/classes/{course.id}/attendance", "/trainees", "/classes"):
        with count_queries() as q1:
            client.get(url)
        fresh()
        make.enrollment(course, make.trainee("Sơn Văn Thêm", sex="nam", unit=tree["x_codo"]))
        with count_queries() as q2:
            client.get(url)
        assert q1.count == q2.count, url

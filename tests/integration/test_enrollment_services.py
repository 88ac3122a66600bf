"""Enrolment services against a real database: seats and waiting list, promotion on withdrawal
and on a capacity increase, approval, duplicates and merge, import, plan figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bdg_training.audit.models import AuditEvent
from bdg_training.database import utcnow
from bdg_training.enrollment import importer, rules, services
from bdg_training.enrollment.models import Attendance, Enrollment, ImportBatch, Trainee
from bdg_training.extensions import db
from bdg_training.rules_base import RuleViolation

NOW = utcnow()


def _statuses(course) -> list[tuple[str, str, int | None]]:
    db.session.expire_all()
    rows = db.session.scalars(select(Enrollment).where(Enrollment.course_id == course.id).order_by(Enrollment.id)).all()
    return [(e.trainee.given_name, e.status, e.waitlist_position) for e in rows]


@pytest.fixture
def actor(make):
    return make.user("organizer")


def test_registration_fills_seats_then_the_waiting_list(make, actor):
    course = make.course(status="open", capacity=2)
    people = [make.trainee(f"Nguyễn Thị {name}") for name in ("An", "Bình", "Chi", "Dung")]
    for person in people:
        services.register(None, course.id, person, now=NOW)
    db.session.commit()
    assert _statuses(course) == [("An", "confirmed", None), ("Bình", "confirmed", None), ("Chi", "waitlisted", 1), ("Dung", "waitlisted", 2)]
    with pytest.raises(RuleViolation, match="Đã ghi danh"):
        services.register(None, course.id, people[0], now=NOW)


def test_withdrawal_promotes_the_head_of_the_line_and_renumbers(make, actor):
    course = make.course(status="open", capacity=2)
    people = [make.trainee(f"Lê Văn {name}", sex="nam") for name in ("An", "Bình", "Chi", "Dung", "Em")]
    for person in people:
        services.register(None, course.id, person, now=NOW)
    db.session.commit()
    chi = db.session.scalar(select(Enrollment).where(Enrollment.trainee_id == people[2].id))
    services.withdraw(actor, chi, now=NOW)  # a waitlisted person leaves: the line moves up
    db.session.commit()
    assert _statuses(course)[2:] == [("Chi", "withdrawn", None), ("Dung", "waitlisted", 1), ("Em", "waitlisted", 2)]
    an = db.session.scalar(select(Enrollment).where(Enrollment.trainee_id == people[0].id))
    promoted = services.withdraw(actor, an, now=NOW)  # a seat frees up
    db.session.commit()
    assert [e.trainee.given_name for e in promoted] == ["Dung"]
    assert _statuses(course) == [("An", "withdrawn", None), ("Bình", "confirmed", None), ("Chi", "withdrawn", None), ("Dung", "confirmed", None), ("Em", "waitlisted", 1)]
    # a withdrawn person who registers again goes to the end of the line
    services.register(None, course.id, people[0], now=NOW)
    db.session.commit()
    assert _statuses(course)[0] == ("An", "waitlisted", 2)


def test_capacity_increase_promotes_through_rebalance_course(make, actor):
    course = make.course(status="open", capacity=1)
    people = [make.trainee(f"Trần Thị {name}") for name in ("An", "Bình", "Chi", "Dung")]
    for person in people:
        services.register(None, course.id, person, now=NOW)
    course.capacity = 3
    db.session.commit()
    promoted = services.rebalance_course(course, actor, NOW)
    db.session.commit()
    assert [e.trainee.given_name for e in promoted] == ["Bình", "Chi"]
    assert _statuses(course)[3] == ("Dung", "waitlisted", 1)
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "enrollment.promote")) == 2


def test_finished_courses_are_not_rebalanced(make, actor):
    course = make.course(status="finished", capacity=2)
    make.enrollment(course, status="waitlisted", waitlist_position=1)
    assert services.rebalance_course(course, actor, NOW) == []


def test_registration_outside_the_window_or_status_is_refused(make):
    person = make.trainee()
    later = make.course(status="open", reg_opens_at=NOW + timedelta(days=1))
    over = make.course(status="open", reg_closes_at=NOW - timedelta(minutes=1))
    closed = make.course(status="closed")
    for course, message in ((later, "Chưa mở đăng ký"), (over, "hết hạn"), (closed, "Đã đóng đăng ký")):
        with pytest.raises(RuleViolation, match=message):
            services.register(None, course.id, person, now=NOW)
    assert db.session.scalar(select(func.count(Enrollment.id))) == 0


def test_courses_needing_approval_hold_registrations_as_pending(make, actor):
    course = make.course(status="open", capacity=1, needs_approval=True)
    a, b = make.trainee("Kim Thị Ánh"), make.trainee("Kim Thị Bé")
    ea = services.register(None, course.id, a, now=NOW)
    eb = services.register(None, course.id, b, now=NOW + timedelta(seconds=1))
    assert (ea.status, eb.status) == ("pending", "pending")
    result = services.decide(actor, course, [eb.id, ea.id], approve=True, now=NOW)
    db.session.commit()
    assert result == {"confirmed": 1, "waitlisted": 1}
    assert (ea.status, eb.status, eb.waitlist_position) == ("confirmed", "waitlisted", 1)  # registration order
    with pytest.raises(RuleViolation, match="Chỉ duyệt"):
        services.decide(actor, course, [ea.id], approve=False, now=NOW)


def test_attendance_marks_and_rate(make, actor):
    today = date.today()
    course = make.course(status="running", start_date=today - timedelta(days=1), end_date=today + timedelta(days=3),
                         sessions=[(today - timedelta(days=1), "07:30", "11:00"), (today, "07:30", "11:00"), (today + timedelta(days=3), "07:30", "11:00")])
    enrollment = make.enrollment(course)
    s1, s2, s3 = course.sessions
    services.save_attendance(actor, course, {(enrollment.id, s1.id): "present", (enrollment.id, s2.id): "absent"}, today=today, now=NOW)
    with pytest.raises(RuleViolation, match="đã diễn ra"):
        services.save_attendance(actor, course, {(enrollment.id, s3.id): "present"}, today=today, now=NOW)
    db.session.commit()
    row = services.roster(course, today=today)[0]
    assert (row.summary.held, row.summary.present, row.summary.rate) == (2, 1, 0.5)
    services.save_attendance(actor, course, {(enrollment.id, s2.id): None}, today=today, now=NOW)  # clear a mark
    db.session.commit()
    assert db.session.scalar(select(func.count(Attendance.id))) == 1


# --------------------------------------------------------------------------------------------
# Duplicates and merge
# --------------------------------------------------------------------------------------------
def test_duplicate_groups_by_folded_name_birth_sex_and_by_id(make):
    a = make.trainee("Nguyễn Thị Hoà", birth_date=date(1985, 2, 5))
    b = make.trainee("NGUYỄN THỊ HÒA", birth_date=date(1985, 2, 5))
    make.trainee("Nguyễn Thị Hòa", birth_date=date(1986, 2, 5))  # another birthday
    make.trainee("Nguyễn Văn Hòa", sex="nam", birth_date=date(1985, 2, 5))  # another person
    c = make.trainee("Lê Văn Tám", sex="nam", personal_id="092080001234")
    d = make.trainee("Lê Văn Tam", sex="nam", cmnd="092080001234")
    groups = [{t.id for t in g} for g in services.duplicate_groups()]
    assert sorted(groups, key=min) == sorted([{a.id, b.id}, {c.id, d.id}], key=min)


def test_merge_keeps_every_enrolment_and_is_audited(make, actor):
    admin = make.user("admin")
    today = date.today()
    c1 = make.course(status="running", start_date=today - timedelta(days=1), sessions=[(today - timedelta(days=1), "07:30", "11:00"), (today, "07:30", "11:00")])
    c2 = make.course(status="open", capacity=5)
    c3 = make.course(status="open", capacity=1)
    keep = make.trainee("Thạch Thị Sa Rươl", birth_date=date(1985, 2, 5), phone=None)
    user = make.user("trainee", username="0912345678")
    drop = make.trainee("Thạch Thị Sa Rươl", birth_date=date(1985, 2, 5), phone="+84912345678", personal_id="092185001234", user=user)
    k1 = make.enrollment(c1, keep)
    d1 = make.enrollment(c1, drop, status="withdrawn")
    db.session.add(Attendance(enrollment=d1, session=c1.sessions[1], status="present"))
    db.session.add(Attendance(enrollment=k1, session=c1.sessions[0], status="present"))
    d2 = make.enrollment(c2, drop)
    other = make.enrollment(c3, make.trainee("Kim Văn Sol", sex="nam"))
    d3 = make.enrollment(c3, drop, status="waitlisted", waitlist_position=1)
    db.session.commit()
    drop_id = drop.id

    services.merge_trainees(admin, keep, drop, now=NOW)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Trainee, drop_id) is None
    kept = db.session.get(Trainee, keep.id)
    assert {e.course_id: e.status for e in kept.enrollments} == {c1.id: "confirmed", c2.id: "confirmed", c3.id: "waitlisted"}
    assert {(a.session_id, a.status) for a in db.session.get(Enrollment, k1.id).attendances} == {(c1.sessions[0].id, "present"), (c1.sessions[1].id, "present")}
    assert (kept.personal_id, kept.phone, kept.user_id) == ("092185001234", "+84912345678", user.id)
    assert db.session.get(Enrollment, d2.id).trainee_id == kept.id and db.session.get(Enrollment, d3.id).waitlist_position == 1
    assert db.session.get(Enrollment, other.id).status == "confirmed"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "trainee.merge"))
    assert event.changes["removed"]["id"] == drop_id and event.changes["removed"]["personal_id"] == "…1234"
    assert sorted(event.changes["moved_enrollments"]) == sorted([d2.id, d3.id])
    with pytest.raises(RuleViolation):
        services.merge_trainees(admin, kept, kept, now=NOW)


def test_merge_with_two_accounts_locks_the_dropped_one(make):
    admin = make.user("admin")
    u1, u2 = make.user("trainee"), make.user("trainee")
    keep = make.trainee("Lý Thị Mai", user=u1)
    drop = make.trainee("Lý Thị Mai", user=u2)
    services.merge_trainees(admin, keep, drop, now=NOW)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(type(u2), u2.id).active is False
    assert db.session.get(Trainee, keep.id).user_id == u1.id


# --------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------
def _table(rows) -> importer.RawTable:
    headers = ["Họ", "Tên đệm", "Tên", "Giới tính", "Ngày sinh", "Số định danh cá nhân (CCCD)"]
    return importer.RawTable(headers=headers, keys=importer.map_headers(headers), rows=[[i + 2, row] for i, row in enumerate(rows)])


def test_import_commits_all_rows_reusing_existing_people(make, actor):
    course = make.course(status="open", capacity=2)
    existing = make.trainee("Nguyễn Thị Hoà", birth_date=date(1985, 2, 5))
    table = _table([
        ["Nguyễn", "Thị", "Hòa", "Nữ", "05/02/1985", None],
        ["Lâm", "Văn", "Tư", "Nam", "1970", "092070001234"],
        ["Quách", "Thị", "Lan", "Nữ", None, None],
    ])
    batch = services.store_batch(actor, course, "lop.xlsx", table, now=NOW)
    preview = services.preview_batch(batch, today=date.today())
    assert preview.ok and preview.existing_count == 1 and preview.new_count == 2
    counts = services.commit_import(actor, batch, today=date.today(), now=NOW)
    db.session.commit()
    assert counts == {"existing": 1, "new": 2, "confirmed": 2, "waitlisted": 1}
    assert db.session.scalar(select(func.count(Trainee.id))) == 3
    assert db.session.scalar(select(func.count(ImportBatch.id))) == 0
    assert db.session.scalar(select(Enrollment.source).where(Enrollment.trainee_id == existing.id)) == "import"


def test_import_is_all_or_nothing_and_rechecks_at_commit(make, actor):
    course = make.course(status="open", capacity=10)
    table = _table([["Lâm", "Văn", "Tư", "Nam", "1970", "092070001234"], ["Sơn", "Thị", "Mỹ", "Nữ", None, None]])
    batch = services.store_batch(actor, course, "lop.xlsx", table, now=NOW)
    db.session.commit()
    # meanwhile someone registers the same person with the same ID under another name
    make.trainee("Lâm Văn Tài", sex="nam", personal_id="092070001234")
    with pytest.raises(RuleViolation, match="1 dòng lỗi"):
        services.commit_import(actor, batch, today=date.today(), now=NOW)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Enrollment.id))) == 0
    assert db.session.scalar(select(func.count(Trainee.id))) == 1


def test_a_legacy_file_is_not_committed_before_conversion(make, actor):
    course = make.course(status="open")
    table = _table([["NguyÔn", "ThÞ", "H­êng", "N÷", None, None], ["TrÇn", "V¨n", "§øc", "Nam", None, None]])
    batch = services.store_batch(actor, course, "cu.xlsx", table, now=NOW)
    assert batch.encoding == "tcvn3"
    with pytest.raises(RuleViolation, match="bảng mã cũ"):
        services.commit_import(actor, batch, today=date.today(), now=NOW)
    batch.convert = True
    services.commit_import(actor, batch, today=date.today(), now=NOW)
    db.session.commit()
    assert sorted(db.session.scalars(select(Trainee.full_name))) == ["Nguyễn Thị Hường", "Trần Văn Đức"]


# --------------------------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------------------------
def test_plan_actuals_count_persons_who_attended(make, actor):
    unit = make.unit()
    plan = make.plan(unit)
    today = date.today()
    day = today - timedelta(days=1)
    c1 = make.course(unit, status="running", plan=plan, start_date=day, sessions=[(day, "07:30", "11:00")])
    c2 = make.course(unit, status="running", plan=plan, start_date=day, sessions=[(day, "13:30", "16:00")])
    woman, man, absent = make.trainee("Sơn Thị Mai"), make.trainee("Danh Văn Hải", sex="nam"), make.trainee("Lý Thị Vắng")
    for course in (c1, c2):  # the woman attends two courses: one person
        e = make.enrollment(course, woman)
        db.session.add(Attendance(enrollment=e, session=course.sessions[0], status="present"))
    e = make.enrollment(c1, man)
    db.session.add(Attendance(enrollment=e, session=c1.sessions[0], status="present"))
    e = make.enrollment(c1, absent)
    db.session.add(Attendance(enrollment=e, session=c1.sessions[0], status="absent"))
    db.session.commit()
    assert services.plan_actuals(plan.id) == {"trainees": 2, "women": 1, "female_pct": 50.0}
    assert services.plan_actuals(make.plan(unit, year=2030).id) == {"trainees": 0, "women": 0, "female_pct": None}


def test_sign_up_creates_account_and_trainee(make):
    clean = rules.clean_trainee(rules.TraineeInput(family_name="Kim", given_name="Sương", sex="nu", phone="0387 123 456"), date.today())
    user, trainee = services.sign_up(clean, password="mot-mat-khau-dai", unit_id=None, now=datetime(2026, 1, 1, tzinfo=UTC))
    db.session.commit()
    assert user.username == "0387123456" and trainee.user_id == user.id and trainee.consent_at is not None
    with pytest.raises(RuleViolation) as caught:
        services.sign_up(clean, password="mot-mat-khau-dai", unit_id=None, now=NOW)
    assert "phone" in caught.value.errors


def test_raising_the_capacity_in_the_course_form_moves_the_waiting_list(make):
    from bdg_training.courses import services as course_services

    unit = make.unit()
    organizer = make.user("organizer", unit=unit)
    course = make.course(unit, status="open", capacity=1)
    people = [make.trainee(f"Danh Thị {name}") for name in ("An", "Bình", "Chi")]
    for person in people:
        services.register(None, course.id, person, now=NOW)
    db.session.commit()
    course_services.update_course(organizer, course, capacity=2)
    db.session.commit()
    assert _statuses(course) == [("An", "confirmed", None), ("Bình", "confirmed", None), ("Chi", "waitlisted", 1)]


def test_plan_summaries_show_actual_trainees_and_share_of_women(make):
    from bdg_training.courses import services as course_services

    unit = make.unit()
    plan = make.plan(unit)
    day = date.today() - timedelta(days=1)
    course = make.course(unit, status="running", plan=plan, start_date=day, sessions=[(day, "07:30", "11:00")])
    for name, sex in (("Sơn Thị Mai", "nu"), ("Kim Thị Lan", "nu"), ("Danh Văn Hải", "nam")):
        e = make.enrollment(course, make.trainee(name, sex=sex))
        db.session.add(Attendance(enrollment=e, session=course.sessions[0], status="present"))
    db.session.commit()
    summary = course_services.plan_summary(plan)
    assert summary.actual_trainees == 3 and float(summary.actual_female_pct) == 66.7


def test_merge_moves_certificates_to_the_kept_person(make):
    from bdg_training.certificates import services as certificate_services
    from bdg_training.certificates.models import Certificate
    from bdg_training.database import utcnow

    world = make.certificate_class([{"name": "Sơn Thị Sa Ly", "birth_date": date(1990, 3, 4)}])
    signer = make.user("signer", unit=world["issuer"])
    (certificate,) = certificate_services.issue_all(signer, world["course"].id, now=utcnow())
    db.session.commit()
    drop = world["enrollments"][0].trainee
    keep = make.trainee("Sơn Thị Sa Ly", birth_date=date(1990, 3, 4))
    services.merge_trainees(make.user("admin"), keep, drop, now=NOW)
    db.session.commit()
    db.session.expire_all()
    moved = db.session.get(Certificate, certificate.id)
    assert moved.trainee_id == keep.id and moved.status == "valid"
    assert moved.snapshot["full_name"] == "Sơn Thị Sa Ly"


def test_merge_refuses_to_drop_an_enrolment_that_holds_test_results(make):
    course = make.course(status="finished")
    keep = make.trainee("Danh Thị Mỹ", birth_date=date(1988, 1, 2))
    drop = make.trainee("Danh Thị Mỹ", birth_date=date(1988, 1, 2))
    make.enrollment(course, keep)
    loser = make.enrollment(course, drop, status="withdrawn")
    make.post_score(loser, 7)
    with pytest.raises(RuleViolation) as error:
        services.merge_trainees(make.user("admin"), keep, drop, now=NOW)
    assert "bài kiểm tra hoặc giấy chứng nhận" in str(error.value)
    db.session.rollback()
    assert db.session.get(Trainee, drop.id) is not None

"""Course services with a database: plans vs courses, cloning, search, status changes, clashes,
and the demo data."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bdg_training.audit.models import AuditEvent
from bdg_training.courses import rules, services
from bdg_training.courses.models import Course, TrainingPlan
from bdg_training.extensions import db
from bdg_training.rules_base import RuleViolation

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


@pytest.fixture
def world(make):
    t = make.reform_tree()
    t["organizer"] = make.user("organizer", unit=t["x_codo"])
    t["topic"] = make.topic("Luật Bình đẳng giới và kỹ năng lồng ghép giới")
    return t


# --------------------------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------------------------
def test_plan_summary_counts_planned_scheduled_finished(world, make, count_queries):
    plan = make.plan(world["x_codo"], 2026, planned_courses=4)
    other = make.plan(world["x_vt"], 2026, planned_courses=2)
    for status in ("draft", "open", "finished", "finished", "cancelled"):
        make.course(world["x_codo"], plan=plan, status=status)
    make.course(world["x_vt"], plan=other, status="running")
    make.course(world["x_codo"], status="finished")  # not in the plan

    summary = services.plan_summary(plan)
    _ = (plan.id, other.id)  # loaded, so the count below is the summary query alone
    assert (summary.planned_courses, summary.scheduled_courses, summary.finished_courses, summary.cancelled_courses) == (4, 4, 2, 1)
    assert (summary.scheduled_pct, summary.finished_pct) == (100, 50)
    assert summary.actual_trainees == 0 and summary.trainees_pct == 0  # filled in by enrolment: nobody attended yet
    assert summary.actual_female_pct is None

    with count_queries() as q:
        summaries = services.plan_summaries([plan, other])
    assert q.count == 2  # courses by status, and the enrolment feature's actual trainees
    assert summaries[other.id].scheduled_courses == 1 and summaries[other.id].finished_courses == 0


def test_create_plan_with_targets_and_refuse_duplicate_year(world):
    actor = world["organizer"]
    plan = services.create_plan(
        actor,
        unit_id=world["x_codo"].id,
        year=2026,
        planned_courses=4,
        planned_trainees=160,
        planned_female_pct=Decimal("60"),
        targets=[
            {"indicator": "Cán bộ được tập huấn", "source_document": "28/NQ-CP", "target_value": Decimal("100"), "measure": "%"},
            {"indicator": "", "source_document": ""},  # blank row: ignored
        ],
    )
    assert [t.indicator for t in plan.targets] == ["Cán bộ được tập huấn"]
    with pytest.raises(RuleViolation) as exc:
        services.create_plan(actor, unit_id=world["x_codo"].id, year=2026, planned_courses=1, planned_trainees=1)
    assert exc.value.errors == {"year": ["xã Cờ Đỏ đã có kế hoạch năm 2026."]}
    with pytest.raises(RuleViolation) as exc:  # another unit's plan is out of scope
        services.create_plan(actor, unit_id=world["x_vt"].id, year=2026, planned_courses=1, planned_trainees=1)
    assert exc.value.errors == {"unit_id": ["Đơn vị không thuộc phạm vi quản lý của bạn."]}


def test_update_plan_edits_removes_and_adds_target_rows_ignoring_foreign_ids(world, make):
    actor = world["organizer"]
    other_plan = make.plan(world["x_vt"], 2026)
    services.create_plan(actor, unit_id=world["x_codo"].id, year=2026, planned_courses=1, planned_trainees=1)
    plan = db.session.scalar(select(TrainingPlan).where(TrainingPlan.unit_id == world["x_codo"].id))
    services.update_plan(actor, plan, targets=[{"indicator": "A"}, {"indicator": "B"}])
    foreign = services.create_plan(world["organizer"], unit_id=world["vstbpn_codo"].id, year=2026, planned_courses=0, planned_trainees=0, targets=[{"indicator": "Z"}])
    a, b = plan.targets
    services.update_plan(
        actor,
        plan,
        planned_courses=3,
        targets=[
            {"id": a.id, "indicator": "A sửa"},
            {"id": b.id, "indicator": "B", "delete": True},
            {"id": foreign.targets[0].id, "indicator": "giả mạo"},  # not this plan's row: added as new, the other untouched
            {"indicator": "C"},
        ],
    )
    db.session.flush()
    db.session.expire_all()
    assert [t.indicator for t in db.session.get(TrainingPlan, plan.id).targets] == ["A sửa", "giả mạo", "C"]
    assert [t.indicator for t in db.session.get(TrainingPlan, foreign.id).targets] == ["Z"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "plan.update").order_by(AuditEvent.id.desc())).first()
    assert event.changes["planned_courses"] == [1, 3]
    assert event.changes["targets"] == ["A; B", "A sửa; giả mạo; C"]
    assert other_plan.targets == []


def test_plan_with_courses_cannot_be_deleted(world, make):
    plan = make.plan(world["x_codo"], 2026)
    make.course(world["x_codo"], plan=plan)
    with pytest.raises(RuleViolation, match="Kế hoạch đang có 1 lớp"):
        services.delete_plan(world["organizer"], plan)


# --------------------------------------------------------------------------------------------
# Courses
# --------------------------------------------------------------------------------------------
def _values(world, **changes):
    values = {
        "code": "",
        "title": "Tập huấn Luật Bình đẳng giới",
        "topic_id": world["topic"].id,
        "unit_id": world["x_codo"].id,
        "capacity": 40,
        "start_date": date(2026, 12, 7),
        "end_date": date(2026, 12, 8),
        "reg_opens_at": datetime(2026, 11, 20, 1, 0, tzinfo=UTC),
        "reg_closes_at": datetime(2026, 12, 4, 10, 0, tzinfo=UTC),
        "target_groups": ["hoi_vien", "can_bo", "khong_co"],
    }
    return values | changes


def test_create_course_fills_code_plan_and_defaults_and_audits(world, make):
    world["x_codo"].short_code = "CĐ"
    plan = make.plan(world["x_codo"], 2026)
    course = services.create_course(world["organizer"], **_values(world))
    assert course.code == "CD-2026-01" and course.status == rules.DRAFT
    assert course.plan_id == plan.id  # the unit's plan for the end-date year
    assert course.target_groups == ["can_bo", "hoi_vien"]  # known codes, in list order
    assert (course.pass_mark, course.min_attendance_pct) == (Decimal("5.00"), Decimal("80.00"))
    assert course.search_key == "tap huan luat binh dang gioi cd-2026-01"
    assert services.create_course(world["organizer"], **_values(world)).code == "CD-2026-02"
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "course.create")) == 2


def test_course_code_must_be_unique_case_insensitively(world, make):
    make.course(world["x_codo"], code="CD-2026-01")
    with pytest.raises(RuleViolation) as exc:
        services.create_course(world["organizer"], **_values(world, code="cd-2026-01"))
    assert exc.value.errors == {"code": ["Mã lớp “CD-2026-01” đã được dùng cho một lớp khác."]}


def test_course_of_a_unit_closed_before_its_start_is_refused(world):
    with pytest.raises(RuleViolation) as exc:
        services.create_course(world["organizer"], **_values(world, unit_id=world["h_codo"].id, reg_opens_at=None, reg_closes_at=None))
    assert list(exc.value.errors) == ["unit_id"]


def test_signer_sets_issuing_unit_and_must_belong_to_it(world, make):
    signer = make.signer(world["x_codo"], full_name="Lê Văn Hùng")
    course = services.create_course(world["organizer"], **_values(world, signer_id=signer.id))
    assert course.issuing_unit_id == world["x_codo"].id
    with pytest.raises(RuleViolation) as exc:
        services.update_course(world["organizer"], course, issuing_unit_id=world["city"].id)
    assert exc.value.errors == {"signer_id": ["Người ký phải thuộc đơn vị cấp giấy chứng nhận."]}


def test_search_ignores_case_diacritics_and_word_order_and_escapes_wildcards(world, make):
    make.course(world["x_codo"], code="CD-2026-01", title="Luật Bình đẳng giới")
    make.course(world["x_codo"], code="CD-2026-02", title="Phòng, chống bạo lực gia đình")
    make.course(world["x_codo"], code="X_100%", title="Khác")

    def found(q):
        return sorted(c.code for c in db.session.scalars(services.course_query(actor=world["organizer"], q=q)))

    assert found("luat binh dang") == ["CD-2026-01"]
    assert found("GIỚI bình") == ["CD-2026-01"]
    assert found("bao luc") == ["CD-2026-02"]
    assert found("cd-2026") == ["CD-2026-01", "CD-2026-02"]
    assert found("100%") == ["X_100%"]
    assert found("%") == ["X_100%"]  # a literal percent sign, not a wildcard
    assert found("hòa") == []


def test_opening_publishes_and_cancelling_keeps_the_reason(world, make):
    course = make.course(world["x_codo"], reg_closes_at=datetime(2026, 12, 4, 10, 0, tzinfo=UTC))
    assert course.published_at is None and not course.is_public
    services.change_status(world["organizer"], course, rules.OPEN, now=NOW)
    assert course.published_at == NOW and course.is_public
    services.change_status(world["organizer"], course, rules.CANCELLED, now=NOW + timedelta(days=1), reason="  Không đủ học viên. ")
    assert course.cancel_reason == "Không đủ học viên." and course.is_public and course.published_at == NOW
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "course.status").order_by(AuditEvent.id)).all()
    assert [e.changes["status"] for e in events] == [["draft", "open"], ["open", "cancelled"]]


def test_status_change_refusals(world, make):
    course = make.course(world["x_codo"], sessions=[])
    with pytest.raises(RuleViolation) as exc:
        services.change_status(world["organizer"], course, rules.OPEN, now=NOW)
    assert list(exc.value.errors) == ["sessions"]
    with pytest.raises(RuleViolation) as exc:
        services.change_status(world["organizer"], course, rules.CANCELLED, now=NOW, reason="  ")
    assert exc.value.errors == {"reason": ["Vui lòng nhập lý do hủy lớp."]}
    assert course.status == rules.DRAFT


def test_only_drafts_are_deleted(world, make):
    draft, opened = make.course(world["x_codo"]), make.course(world["x_codo"], status="open")
    with pytest.raises(RuleViolation):
        services.delete_course(world["organizer"], opened)
    services.delete_course(world["organizer"], draft)
    assert db.session.get(Course, draft.id) is None


# --------------------------------------------------------------------------------------------
# Cloning
# --------------------------------------------------------------------------------------------
def test_clone_to_next_year_shifts_everything_by_the_same_days(world, make):
    signer = make.signer(world["x_codo"], full_name="Lê Văn Hùng")
    course = make.course(
        world["x_codo"],
        code="CD-2026-01",
        start_date=date(2026, 3, 2),
        end_date=date(2026, 3, 4),
        status="finished",
        reg_opens_at=datetime(2026, 2, 1, 1, 0, tzinfo=UTC),
        reg_closes_at=datetime(2026, 2, 27, 10, 0, tzinfo=UTC),
        sessions=[(date(2026, 3, 2), "07:30", "11:00", {"trainer": "A", "subject": "Buổi 1"}), (date(2026, 3, 4), "13:30", "16:30")],
        issuing_unit=world["x_codo"],
        signer=signer,
        target_groups=["can_bo"],
    )
    plan_2027 = make.plan(world["x_codo"], 2027)
    clone = services.clone_course(world["organizer"], course, unit_id=world["x_codo"].id, start_date=rules.shift_to_next_year(course.start_date))
    assert clone.status == rules.DRAFT and clone.cloned_from_id == course.id and clone.published_at is None
    assert clone.code.endswith("-2027-01") and clone.title == course.title
    assert (clone.start_date, clone.end_date) == (date(2027, 3, 2), date(2027, 3, 4))
    assert [(s.date, s.start_time, s.trainer, s.subject) for s in clone.sessions] == [
        (date(2027, 3, 2), time(7, 30), "A", "Buổi 1"),
        (date(2027, 3, 4), time(13, 30), None, None),
    ]
    delta = timedelta(days=365)
    assert services.utc(clone.reg_opens_at) == datetime(2026, 2, 1, 1, 0, tzinfo=UTC) + delta
    assert services.utc(clone.reg_closes_at) == datetime(2026, 2, 27, 10, 0, tzinfo=UTC) + delta
    assert clone.plan_id == plan_2027.id and clone.signer_id == signer.id and clone.target_groups == ["can_bo"]
    assert len(course.sessions) == 2  # the original is untouched
    assert db.session.scalar(select(AuditEvent.summary).where(AuditEvent.action == "course.clone")).startswith("Nhân bản lớp CD-2026-01 thành")


def test_clone_keeping_the_weekday_and_to_another_unit(world, make):
    signer = make.signer(world["x_codo"], full_name="Lê Văn Hùng")
    course = make.course(world["x_codo"], start_date=date(2026, 3, 2), end_date=date(2026, 3, 3), issuing_unit=world["x_codo"], signer=signer)  # a Monday
    clone = services.clone_course(
        world["organizer"], course, unit_id=world["vstbpn_codo"].id, start_date=date(2027, 3, 2), keep_weekday=True, code="VSTBPN-2027-A", title="Lớp mới"
    )
    assert clone.start_date == date(2027, 3, 8) and clone.start_date.weekday() == 0
    assert clone.end_date == date(2027, 3, 9) and clone.sessions[0].date == date(2027, 3, 8)
    assert (clone.unit_id, clone.code, clone.title) == (world["vstbpn_codo"].id, "VSTBPN-2027-A", "Lớp mới")
    assert clone.signer_id is None and clone.issuing_unit_id is None  # another unit chooses its own issuer


def test_clone_into_a_unit_outside_scope_is_refused(world, make):
    course = make.course(world["x_codo"])
    with pytest.raises(RuleViolation) as exc:
        services.clone_course(world["organizer"], course, unit_id=world["x_vt"].id, start_date=date(2027, 1, 4))
    assert exc.value.errors == {"unit_id": ["Đơn vị không thuộc phạm vi quản lý của bạn."]}


# --------------------------------------------------------------------------------------------
# Sessions and clashes
# --------------------------------------------------------------------------------------------
def test_session_must_keep_registration_before_the_first_session(world, make):
    course = make.course(world["x_codo"], reg_closes_at=datetime(2026, 12, 6, 10, 0, tzinfo=UTC), start_date=date(2026, 12, 5), end_date=date(2026, 12, 8), sessions=[(date(2026, 12, 7), "07:30", "11:00")])
    errors = services.session_errors_for(course, {"date": date(2026, 12, 5), "start_time": time(7, 30), "end_time": time(11, 0)})
    assert list(errors) == ["date"] and "Hạn đăng ký của lớp" in errors["date"][0]


def test_clash_warnings_name_only_courses_in_scope(world, make):
    day = date(2026, 12, 7)
    mine = make.course(world["x_codo"], title="Lớp của tôi", sessions=[(day, "08:00", "10:00", {"trainer": "Nguyễn Văn A"})])
    make.course(world["x_vt"], title="Lớp Vĩnh Thạnh bí mật", venue="Hội trường X", sessions=[(day, "09:00", "11:00", {"trainer": "nguyen van a"})])
    make.course(world["vstbpn_codo"], title="Lớp ban", venue="Khác", sessions=[(day, "09:30", "10:30", {"trainer": "Nguyễn  Văn A"})])
    make.course(world["x_codo"], title="Lớp đã hủy", status="cancelled", sessions=[(day, "08:00", "10:00", {"trainer": "Nguyễn Văn A"})])
    make.course(world["x_codo"], title="Lớp sát giờ", venue="Khác nữa", sessions=[(day, "10:00", "11:00", {"trainer": "Nguyễn Văn A"})])
    warnings = services.course_clash_warnings(mine, actor=world["organizer"])[mine.sessions[0].id]
    assert warnings == [
        "Trùng giảng viên “nguyen van a” với buổi học 09:00–11:00 ngày 07/12/2026.",  # xã Vĩnh Thạnh: not named
        "Trùng giảng viên “Nguyễn  Văn A” với buổi học 09:30–10:30 ngày 07/12/2026 của lớp “Lớp ban”.",
    ]
    assert not any("bí mật" in w or "hủy" in w or "sát giờ" in w for w in warnings)


def test_last_session_of_a_published_course_cannot_be_deleted(world, make):
    course = make.course(world["x_codo"], status="open")
    with pytest.raises(RuleViolation, match="ít nhất một buổi học"):
        services.delete_session(world["organizer"], course.sessions[0])
    draft = make.course(world["x_codo"])
    services.delete_session(world["organizer"], draft.sessions[0])
    assert draft.sessions == []


# --------------------------------------------------------------------------------------------
# Calendar feed
# --------------------------------------------------------------------------------------------
def test_course_ical_has_one_event_per_session_in_utc(world, make):
    course = make.course(world["x_codo"], title="Lớp A, B; C", status="open", venue="Hội trường", sessions=[(date(2026, 12, 7), "07:30", "11:00"), (date(2026, 12, 8), "13:30", "16:30", {"venue": "Phòng 2"})])
    text = services.course_ical(course, now=NOW, base_url="https://bdg.cantho.gov.vn", public_url="https://bdg.cantho.gov.vn/courses/catalogue/1")
    assert text.count("BEGIN:VEVENT") == 2
    assert f"UID:session-{course.sessions[0].id}@bdg.cantho.gov.vn" in text
    assert "DTSTART:20261207T003000Z" in text and "DTEND:20261208T093000Z" in text
    assert "SUMMARY:Lớp A\\, B\\; C" in text and "LOCATION:Phòng 2" in text and "LOCATION:Hội trường" in text


# --------------------------------------------------------------------------------------------
# Demo data
# --------------------------------------------------------------------------------------------
def _seed(today):
    from bdg_training.auth import demo as auth_demo
    from bdg_training.courses import demo as courses_demo
    from bdg_training.units import demo as units_demo

    units = units_demo.seed(today)
    users = auth_demo.seed(units, {u: "mat-khau-demo-1" for u, *_ in auth_demo.DEMO_USERS})
    return units, courses_demo.seed(today, units, users)


@pytest.mark.parametrize("today", [date(2026, 11, 28), date(2026, 1, 2), date(2026, 12, 31), date(2027, 6, 15)])
def test_demo_courses_agree_with_their_dates_on_any_day(app, today):
    units, courses = _seed(today)
    now = services.local_to_utc(today, time(12, 0))
    assert {c.status for c in courses.values()} == set(rules.COURSE_STATUSES)
    for key, c in courses.items():
        sessions = [services._slot(s) for s in c.sessions]
        data = rules.CourseData(c.title, c.code, c.capacity, c.start_date, c.end_date, services.utc(c.reg_opens_at), services.utc(c.reg_closes_at))
        assert rules.course_errors(data, sessions, local_tz=services.local_tz()) == {}, key
        assert c.sessions and c.topic and c.plan, key
        if c.status == rules.FINISHED:
            assert c.end_date < today, key
        elif c.status == rules.RUNNING:
            assert c.start_date <= today <= c.end_date, key
        elif c.status == rules.OPEN:
            assert rules.registration_state(c.status, services.utc(c.reg_opens_at), services.utc(c.reg_closes_at), now).is_open, key
        elif c.status == rules.CLOSED:
            assert services.utc(c.reg_closes_at) <= now and c.start_date > today, key
        elif c.status == rules.DRAFT:
            assert c.start_date > today and c.published_at is None, key
        if c.status != rules.DRAFT:
            assert c.published_at is not None, key
    listed = db.session.scalars(services.catalogue_query(now=now, today=today)).all()
    assert {c.code for c in listed} == {courses["codo_open"].code, courses["vt_open"].code}


def test_demo_is_idempotent_and_has_the_issue_s_shape(app):
    today = date(2026, 11, 28)
    units, courses = _seed(today)
    first = (db.session.scalar(select(func.count(Course.id))), db.session.scalar(select(func.count(TrainingPlan.id))))
    _seed(today)
    assert (db.session.scalar(select(func.count(Course.id))), db.session.scalar(select(func.count(TrainingPlan.id)))) == first
    _seed(today + timedelta(days=40))  # another day (and year): no course twice; only the new year's plans
    assert db.session.scalar(select(func.count(Course.id))) == first[0]

    def count(unit_key, year):
        return db.session.scalar(
            select(func.count(Course.id)).where(Course.unit_id == units[unit_key].id, Course.end_date.between(date(year, 1, 1), date(year, 12, 31)))
        )

    assert count("xa:Cờ Đỏ", 2026) == 4
    assert count("district:Cờ Đỏ", 2024) == 3
    for key in ("xa:Cờ Đỏ", "xa:Vĩnh Thạnh", "city"):
        years = set(db.session.scalars(select(TrainingPlan.year).where(TrainingPlan.unit_id == units[key].id)))
        assert {2025, 2026} <= years
    assert courses["codo_open"].signer.full_name == "Lê Văn Hùng"
    assert courses["hcodo_2024_law"].signer.full_name == "Nguyễn Thị Thu Hà"

"""``flask seed-demo --scale N``: synthetic data at scale for the report benchmark (reports/scale.py)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from bdg_training.certificates.models import Certificate
from bdg_training.courses.models import Course
from bdg_training.enrollment.models import Enrollment, Trainee
from bdg_training.extensions import db
from bdg_training.reports import scale, services


def _count(model, *where):
    return db.session.scalar(select(func.count(model.id)).where(*where))


@pytest.mark.both_dbs
def test_generate_makes_n_enrolments_and_replaces_an_earlier_run(app, make):
    today = date(2026, 7, 1)
    counts = scale.generate(300, today=today, seed=1)
    db.session.commit()
    assert counts["enrollments"] == 300 and counts["trainees"] == 120 and counts["courses"] == 12
    assert _count(Enrollment) == 300 and _count(Trainee) == 120
    # every course ends in the year; the generated rows are recognisable
    assert db.session.scalar(select(func.min(Course.end_date))) >= date(2026, 1, 2)
    assert db.session.scalar(select(func.max(Course.end_date))) <= date(2026, 12, 31)
    assert _count(Trainee, Trainee.email.like(f"%{scale.EMAIL_DOMAIN}")) == 120
    # the dashboard of the city sees them, and its totals agree with the rows behind them
    admin = make.user("admin")
    units = services.load_units(today)
    filters = services.build_filters({"year": "2026"}, admin, today=today, units=units)
    board = services.dashboard(filters, units=units)
    assert board.courses["held"] + board.courses["cancelled"] == 12
    assert 0 < board.participations.total <= 300 and 0 < board.persons.total <= 120
    assert board.participations.nam and board.participations.nu
    drill = services.drilldown(filters, "enrollments", {}, units=units)
    assert db.session.scalar(select(func.count()).select_from(drill.query.subquery())) == board.participations.total
    assert board.certificates.total == _count(Certificate, Certificate.status == "valid")
    # a second run replaces the first, and the app can still insert rows (sequences moved past the ids)
    scale.generate(100, today=today, seed=2)
    db.session.commit()
    assert _count(Enrollment) == 100 and _count(Trainee) == 40
    new = make.trainee("Nguyễn Thị Mới")
    assert new.id > 0


def test_seed_demo_scale_option(app, tmp_path):
    app.config["DEMO_CREDENTIALS_FILE"] = str(tmp_path / "logins.txt")
    result = app.test_cli_runner().invoke(args=["seed-demo", "--password", "mat-khau-demo-1", "--scale", "250"])
    assert result.exit_code == 0, result.output
    assert "Đã thêm dữ liệu quy mô" in result.output and "enrollments: 250" in result.output
    db.session.expire_all()
    assert _count(Enrollment, Enrollment.course_id.in_(select(Course.id).where(Course.code.like(f"{scale.CODE_PREFIX}%")))) == 250
    assert app.test_cli_runner().invoke(args=["seed-demo", "--scale", "0"]).exit_code != 0


def _reference(period_start, period_end):
    """The dashboard recomputed in Python, row by row, with the pure rules — to compare with the SQL."""
    from collections import defaultdict

    from bdg_training.certificates.models import Certificate
    from bdg_training.ethnicity import CODE_LIST
    from bdg_training.reports import rules

    certs = defaultdict(list)
    for cert in db.session.scalars(select(Certificate)):
        certs[cert.enrollment_id].append(cert.status)
    parts, persons, certified = (
        defaultdict(lambda: defaultdict(int)),
        defaultdict(lambda: defaultdict(set)),
        defaultdict(lambda: defaultdict(int)),
    )
    last: dict[int, tuple] = {}
    for e in db.session.scalars(select(Enrollment)):
        course, trainee = e.course, e.trainee
        if not (period_start <= course.end_date <= period_end) or course.status in rules.UNCOUNTED_COURSE_STATUSES:
            continue
        present = sum(1 for a in e.attendances if a.status == rules.PRESENT)
        is_part = rules.is_participation(e.status, course.status, present)
        has_cert = rules.counts_certificate(certs[e.id])
        band = rules.age_band(rules.age_at(trainee.birth_date, trainee.birth_year, course.end_date))
        ethnicity = (
            rules.UNKNOWN_KEY
            if trainee.ethnicity_code is None
            else trainee.ethnicity_code
            if trainee.ethnicity_code_list == CODE_LIST
            else f"{trainee.ethnicity_code_list}:{trainee.ethnicity_code}"
        )
        area = rules.area_key(None if trainee.unit is None else trainee.unit.is_urban)
        keys = {
            "total": "",
            "unit": f"u{course.unit_id}",
            "topic": str(course.topic_id) if course.topic_id else rules.UNKNOWN_KEY,
            "target_group": trainee.target_group or rules.UNKNOWN_KEY,
            "ethnicity": ethnicity,
            "age": band,
            "area": area,
        }
        for dim, key in keys.items():
            if is_part:
                parts[(dim, key)][trainee.sex] += 1
                if dim != "age":
                    persons[(dim, key)][trainee.sex].add(trainee.id)
            if has_cert:
                certified[(dim, key)][trainee.sex] += 1
        if is_part and (trainee.id not in last or course.end_date > last[trainee.id][0]):
            last[trainee.id] = (course.end_date, trainee)
    for end, trainee in last.values():
        persons[("age", rules.age_band(rules.age_at(trainee.birth_date, trainee.birth_year, end)))][trainee.sex].add(trainee.id)
    return parts, persons, certified


@pytest.mark.both_dbs
def test_sql_equals_the_rules_row_by_row_on_generated_data(app, make):
    """On 600 random enrolments (every status, absent-only attendance, year-only births, cancelled courses…),
    every figure of the dashboard equals a row-by-row recomputation with the pure rules."""
    today = date(2026, 7, 1)
    scale.generate(600, today=today, seed=7)
    db.session.commit()
    admin = make.user("admin")
    units = services.load_units(today)
    filters = services.build_filters({"year": "2026"}, admin, today=today, units=units)
    board = services.dashboard(filters, units=units)
    parts, persons, certified = _reference(filters.period.start, filters.period.end)

    def split(counts):
        return (counts.get("nam", 0), counts.get("nu", 0))

    def person_split(sets):
        return (len(sets.get("nam", ())), len(sets.get("nu", ())))

    assert (board.participations.nam, board.participations.nu) == split(parts[("total", "")])
    assert (board.persons.nam, board.persons.nu) == person_split(persons[("total", "")])
    assert (board.certificates.nam, board.certificates.nu) == split(certified[("total", "")])
    assert board.participations.total > 300 and board.certificates.total > 50
    checked = 0
    for breakdown in board.breakdowns:
        for row in breakdown.rows:
            cell = (breakdown.dim, row.key)
            assert (row.participations.nam, row.participations.nu) == split(parts.get(cell, {})), cell
            assert (row.persons.nam, row.persons.nu) == person_split(persons.get(cell, {})), cell
            assert (row.certificates.nam, row.certificates.nu) == split(certified.get(cell, {})), cell
            checked += 1
    assert checked > 30
    # and no group with a figure is missing from the tables
    shown = {(b.dim, r.key) for b in board.breakdowns for r in b.rows}
    assert {cell for cell in list(parts) + list(certified) if cell[0] != "total"} <= shown

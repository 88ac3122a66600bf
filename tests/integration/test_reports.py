"""Report figures against tables computed by hand (tests/report_dataset.py explains the data).

Every expected figure below was worked out on paper from the dataset; the comments say why. The same
tables are compared with the web page, the .xlsx and the API in tests/web/test_reports_web.py.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bdg_training.reports import services
from tests import report_dataset

TODAY = date(2026, 7, 1)  # day 182 of 365


def _s(split):
    return (split.nam, split.nu, split.total, None if split.pct_female is None else float(split.pct_female))


def figures(board) -> dict:
    """The dashboard as plain data: headline and every breakdown row (label → figures)."""
    return {
        "courses": dict(board.courses),
        "participations": _s(board.participations),
        "persons": _s(board.persons),
        "certificates": _s(board.certificates),
        **{
            b.dim: {
                r.label: ((r.courses,) if b.has_courses else ()) + (_s(r.participations), _s(r.persons), _s(r.certificates)) for r in b.rows
            }
            for b in board.breakdowns
        },
        "order": {b.dim: [r.label for r in b.rows] for b in board.breakdowns},
    }


Z = (0, 0, 0, None)  # an empty split: % nữ undefined

# ---- 2026, every unit ------------------------------------------------------------------------------
# Participations: C1 A♀ B♂ · C2 A♀ C♀ E♀ · C3 D♂ B♂ (ends 01/01/2026) · C10 A♀ (running) = 3 nam, 5 nữ.
# Not counted: E withdrawn, F waitlisted, G present at no session, D rejected, B pending (all C1/C2),
# H in cancelled C6, H in C7 (ends 2027), C4/C5/C11 (2025).
# Persons: A B C D E = 2 nam, 3 nữ. Certificates: A-C1, E-C2 (reissue counts once), D-C3; B-C1 revoked.
EXPECTED_2026 = {
    "courses": {"held": 4, "cancelled": 1, "upcoming": 1},  # C1 C2 C3 C10 | C6 | C8 (C9 draft, C7 in 2027)
    "participations": (3, 5, 8, 62.5),
    "persons": (2, 3, 5, 60.0),
    "certificates": (1, 2, 3, 66.7),
    "unit": {
        "Ban VSTBPN xã Cờ Đỏ": (1, (0, 1, 1, 100.0), (0, 1, 1, 100.0), Z),
        "xã Cờ Đỏ": (2, (1, 4, 5, 80.0), (1, 3, 4, 75.0), (0, 2, 2, 100.0)),  # C1+C2: B | A A C E
        "xã Vĩnh Thạnh": (1, (2, 0, 2, 0.0), (2, 0, 2, 0.0), (1, 0, 1, 0.0)),
    },
    "topic": {
        # T1: C1 (A B), C3 (D B), C10 (A): persons A B D; T2: C2 (A C E). A is in both: 3 + 3 > 5.
        "Luật Bình đẳng giới": (3, (3, 2, 5, 40.0), (2, 1, 3, 33.3), (1, 1, 2, 50.0)),
        "Phòng, chống bạo lực gia đình": (1, (0, 3, 3, 100.0), (0, 3, 3, 100.0), (0, 1, 1, 100.0)),
    },
    "target_group": {
        "Cán bộ": ((2, 0, 2, 0.0), (1, 0, 1, 0.0), Z),  # B twice, certificate revoked
        "Công chức": ((0, 3, 3, 100.0), (0, 1, 1, 100.0), (0, 1, 1, 100.0)),  # A three times
        "Viên chức": (Z, Z, Z),  # F only waitlisted
        "Đoàn viên": (Z, Z, Z),  # G never present
        "Hội viên": ((0, 1, 1, 100.0), (0, 1, 1, 100.0), (0, 1, 1, 100.0)),  # E
        "Người dân": ((0, 1, 1, 100.0), (0, 1, 1, 100.0), Z),  # C (H not counted)
        "Khác": (Z, Z, Z),
        "Không rõ": ((1, 0, 1, 0.0), (1, 0, 1, 0.0), (1, 0, 1, 0.0)),  # D
    },
    "ethnicity": {
        "Kinh": ((0, 5, 5, 100.0), (0, 3, 3, 100.0), (0, 2, 2, 100.0)),
        "Khơ-me": ((2, 0, 2, 0.0), (1, 0, 1, 0.0), Z),
        "Không rõ": ((1, 0, 1, 0.0), (1, 0, 1, 0.0), (1, 0, 1, 0.0)),
    },
    "age": {
        # A (01/04/1996): 29 at C1 (11/03/2026), 30 at C2 and C10 → person in 30–39 (last course C10).
        # D (year 1996 only → 01/07/1996): 29 at 01/01/2026 (the plain year difference would say 30).
        # B (15/01/1960): 65 and 66. E (12/03/1986): 40 at 02/06/2026. C: no birth → Không rõ.
        "Dưới 30": ((1, 1, 2, 50.0), (1, 0, 1, 0.0), (1, 1, 2, 50.0)),  # A-C1, D-C3 | D | A-C1, D-C3
        "30–39": ((0, 2, 2, 100.0), (0, 1, 1, 100.0), Z),  # A-C2, A-C10 | A
        "40–49": ((0, 1, 1, 100.0), (0, 1, 1, 100.0), (0, 1, 1, 100.0)),  # E
        "50–59": (Z, Z, Z),
        "Từ 60 trở lên": ((2, 0, 2, 0.0), (1, 0, 1, 0.0), Z),  # B
        "Không rõ": ((0, 1, 1, 100.0), (0, 1, 1, 100.0), Z),  # C
    },
    "area": {
        "Thành thị": ((2, 0, 2, 0.0), (1, 0, 1, 0.0), Z),  # B (phường Ninh Kiều)
        "Nông thôn": ((1, 4, 5, 80.0), (1, 2, 3, 66.7), (1, 2, 3, 66.7)),  # A×3, E, D
        "Không rõ": ((0, 1, 1, 100.0), (0, 1, 1, 100.0), Z),  # C has no unit
    },
    "order": {
        "unit": ["Ban VSTBPN xã Cờ Đỏ", "xã Cờ Đỏ", "xã Vĩnh Thạnh"],
        "topic": ["Luật Bình đẳng giới", "Phòng, chống bạo lực gia đình"],
        "target_group": ["Cán bộ", "Công chức", "Viên chức", "Đoàn viên", "Hội viên", "Người dân", "Khác", "Không rõ"],
        "ethnicity": ["Kinh", "Khơ-me", "Không rõ"],
        "age": ["Dưới 30", "30–39", "40–49", "50–59", "Từ 60 trở lên", "Không rõ"],
        "area": ["Thành thị", "Nông thôn", "Không rõ"],
    },
}

# ---- 2025: the merged and split units -----------------------------------------------------------------
# C4 huyện Cờ Đỏ (cũ): G E · C5 thị trấn Cờ Đỏ (cũ): C · C11 xã Cờ Đỏ: C. Persons: G E C (C once).
# Today the thị trấn maps to xã Cờ Đỏ (merger) and the huyện to both xã Cờ Đỏ and xã Trung Hưng (split):
# its figures stay on their own row; xã Cờ Đỏ gets C5 + C11 and counts C once.
EXPECTED_2025_THEN = {
    "huyện Cờ Đỏ (cũ)": (1, (0, 2, 2, 100.0), (0, 2, 2, 100.0), Z),
    "thị trấn Cờ Đỏ (cũ)": (1, (0, 1, 1, 100.0), (0, 1, 1, 100.0), Z),
    "xã Cờ Đỏ": (1, (0, 1, 1, 100.0), (0, 1, 1, 100.0), Z),
}
EXPECTED_2025_NOW = {
    "xã Cờ Đỏ": (2, (0, 2, 2, 100.0), (0, 1, 1, 100.0), Z),
    "Nhiều đơn vị kế thừa: xã Cờ Đỏ, xã Trung Hưng": (1, (0, 2, 2, 100.0), (0, 2, 2, 100.0), Z),
}


def board_for(user, args=None, today=TODAY):
    units = services.load_units(today)
    filters = services.build_filters(args or {"year": "2026"}, user, today=today, units=units)
    return services.dashboard(filters, units=units)


def check(actual: dict, expected: dict) -> None:
    for key, value in expected.items():
        assert actual[key] == value, key


@pytest.fixture
def data(make):
    return report_dataset.build(make)


@pytest.mark.both_dbs
def test_dashboard_2026_equals_the_hand_tables(make, data):
    admin = make.user("admin", unit=data["units"]["city"])
    check(figures(board_for(admin)), EXPECTED_2026)


@pytest.mark.both_dbs
def test_2025_by_unit_as_it_was_and_as_it_is_today(make, data):
    admin = make.user("admin", unit=data["units"]["city"])
    then = figures(board_for(admin, {"year": "2025"}))
    assert then["courses"] == {"held": 3, "cancelled": 0, "upcoming": 0}
    assert then["participations"] == (0, 4, 4, 100.0)
    assert then["persons"] == (0, 3, 3, 100.0)
    assert then["unit"] == EXPECTED_2025_THEN
    assert then["order"]["unit"] == list(EXPECTED_2025_THEN)
    now = figures(board_for(admin, {"year": "2025", "group": "now"}))
    assert now["unit"] == EXPECTED_2025_NOW
    assert now["order"]["unit"] == list(EXPECTED_2025_NOW)
    assert now["persons"] == then["persons"]  # the grouping never changes a total


@pytest.mark.both_dbs
def test_course_ending_on_1_january_counts_in_the_new_year(make, data):
    admin = make.user("admin", unit=data["units"]["city"])
    y2027 = figures(board_for(admin, {"year": "2027"}))
    assert y2027["courses"]["held"] == 1 and y2027["participations"] == (0, 1, 1, 100.0)  # C7: H
    q1 = figures(board_for(admin, {"year": "2026", "part": "q1"}))
    assert q1["courses"]["held"] == 2  # C3 (01/01) and C1 (11/03)
    assert q1["participations"] == (3, 1, 4, 25.0)  # C1 A B, C3 D B
    custom = figures(board_for(admin, {"from": "31/12/2025", "to": "01/01/2026"}))
    assert custom["courses"]["held"] == 1 and custom["persons"] == (2, 0, 2, 0.0)  # only C3: D B


@pytest.mark.both_dbs
def test_organizer_of_xa_co_do_sees_only_its_subtree(make, data):
    u = data["units"]
    organizer = make.user("organizer", unit=u["x_codo"])
    got = figures(board_for(organizer))
    # C1 C2 C10 held, C6 cancelled, C8 upcoming; participations C1 A B, C2 A C E, C10 A.
    assert got["courses"] == {"held": 3, "cancelled": 1, "upcoming": 1}
    assert got["participations"] == (1, 5, 6, 83.3)
    assert got["persons"] == (1, 3, 4, 75.0)
    assert got["certificates"] == (0, 2, 2, 100.0)
    assert "xã Vĩnh Thạnh" not in got["unit"]
    # its history: the 2025 courses of huyện and thị trấn Cờ Đỏ (cũ) are in its scope
    assert figures(board_for(organizer, {"year": "2025"}))["persons"] == (0, 3, 3, 100.0)
    with pytest.raises(services.OutOfScope):
        board_for(organizer, {"year": "2026", "unit": str(u["x_vt"].id)})


@pytest.mark.both_dbs
def test_drilldown_lists_hold_exactly_the_counted_rows(make, data):
    from bdg_training.extensions import db

    admin = make.user("admin", unit=data["units"]["city"])
    units = services.load_units(TODAY)
    filters = services.build_filters({"year": "2026"}, admin, today=TODAY, units=units)
    e, people, courses = data["enrollments"], data["people"], data["courses"]

    def rows(kind, **args):
        drill = services.drilldown(filters, kind, args, units=units)
        return set(db.session.scalars(drill.query).unique())

    assert rows("enrollments") == {e[k] for k in ("A-C1", "B-C1", "A-C2", "C-C2", "E-C2", "D-C3", "B-C3", "A-C10")}
    assert rows("people", sex="nu") == {people["A"], people["C"], people["E"]}
    assert rows("people", dim="age", key="30_39") == {people["A"]}  # A's band from her last course
    assert rows("enrollments", dim="age", key="lt30") == {e["A-C1"], e["D-C3"]}
    assert rows("certificates") == {e["A-C1"], e["E-C2"], e["D-C3"]}
    x_codo = f"u{data['units']['x_codo'].id}"
    assert rows("people", dim="unit", key=x_codo, sex="nu") == {people["A"], people["C"], people["E"]}
    assert rows("courses", cls="held") == {courses[k] for k in ("C1", "C2", "C3", "C10")}
    assert rows("courses", cls="cancelled") == {courses["C6"]}
    assert rows("courses", cls="held", dim="topic", key=str(data["topics"]["T1"].id)) == {courses[k] for k in ("C1", "C3", "C10")}
    with pytest.raises(KeyError):
        services.drilldown(filters, "secrets", {}, units=units)


@pytest.mark.both_dbs
def test_plan_vs_actual(make, data):
    admin = make.user("admin", unit=data["units"]["city"])
    units = services.load_units(TODAY)
    filters = services.build_filters({"year": "2026"}, admin, today=TODAY, units=units)
    report = services.plan_report(filters, units=units, today=TODAY)
    assert report.elapsed_pct == Decimal("49.9")  # 182/365
    by_unit = {r.unit_label: r for r in report.rows}
    codo, vt = by_unit["xã Cờ Đỏ"], by_unit["xã Vĩnh Thạnh"]
    # xã Cờ Đỏ: C1 C2 held, C6 cancelled; persons A B C E; 4 < 10 × 182/365 = 4.99 → behind.
    assert (codo.planned_courses, codo.held_courses, codo.cancelled_courses) == (4, 2, 1)
    assert (codo.planned_trainees, _s(codo.persons)) == (10, (1, 3, 4, 75.0))
    assert codo.progress.status == "behind" and codo.progress.trainees_behind and not codo.progress.courses_behind
    assert not codo.progress.female_below  # 75.0 ≥ 60.0
    # xã Vĩnh Thạnh: C3 held (C7 ends in 2027: not in the 2026 plan); persons D B; 0 % women < 50 %.
    assert (vt.planned_courses, vt.held_courses, vt.planned_trainees, _s(vt.persons)) == (2, 1, 2, (2, 0, 2, 0.0))
    assert vt.progress.status == "on_track" and vt.progress.female_below and vt.progress.highlighted
    assert [t.source_document for t in codo.plan.targets] == ["28/NQ-CP"]
    late = services.plan_report(filters, units=units, today=date(2027, 2, 1))
    assert {r.unit_label: r.progress.status for r in late.rows} == {"xã Cờ Đỏ": "missed", "xã Vĩnh Thạnh": "missed"}


def _learning(rows):
    return [
        (
            r.label,
            r.summary.n_matched,
            r.display()["mean_pre"],
            r.display()["mean_post"],
            r.display()["mean_gain"],
            r.display()["class_g"],
            r.summary.hake_band,
        )
        for r in rows
    ]


@pytest.mark.both_dbs
def test_learning_matched_pairs_by_sex_and_topic(make, data):
    admin = make.user("admin", unit=data["units"]["city"])
    units = services.load_units(TODAY)
    filters = services.build_filters({"year": "2026"}, admin, today=TODAY, units=units)
    study = services.learning(filters, units=units)
    # Pairs of participations: A-C1 4→8, B-C1 6→7, A-C2 5→9, E-C2 10→10, D-C3 2→6. Not pairs: C-C2 (pre only),
    # B-C3 (post only), A-C10 (attempt in progress). G-C1 is not a participation.
    # All: pre 27/5 = 5.4, post 8.0, gain 2.6, ⟨g⟩ 2.6/4.6 = 0.565. Nam: B-C1, D-C3: 4.0 → 6.5, 2.5/6 = 0.417.
    # Nữ: A-C1, A-C2, E-C2: 19/3 → 9, gain 8/3, ⟨g⟩ (8/3)/(11/3) = 8/11 = 0.727 (high).
    assert _learning(study.by_sex) == [
        ("Tổng", 5, "5,40", "8,00", "2,60", "0,57", "medium"),
        ("Nam", 2, "4,00", "6,50", "2,50", "0,42", "medium"),
        ("Nữ", 3, "6,33", "9,00", "2,67", "0,73", "high"),
    ]
    topics = dict(study.by_topic)
    assert list(topics) == ["Luật Bình đẳng giới", "Phòng, chống bạo lực gia đình"]
    # T1: A-C1 4→8, B-C1 6→7, D-C3 2→6: 4 → 7, ⟨g⟩ 3/6. T2: A-C2 5→9, E-C2 10→10: 7.5 → 9.5, ⟨g⟩ 2/2.5 = 0.8.
    assert _learning(topics["Luật Bình đẳng giới"]) == [
        ("Tổng", 3, "4,00", "7,00", "3,00", "0,50", "medium"),
        ("Nam", 2, "4,00", "6,50", "2,50", "0,42", "medium"),
        ("Nữ", 1, "4,00", "8,00", "4,00", "0,67", "medium"),
    ]
    assert _learning(topics["Phòng, chống bạo lực gia đình"]) == [
        ("Tổng", 2, "7,50", "9,50", "2,00", "0,80", "high"),
        ("Nam", 0, "—", "—", "—", "—", None),
        ("Nữ", 2, "7,50", "9,50", "2,00", "0,80", "high"),
    ]


@pytest.mark.both_dbs
def test_sql_and_pure_rules_agree_on_every_enrolment(make, data):
    """Each enrolment classified by the pure rules equals the SQL's participation set (the definition twice)."""
    from sqlalchemy import select

    from bdg_training.enrollment.models import Enrollment
    from bdg_training.extensions import db
    from bdg_training.reports import queries, rules

    admin = make.user("admin", unit=data["units"]["city"])
    for year in (2025, 2026, 2027):
        units = services.load_units(TODAY)
        filters = services.build_filters({"year": str(year)}, admin, today=TODAY, units=units)
        sql = set(db.session.scalars(queries.drilldown_ids(services.make_scope(filters, units), "enrollments")))
        expected = set()
        for e in db.session.scalars(select(Enrollment)):
            present = sum(1 for a in e.attendances if a.status == rules.PRESENT)
            if rules.is_participation(e.status, e.course.status, present) and filters.period.contains(e.course.end_date):
                expected.add(e.id)
        assert sql == expected, year
        for e in db.session.scalars(select(Enrollment).where(Enrollment.id.in_(sql))):
            t = e.trainee
            age = rules.age_at(t.birth_date, t.birth_year, e.course.end_date)
            key = rules.age_band(age)
            in_band = set(db.session.scalars(queries.drilldown_ids(services.make_scope(filters, units), "enrollments", dim="age", key=key)))
            assert e.id in in_band


def test_query_count_of_the_dashboard_does_not_grow(make, data, count_queries):
    from bdg_training.enrollment.models import Attendance
    from bdg_training.extensions import db

    admin = make.user("admin", unit=data["units"]["city"])
    with count_queries() as few:
        board_for(admin)
    extra = make.course(
        data["units"]["x_vt"], topic=make.topic("Chủ đề mới"), start_date=date(2026, 5, 4), end_date=date(2026, 5, 5), status="finished"
    )
    for i in range(12):
        e = make.enrollment(extra, make.trainee(f"Học Viên Thêm{i}", sex="nam" if i % 2 else "nu", commit=False), commit=False)
        db.session.add(Attendance(enrollment=e, session=extra.sessions[0], status="present"))
    db.session.commit()
    with count_queries() as many:
        board = board_for(admin)
    assert board.participations.total == 8 + 12
    assert many.count == few.count


@pytest.mark.both_dbs
def test_learning_from_sql_sums_equals_class_summary_on_the_pairs(make, data):
    """The grouped SQL gives exactly what assessments.rules.class_summary gives on the participations' pairs."""
    from sqlalchemy import select

    from bdg_training.assessments.models import Attempt
    from bdg_training.assessments.rules import class_summary
    from bdg_training.extensions import db
    from bdg_training.reports import queries

    admin = make.user("admin", unit=data["units"]["city"])
    units = services.load_units(TODAY)
    filters = services.build_filters({"year": "2026"}, admin, today=TODAY, units=units)
    study = services.learning(filters, units=units)
    participations = set(db.session.scalars(queries.drilldown_ids(services.make_scope(filters, units), "enrollments")))
    scores = {(a.enrollment_id, a.kind): a.score for a in db.session.scalars(select(Attempt).where(Attempt.status == "completed"))}
    pairs: dict[tuple, list] = {}
    for e in data["enrollments"].values():
        if e.id in participations:
            pair = (scores.get((e.id, "pre")), scores.get((e.id, "post")))
            for group in [("all", ""), ("all", e.trainee.sex), (e.course.topic.name, ""), (e.course.topic.name, e.trainee.sex)]:
                pairs.setdefault(group, []).append(pair)
    rows = {("all", r.sex): r for r in study.by_sex} | {(label, r.sex): r for label, rs in study.by_topic for r in rs}
    for group, group_pairs in pairs.items():
        expected = class_summary(group_pairs)
        got = rows[group].summary
        assert (got.n_matched, got.n_pre_only, got.n_post_only, got.hake_band) == (
            expected.n_matched,
            expected.n_pre_only,
            expected.n_post_only,
            expected.hake_band,
        ), group
        assert got.display() == {k: v for k, v in expected.display().items() if k in got.display()}, group

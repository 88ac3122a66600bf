"""A small world for the report tests, small enough that every figure is computed by hand in the tests.

Units (``make.reform_tree()`` plus two): the city; huyện Cờ Đỏ (closed 30/06/2025) → xã Cờ Đỏ AND xã Trung Hưng
(a split); thị trấn Cờ Đỏ (closed, child of the huyện) → xã Cờ Đỏ (a merger); huyện Vĩnh Thạnh → xã Vĩnh
Thạnh; Ban VSTBPN xã Cờ Đỏ under xã Cờ Đỏ; phường Ninh Kiều (urban).

Trainees (sex, birth, ethnicity, target group, unit):

====  ===  ==================  =========  ==========  ===========
 A    nữ   01/04/1996          Kinh       công chức   xã Cờ Đỏ       — in three 2026 courses, turns 30 between them
 B    nam  15/01/1960          Khơ-me     cán bộ      phường Ninh Kiều (urban)
 C    nữ   (none)              Kinh       người dân   (no unit)      — no date of birth
 D    nam  year 1996 only      (none)     (none)      xã Vĩnh Thạnh
 E    nữ   12/03/1986          Kinh       hội viên    xã Cờ Đỏ       — withdrawn from C1
 F    nam  01/07/1980          Kinh       viên chức   xã Cờ Đỏ       — only waitlisted
 G    nữ   28/02/1970          Kinh       đoàn viên   xã Vĩnh Thạnh  — confirmed in C1 but never present
 H    nữ   31/12/2000          Khơ-me     người dân   phường Ninh Kiều — only in a cancelled course and a 2027 one
====  ===  ==================  =========  ==========  ===========

Courses (unit, topic, dates, status) and enrolments (P = present at ≥ 1 session):

* C1  xã Cờ Đỏ, T1, 10–11/03/2026, finished: A P; B P (absent the 2nd day); E withdrawn; F waitlisted; G confirmed,
  absent + excused.
* C2  xã Cờ Đỏ, T2, 01–02/06/2026, finished: A P; C P; E P; D rejected; B pending.
* C3  xã Vĩnh Thạnh, T1, 30/12/2025–01/01/2026 (ends on 1 January: counts in 2026), finished: D P; B P.
* C10 Ban VSTBPN xã Cờ Đỏ, T1, 01–02/09/2026, running: A P.
* C6  xã Cờ Đỏ, T1, 01–02/08/2026, cancelled: H P (before it was cancelled) — not a participation.
* C7  xã Vĩnh Thạnh, T2, 30/12/2026–01/01/2027, finished: H P — counts in 2027.
* C8  Ban VSTBPN xã Cờ Đỏ, T2, 20–21/11/2026, open (upcoming).   C9: a draft in 2026 (never counted).
* C4  huyện Cờ Đỏ (cũ), T2, 05–06/05/2025, finished: G P; E P.
* C5  thị trấn Cờ Đỏ (cũ), T1, 10–11/06/2025, finished: C P.
* C11 xã Cờ Đỏ, T2, 15–16/09/2025, finished: C P.

Certificates: A-C1 valid; B-C1 revoked; E-C2 original replaced by a valid reissue; D-C3 valid.
Tests (completed paper attempts): A-C1 4→8; B-C1 6→7; A-C2 5→9; C-C2 pre 3 only; E-C2 10→10; D-C3 2→6;
B-C3 post 8 only; A-C10 pre in progress (no score); G-C1 1→9 (not a participation: excluded).
Plans 2026: xã Cờ Đỏ (4 courses, 10 trainees, 60 % women; C1, C2, C6) and xã Vĩnh Thạnh (2 courses,
2 trainees, 50 %; C3 and C7 — C7 ends in 2027).
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from bdg_training.extensions import db

_seq = itertools.count(1)


def build(make) -> dict:
    from bdg_training.assessments.models import Attempt
    from bdg_training.certificates.models import Certificate
    from bdg_training.courses.models import PlanTarget
    from bdg_training.enrollment.models import Attendance

    t = make.reform_tree()
    units = dict(t)
    units["trung_hung"] = make.unit("Trung Hưng", kind="xa", parent=t["city"], valid_from=date(2025, 7, 1), commit=False)
    units["ninh_kieu"] = make.unit("Ninh Kiều", kind="phuong", parent=t["city"], is_urban=True, commit=False)
    t["h_codo"].successors.append(units["trung_hung"])
    t1 = make.topic("Luật Bình đẳng giới", sort_order=1, commit=False)
    t2 = make.topic("Phòng, chống bạo lực gia đình", sort_order=2, commit=False)

    people = {
        "A": make.trainee(
            "Nguyễn Thị An",
            sex="nu",
            birth_date=date(1996, 4, 1),
            ethnicity_code="01",
            target_group="cong_chuc",
            unit=t["x_codo"],
            commit=False,
        ),
        "B": make.trainee(
            "Trần Văn Bình",
            sex="nam",
            birth_date=date(1960, 1, 15),
            ethnicity_code="05",
            target_group="can_bo",
            unit=units["ninh_kieu"],
            commit=False,
        ),
        "C": make.trainee("Lê Thị Cúc", sex="nu", ethnicity_code="01", target_group="nguoi_dan", commit=False),
        "D": make.trainee("Phạm Văn Dũng", sex="nam", birth_year=1996, unit=t["x_vt"], commit=False),
        "E": make.trainee(
            "Võ Thị Em",
            sex="nu",
            birth_date=date(1986, 3, 12),
            ethnicity_code="01",
            target_group="hoi_vien",
            unit=t["x_codo"],
            commit=False,
        ),
        "F": make.trainee(
            "Đỗ Văn Phúc",
            sex="nam",
            birth_date=date(1980, 7, 1),
            ethnicity_code="01",
            target_group="vien_chuc",
            unit=t["x_codo"],
            commit=False,
        ),
        "G": make.trainee(
            "Huỳnh Thị Giang",
            sex="nu",
            birth_date=date(1970, 2, 28),
            ethnicity_code="01",
            target_group="doan_vien",
            unit=t["x_vt"],
            commit=False,
        ),
        "H": make.trainee(
            "Thạch Thị Hoa",
            sex="nu",
            birth_date=date(2000, 12, 31),
            ethnicity_code="05",
            target_group="nguoi_dan",
            unit=units["ninh_kieu"],
            commit=False,
        ),
    }
    plan_codo = make.plan(
        t["x_codo"],
        2026,
        planned_courses=4,
        planned_trainees=10,
        planned_female_pct=Decimal("60"),
        source_document="KH số 12/KH-UBND",
        commit=False,
    )
    plan_codo.targets.append(
        PlanTarget(
            indicator="Tỷ lệ cán bộ, công chức xã được tập huấn về bình đẳng giới",
            source_document="28/NQ-CP",
            target_value=Decimal("80"),
            measure="%",
        )
    )
    plan_vt = make.plan(
        t["x_vt"],
        2026,
        planned_courses=2,
        planned_trainees=2,
        planned_female_pct=Decimal("50"),
        source_document="KH số 03/KH-UBND",
        commit=False,
    )

    def course(key, unit, topic, start, end, status, plan=None, days=2):
        sessions = [(start + timedelta(days=i), "07:30", "11:00") for i in range(days)]
        return make.course(
            unit,
            topic=topic,
            start_date=start,
            end_date=end,
            status=status,
            plan=plan,
            code=f"BC-{key}",
            title=f"Lớp {key}",
            sessions=sessions,
            commit=False,
        )

    courses = {
        "C1": course("C1", t["x_codo"], t1, date(2026, 3, 10), date(2026, 3, 11), "finished", plan_codo),
        "C2": course("C2", t["x_codo"], t2, date(2026, 6, 1), date(2026, 6, 2), "finished", plan_codo),
        "C3": course("C3", t["x_vt"], t1, date(2025, 12, 30), date(2026, 1, 1), "finished", plan_vt, days=3),
        "C10": course("C10", t["vstbpn_codo"], t1, date(2026, 9, 1), date(2026, 9, 2), "running"),
        "C6": course("C6", t["x_codo"], t1, date(2026, 8, 1), date(2026, 8, 2), "cancelled", plan_codo),
        "C7": course("C7", t["x_vt"], t2, date(2026, 12, 30), date(2027, 1, 1), "finished", plan_vt, days=3),
        "C8": course("C8", t["vstbpn_codo"], t2, date(2026, 11, 20), date(2026, 11, 21), "open"),
        "C9": course("C9", t["x_codo"], t2, date(2026, 10, 1), date(2026, 10, 2), "draft"),
        "C4": course("C4", t["h_codo"], t2, date(2025, 5, 5), date(2025, 5, 6), "finished"),
        "C5": course("C5", t["tt_codo"], t1, date(2025, 6, 10), date(2025, 6, 11), "finished"),
        "C11": course("C11", t["x_codo"], t2, date(2025, 9, 15), date(2025, 9, 16), "finished"),
    }

    enrollments: dict[str, object] = {}

    def enrol(person, key, status="confirmed", marks=("present",)):
        c = courses[key]
        extra = {"waitlist_position": 1} if status == "waitlisted" else {}
        e = make.enrollment(c, people[person], status=status, commit=False, **extra)
        for session, mark in zip(c.sessions, marks, strict=False):
            if mark:
                db.session.add(Attendance(enrollment=e, session=session, status=mark))
        enrollments[f"{person}-{key}"] = e
        return e

    enrol("A", "C1")
    enrol("B", "C1", marks=("present", "absent"))
    enrol("E", "C1", status="withdrawn", marks=())
    enrol("F", "C1", status="waitlisted", marks=())
    enrol("G", "C1", marks=("absent", "excused"))
    enrol("A", "C2")
    enrol("C", "C2")
    enrol("E", "C2")
    enrol("D", "C2", status="rejected", marks=())
    enrol("B", "C2", status="pending", marks=())
    enrol("D", "C3")
    enrol("B", "C3", marks=(None, "present"))
    enrol("A", "C10")
    enrol("H", "C6")
    enrol("H", "C7")
    enrol("G", "C4")
    enrol("E", "C4")
    enrol("C", "C5")
    enrol("C", "C11")
    db.session.flush()

    issuer = t["city"]

    def certificate(key, status="valid", kind="original", replaces=None):
        e = enrollments[key]
        n = next(_seq)
        cert = Certificate(
            enrollment=e,
            course=e.course,
            trainee=e.trainee,
            issuing_unit=issuer,
            year=e.course.end_date.year,
            sequence=n,
            number=f"{n:02d}/{e.course.end_date.year}/GCN-BC",
            verify_code=f"verify-code-{n:06d}",
            snapshot={"full_name": e.trainee.full_name},
            status=status,
            kind=kind,
            replaces=replaces,
        )
        if status == "revoked":
            from bdg_training.database import utcnow

            cert.revoked_at = utcnow()
            cert.revocation_reason = "issuer_error"
        db.session.add(cert)
        db.session.flush()
        return cert

    certificate("A-C1")
    certificate("B-C1", status="revoked")
    old = certificate("E-C2", status="replaced")
    certificate("E-C2", kind="reissue", replaces=old)
    certificate("D-C3")

    def attempt(key, kind, score, status="completed"):
        db.session.add(
            Attempt(
                enrollment=enrollments[key],
                kind=kind,
                source="paper" if status == "completed" else "online",
                status=status,
                score=None if score is None else Decimal(str(score)),
            )
        )

    for key, pre, post in [("A-C1", 4, 8), ("B-C1", 6, 7), ("A-C2", 5, 9), ("E-C2", 10, 10), ("D-C3", 2, 6), ("G-C1", 1, 9)]:
        attempt(key, "pre", pre)
        attempt(key, "post", post)
    attempt("C-C2", "pre", 3)
    attempt("B-C3", "post", 8)
    attempt("A-C10", "pre", None, status="in_progress")
    db.session.commit()
    return {
        "units": units,
        "topics": {"T1": t1, "T2": t2},
        "people": people,
        "courses": courses,
        "enrollments": enrollments,
        "plans": {"codo": plan_codo, "vt": plan_vt},
    }

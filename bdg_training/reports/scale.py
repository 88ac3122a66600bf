"""Synthetic data at scale for the report benchmark: ``flask seed-demo --scale N``.

``generate(n)`` adds, for one calendar year of the whole city, ``n`` enrolments of about ``0.4 n`` trainees
(so a person takes about 2.5 courses), in courses of 25 seats with two sessions each, plus their attendance,
pre/post test scores and certificates — the shapes the reports read. Statuses are mixed as in real life
(most enrolments confirmed; some withdrawn, waitlisted, rejected, pending; some present at no session; a few
courses cancelled), birth dates are missing or year-only for a few people, several ethnic groups and every
target group occur.

Fast on purpose: primary keys are assigned here, rows go in with executemany (SQLite) or multi-row
``INSERT … VALUES`` statements (PostgreSQL) in chunks, and derived name keys are cached per distinct name.
Generated rows are recognisable (course codes ``QM-…``, e-mails ``…@scale.invalid``, the synthetic issuer
"Dữ liệu quy mô (thử nghiệm)") and a new run replaces the previous one. Deterministic for a given seed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal

from sqlalchemy import delete, func, select, text

from bdg_training.extensions import db

CODE_PREFIX = "QM-"
EMAIL_DOMAIN = "@scale.invalid"
ISSUER_NAME = "Dữ liệu quy mô (thử nghiệm)"
SEATS = 25
PERSON_RATIO = 0.4
TESTED_SHARE = 0.6  # courses that ran a pre/post test

FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Huỳnh",
    "Hoàng",
    "Võ",
    "Phan",
    "Trương",
    "Bùi",
    "Đặng",
    "Đỗ",
    "Ngô",
    "Hồ",
    "Dương",
    "Lâm",
    "Thạch",
    "Danh",
]
MIDDLE_F = ["Thị", "Thị Kim", "Thị Mỹ", "Ngọc", "Thị Thu", "Thị Hồng", "Thị Ngọc", ""]
MIDDLE_M = ["Văn", "Minh", "Hữu", "Quốc", "Thanh", "Văn Hoàng", "Công", ""]
GIVEN_F = [
    "Anh",
    "Bích",
    "Châu",
    "Diễm",
    "Dung",
    "Giang",
    "Hà",
    "Hạnh",
    "Hoa",
    "Hương",
    "Lan",
    "Linh",
    "Mai",
    "Nga",
    "Nhung",
    "Oanh",
    "Phương",
    "Quyên",
    "Sa Rươl",
    "Thảo",
    "Trang",
    "Tuyết",
    "Uyên",
    "Vân",
    "Yến",
]
GIVEN_M = [
    "An",
    "Bảo",
    "Bình",
    "Cường",
    "Dũng",
    "Đạt",
    "Hải",
    "Hiếu",
    "Hùng",
    "Khang",
    "Khoa",
    "Long",
    "Minh",
    "Nam",
    "Nghĩa",
    "Phúc",
    "Quang",
    "Sơn",
    "Tài",
    "Thắng",
    "Tâm",
    "Trí",
    "Tuấn",
    "Vinh",
]
ETHNICITIES = [("01", 86), ("05", 10), ("04", 4)]  # Kinh, Khơ-me, Hoa (TCTK-1979 codes)
TARGET_GROUPS = ["can_bo", "cong_chuc", "vien_chuc", "doan_vien", "hoi_vien", "nguoi_dan", "khac", None]
ENROLMENT_STATUSES = [("confirmed", 88), ("withdrawn", 4), ("waitlisted", 3), ("rejected", 2), ("pending", 3)]


class _Picker:
    """Weighted choice by cumulative weights (faster than ``random.choices`` in a tight loop)."""

    def __init__(self, pairs: Sequence[tuple[object, int]]):
        from itertools import accumulate

        self.values = [v for v, _ in pairs]
        self.cumulative = list(accumulate(w for _, w in pairs))

    def __call__(self, rng: random.Random):
        from bisect import bisect_right

        return self.values[bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


def _max_id(model) -> int:
    return db.session.scalar(select(func.coalesce(func.max(model.id), 0))) or 0


def bulk_insert(table, columns: Sequence[str], rows: list[tuple], *, chunk: int = 10000) -> None:
    """Insert ``rows`` (tuples in the order of ``columns``) fast: the driver's executemany in chunks on
    SQLite, ``COPY FROM STDIN`` on PostgreSQL (executemany there costs a round trip per row: minutes).

    Values go through each column type's bind processor for the dialect (dates become text on SQLite, JSON
    is serialised …) in a tight loop, each distinct value once, instead of SQLAlchemy's per-row machinery.
    """
    if not rows:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql":
        _copy(connection, table, columns, rows)
        return
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    quote = dialect.identifier_preparer.quote
    sql = f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) VALUES ({', '.join([marker] * len(columns))})"
    active = [(i, p, {}) for i, p in enumerate(processors) if p is not None]
    for start in range(0, len(rows), chunk):
        batch = rows[start : start + chunk]
        if active:
            converted = []
            for row in batch:
                row = list(row)
                for i, process, memo in active:
                    value = row[i]
                    if value is None:
                        continue
                    try:  # dates, times and numbers repeat: convert each distinct value once
                        row[i] = memo[value]
                    except KeyError:
                        row[i] = memo[value] = process(value)
                    except TypeError:  # unhashable (JSON lists/dicts)
                        row[i] = process(value)
                converted.append(tuple(row))
            batch = converted
        connection.exec_driver_sql(sql, batch)


def _copy(connection, table, columns: Sequence[str], rows: list[tuple]) -> None:
    """PostgreSQL: ``COPY … FROM STDIN`` through psycopg 3 (one stream instead of a round trip per row).
    JSON values are serialised by the column type's processor; psycopg adapts the rest."""
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    processors = [(i, table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) for i, name in enumerate(columns)]
    active = [(i, p) for i, p in processors if p is not None]
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN") as copy:
        for row in rows:
            if active:
                row = list(row)
                for i, process in active:
                    if row[i] is not None:
                        row[i] = process(row[i])
            copy.write_row(row)


def _fix_sequences(tables: Iterable) -> None:
    """After inserting explicit ids, move PostgreSQL's id sequences past them (SQLite needs nothing)."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        connection.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM \"{table.name}\"))")
        )


def clear() -> dict[str, int]:
    """Delete the rows of an earlier run (children first); returns how many courses/trainees went."""
    from bdg_training.assessments.models import Attempt
    from bdg_training.certificates.models import Certificate
    from bdg_training.courses.models import Course, CourseSession
    from bdg_training.enrollment.models import Attendance, Enrollment, Trainee

    courses = select(Course.id).where(Course.code.like(f"{CODE_PREFIX}%")).scalar_subquery()
    enrolments = select(Enrollment.id).where(Enrollment.course_id.in_(courses)).scalar_subquery()
    session = db.session
    session.execute(delete(Certificate).where(Certificate.course_id.in_(courses)))
    session.execute(delete(Attempt).where(Attempt.enrollment_id.in_(enrolments)))
    session.execute(delete(Attendance).where(Attendance.enrollment_id.in_(enrolments)))
    session.execute(delete(Enrollment).where(Enrollment.course_id.in_(courses)))
    session.execute(delete(CourseSession).where(CourseSession.course_id.in_(courses)))
    n_courses = session.execute(delete(Course).where(Course.code.like(f"{CODE_PREFIX}%"))).rowcount
    n_trainees = session.execute(delete(Trainee).where(Trainee.email.like(f"%{EMAIL_DOMAIN}"))).rowcount
    return {"courses": n_courses, "trainees": n_trainees}


def _topics() -> list[int]:
    from bdg_training.courses.demo import TOPICS
    from bdg_training.courses.models import Topic

    ids = []
    for order, (name, description) in enumerate(TOPICS, start=1):
        topic = db.session.scalar(select(Topic).where(Topic.name == name))
        if topic is None:
            topic = Topic(name=name, description=description, sort_order=order, active=True)
            db.session.add(topic)
            db.session.flush()
        ids.append(topic.id)
    return ids


def _issuer(city):
    from bdg_training.units.models import Unit

    unit = db.session.scalar(select(Unit).where(Unit.name == ISSUER_NAME, Unit.kind == "khac"))
    if unit is None:
        unit = Unit(
            kind="khac", name=ISSUER_NAME, parent=city, short_code="QM", note="Đơn vị giả lập của dữ liệu quy mô (flask seed-demo --scale)."
        )
        db.session.add(unit)
        db.session.flush()
    return unit


NAME_POOL = 400  # distinct names per sex: Vietnamese names repeat a lot, and each needs its sort keys once
ETHNICITY_PICK = _Picker(ETHNICITIES)
STATUS_PICK = _Picker(ENROLMENT_STATUSES)


def _name_pool(rng: random.Random, female: bool) -> list[tuple]:
    """(family, middle, given, full, fold, tone key, sort key) for ``NAME_POOL`` distinct names."""
    from bdg_training.enrollment.rules import encode_sort_key
    from bdg_training.text import fold, name_sort_key, tone_key

    names: dict[str, tuple] = {}
    while len(names) < NAME_POOL:
        family = rng.choice(FAMILY)
        middle = rng.choice(MIDDLE_F if female else MIDDLE_M)
        given = rng.choice(GIVEN_F if female else GIVEN_M)
        full = " ".join(part for part in (family, middle, given) if part)
        if full not in names:
            names[full] = (
                family,
                middle,
                given,
                full,
                fold(full)[:200],
                tone_key(full)[:200],
                encode_sort_key(name_sort_key(given, middle, family)),
            )
    return list(names.values())


def generate(n: int, *, today: date, year: int | None = None, seed: int = 2026) -> dict[str, int | float]:
    """Add ``n`` enrolments (and everything they hang on) for ``year`` (default: ``today``'s year).

    Replaces an earlier generated set. Returns row counts and the seconds spent. The caller commits.
    """
    from bdg_training.assessments.models import Attempt
    from bdg_training.certificates.models import Certificate, CertificateCounter
    from bdg_training.courses.models import Course, CourseSession
    from bdg_training.enrollment.models import Attendance, Enrollment, Trainee
    from bdg_training.text import fold
    from bdg_training.units import demo as units_demo

    started = time.perf_counter()
    if n < 1:
        raise ValueError("n must be positive")
    year = year or today.year
    rng = random.Random(seed)
    clear()
    units = units_demo.seed(today)
    communes = [u.id for key, u in units.items() if key.startswith(("xa:", "phuong:"))]
    organisers = communes + [units["snv"].id, units["women_union"].id, units["city_vstbpn"].id]
    issuer = _issuer(units["city"])
    topics = _topics()
    now = datetime.now(UTC)

    # --- trainees ---------------------------------------------------------------------------
    n_people = max(1, round(n * PERSON_RATIO))
    next_trainee = _max_id(Trainee) + 1
    pools = {True: _name_pool(rng, True), False: _name_pool(rng, False)}
    trainee_columns = (
        "id", "family_name", "middle_name", "given_name", "full_name", "name_fold", "name_tone_key", "sort_key", "sex",
        "birth_date", "birth_year", "ethnicity_code", "ethnicity_code_list", "email", "unit_id", "target_group", "created_at", "updated_at",
    )  # fmt: skip
    trainees = []
    for i in range(n_people):
        female = rng.random() < 0.55
        name = rng.choice(pools[female])
        r = rng.random()
        birth_year = rng.randint(1958, 2006)
        birth_date = None
        if r < 0.90:
            birth_date = date(birth_year, rng.randint(1, 12), rng.randint(1, 28))
        elif r >= 0.96:
            birth_year = None  # nothing known; 0.90–0.96: the year only
        tid = next_trainee + i
        trainees.append(
            (
                tid,
                *name,
                "nu" if female else "nam",
                birth_date,
                birth_year,
                ETHNICITY_PICK(rng),
                "TCTK-1979",
                f"hv{tid}{EMAIL_DOMAIN}",
                rng.choice(communes),
                rng.choice(TARGET_GROUPS),
                now,
                now,
            )
        )
    bulk_insert(Trainee.__table__, trainee_columns, trainees)

    # --- courses and sessions ---------------------------------------------------------------
    n_courses = -(-n // SEATS)
    next_course = _max_id(Course) + 1
    next_session = _max_id(CourseSession) + 1
    first, days_in_year = date(year, 1, 1), (date(year + 1, 1, 1) - date(year, 1, 1)).days
    course_columns = (
        "id", "code", "title", "topic_id", "unit_id", "capacity", "start_date", "end_date", "target_groups", "pass_mark", "min_attendance_pct",
        "needs_approval", "status", "published_at", "search_key", "venue", "created_at", "updated_at",
    )  # fmt: skip
    courses, sessions, course_status = [], [], []
    for i in range(n_courses):
        start = first + timedelta(days=rng.randrange(days_in_year - 1))
        status = "cancelled" if rng.random() < 0.03 else "finished"
        cid, code = next_course + i, f"{CODE_PREFIX}{year}-{i + 1:06d}"
        title = f"Tập huấn bình đẳng giới (dữ liệu quy mô) số {i + 1}"
        courses.append(
            (cid, code, title, rng.choice(topics), rng.choice(organisers), SEATS + 5, start, start + timedelta(days=1), [], Decimal("5.00"), Decimal("80.00"),
             False, status, now, fold(f"{title} {code}")[:400], "Hội trường UBND", now, now)
        )  # fmt: skip
        course_status.append((status, rng.random() < TESTED_SHARE))
        for d in range(2):
            sessions.append((next_session + 2 * i + d, cid, start + timedelta(days=d), dtime(7, 30), dtime(11, 0)))
    bulk_insert(Course.__table__, course_columns, courses)
    bulk_insert(CourseSession.__table__, ("id", "course_id", "date", "start_time", "end_time"), sessions)

    # --- enrolments, attendance, scores, certificates -------------------------------------------
    next_enrolment = _max_id(Enrollment) + 1
    next_attendance = _max_id(Attendance) + 1
    next_attempt = _max_id(Attempt) + 1
    next_certificate = _max_id(Certificate) + 1
    enrolments, attendance, attempts, certificates = [], [], [], []
    made = seq = 0
    for i in range(n_courses):
        cid, seats = next_course + i, min(SEATS, n - made)
        waitlist = 0
        for person in rng.sample(range(n_people), min(seats, n_people)):
            eid = next_enrolment + made
            tid = next_trainee + person
            made += 1
            status = STATUS_PICK(rng)
            position = None
            if status == "waitlisted":
                waitlist += 1
                position = waitlist
            enrolments.append((eid, cid, tid, status, position, "organizer", now, now, now))
            if status != "confirmed":
                continue
            marks = ("present" if rng.random() < 0.93 else "absent", "present" if rng.random() < 0.9 else rng.choice(("absent", "excused")))
            for d, mark in enumerate(marks):
                attendance.append((next_attendance + len(attendance), eid, next_session + 2 * i + d, mark, now))
            finished, tested = course_status[i]
            if finished != "finished" or "present" not in marks:
                continue
            pre = Decimal(rng.randint(20, 80)) / 10
            post = min(Decimal(10), pre + Decimal(rng.randint(-5, 40)) / 10)
            for kind, score in (("pre", pre), ("post", post)):
                if tested and rng.random() < 0.92:
                    attempts.append(
                        (next_attempt + len(attempts), eid, kind, "paper", "completed", f"qm{eid}{kind}", [], False, score, now, now, now)
                    )
            if tested and marks == ("present", "present") and post >= 5:
                seq += 1
                code = f"qm-{year}-{seq:08d}-{rng.getrandbits(40):010x}"
                certificates.append(
                    (
                        next_certificate + seq - 1,
                        eid,
                        cid,
                        tid,
                        issuer.id,
                        year,
                        seq,
                        f"{seq:06d}/{year}/GCN-QM",
                        code,
                        now,
                        {"synthetic": True},
                        "valid",
                        "original",
                    )
                )
    bulk_insert(
        Enrollment.__table__,
        ("id", "course_id", "trainee_id", "status", "waitlist_position", "source", "registered_at", "created_at", "updated_at"),
        enrolments,
    )
    bulk_insert(Attendance.__table__, ("id", "enrollment_id", "session_id", "status", "recorded_at"), attendance)
    bulk_insert(
        Attempt.__table__,
        (
            "id",
            "enrollment_id",
            "kind",
            "source",
            "status",
            "seed",
            "question_ids",
            "closed_by_deadline",
            "score",
            "submitted_at",
            "created_at",
            "updated_at",
        ),
        attempts,
    )
    bulk_insert(
        Certificate.__table__,
        (
            "id",
            "enrollment_id",
            "course_id",
            "trainee_id",
            "issuing_unit_id",
            "year",
            "sequence",
            "number",
            "verify_code",
            "issued_at",
            "snapshot",
            "status",
            "kind",
        ),
        certificates,
    )
    if seq:
        db.session.merge(CertificateCounter(issuing_unit_id=issuer.id, year=year, last_seq=seq))
    _fix_sequences(
        [
            Trainee.__table__,
            Course.__table__,
            CourseSession.__table__,
            Enrollment.__table__,
            Attendance.__table__,
            Attempt.__table__,
            Certificate.__table__,
        ]
    )
    db.session.flush()
    if db.session.connection().dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))  # fresh planner statistics for the new rows
    return {
        "trainees": len(trainees),
        "courses": len(courses),
        "enrollments": len(enrolments),
        "attendance": len(attendance),
        "attempts": len(attempts),
        "certificates": len(certificates),
        "seconds": round(time.perf_counter() - started, 1),
    }

"""Demo topics, annual plans and courses (idempotent).

- The four topics of the issue.
- Plans for 2025 and 2026 (and for the year of any course dated from today, when the demo runs
  later) of xã Cờ Đỏ, xã Vĩnh Thạnh and the city, and the 2024 plan of huyện Cờ Đỏ (cũ).
- Courses in every status. Those that must look alive (finished a while ago, running today,
  open for registration now, closed and about to start, a draft planned) are dated relative to
  ``today``, so the catalogue is never empty and statuses always agree with the dates; run in
  2026 this gives xã Cờ Đỏ its four 2026 courses. The three courses of huyện Cờ Đỏ (before the
  2025 reform) have fixed 2024 dates.

A course is identified by its unit and title, so running the seeder again (even on another day)
adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from bdg_training.courses import rules
from bdg_training.courses.models import Course, CourseSession, PlanTarget, Topic, TrainingPlan
from bdg_training.courses.services import DEFAULT_TOPICS, local_to_utc
from bdg_training.extensions import db
from bdg_training.units.models import Signer, Unit

TOPICS = DEFAULT_TOPICS  # the four topics of the issue

MORNING = ("07:30", "11:00")
AFTERNOON = ("13:30", "16:30")


@dataclass
class DemoCourse:
    key: str
    unit: str
    topic: int  # index in TOPICS
    title: str
    start: date
    days: list[tuple[int, tuple[str, str], str, str]]  # (day offset, (start, end), subject, trainer)
    status: str
    venue: str
    capacity: int = 40
    reg: tuple[datetime, datetime] | None = None
    issuer: str | None = None  # unit key of the issuing unit; its first signer signs
    creator: str | None = None
    funding: str | None = None
    groups: list[str] = field(default_factory=list)
    cancel_reason: str | None = None
    needs_approval: bool = False
    description: str | None = None
    plan_unit: str | None = None  # plan of another unit (a department's course in the city plan)


def _reg(opens: date, closes: date) -> tuple[datetime, datetime]:
    return local_to_utc(opens, time(7, 0)), local_to_utc(closes, time(17, 0))


def _courses(today: date) -> list[DemoCourse]:
    d = timedelta
    codo_venue = "Hội trường UBND xã Cờ Đỏ"
    return [
        # --- xã Cờ Đỏ: four courses around today (in 2026 when run in 2026) ----------------
        DemoCourse(
            "codo_finished", "xa:Cờ Đỏ", 0,
            "Tập huấn Luật Bình đẳng giới và kỹ năng lồng ghép giới cho cán bộ, công chức xã",
            today - d(75),
            [(0, MORNING, "Luật Bình đẳng giới và các văn bản hướng dẫn", "ThS. Nguyễn Thị Thanh Tâm"),
             (0, AFTERNOON, "Lồng ghép giới trong xây dựng kế hoạch của xã", "ThS. Nguyễn Thị Thanh Tâm"),
             (1, MORNING, "Thực hành: rà soát một kế hoạch dưới góc độ giới", "Trần Văn Phúc")],
            rules.FINISHED, codo_venue, capacity=45, reg=_reg(today - d(105), today - d(78)), issuer="xa:Cờ Đỏ",
            creator="tochuc.codo", funding="Chương trình 1790/QĐ-TTg", groups=["can_bo", "cong_chuc"],
        ),
        DemoCourse(
            "codo_running", "xa:Cờ Đỏ", 3,
            "Kỹ năng phòng, chống bạo lực gia đình cho tổ hòa giải các ấp",
            today - d(1),
            [(0, MORNING, "Luật Phòng, chống bạo lực gia đình 2022", "Lê Thị Ngọc Hân"),
             (1, MORNING, "Kỹ năng hòa giải và can thiệp", "Lê Thị Ngọc Hân"),
             (2, MORNING, "Chuyển gửi và hỗ trợ nạn nhân", "Huỳnh Minh Trí")],
            rules.RUNNING, codo_venue, capacity=35, reg=_reg(today - d(30), today - d(4)), issuer="xa:Cờ Đỏ",
            creator="tochuc.codo", funding="Ngân sách xã", groups=["nguoi_dan", "hoi_vien"],
        ),
        DemoCourse(
            "codo_open", "xa:Cờ Đỏ", 1,
            "Phòng ngừa và ứng phó với bạo lực trên cơ sở giới cho thành viên Ban vì sự tiến bộ của phụ nữ",
            today + d(21),
            [(0, MORNING, "Nhận diện bạo lực trên cơ sở giới", "ThS. Nguyễn Thị Thanh Tâm"),
             (0, AFTERNOON, "Dịch vụ hỗ trợ cơ bản cho nạn nhân", "ThS. Nguyễn Thị Thanh Tâm"),
             (1, MORNING, "Xây dựng kế hoạch phòng ngừa tại xã", "Trần Văn Phúc")],
            rules.OPEN, codo_venue, capacity=40, reg=_reg(today - d(7), today + d(14)), issuer="xa:Cờ Đỏ",
            creator="tochuc.codo", funding="Tháng hành động vì bình đẳng giới và phòng ngừa, ứng phó với bạo lực trên cơ sở giới",
            groups=["can_bo", "cong_chuc", "hoi_vien"],
            description="Dành cho thành viên Ban vì sự tiến bộ của phụ nữ xã và cán bộ các đoàn thể.\nHọc viên tham dự đủ buổi và đạt bài kiểm tra cuối khóa được cấp giấy chứng nhận.",
        ),
        DemoCourse(
            "codo_draft", "xa:Cờ Đỏ", 2,
            "Tập huấn công tác gia đình và xây dựng gia đình hạnh phúc",
            max(today + d(3), min(today + d(30), date(today.year, 12, 28))),
            [(0, MORNING, "Chia sẻ việc nhà giữa nam và nữ", "Võ Thị Kim Thoa")],
            rules.DRAFT, "Nhà văn hóa ấp Thới Hòa", capacity=50, issuer="xa:Cờ Đỏ", creator="tochuc.codo",
            groups=["nguoi_dan"],
        ),
        # --- xã Vĩnh Thạnh -------------------------------------------------------------------
        DemoCourse(
            "vt_open", "xa:Vĩnh Thạnh", 3,
            "Phòng, chống bạo lực gia đình cho hội viên phụ nữ xã Vĩnh Thạnh",
            today + d(12),
            [(0, MORNING, "Nhận diện bạo lực gia đình", "Đặng Thị Vân"),
             (0, AFTERNOON, "Địa chỉ tin cậy ở cộng đồng", "Đặng Thị Vân")],
            rules.OPEN, "Trung tâm Văn hóa – Thể thao xã Vĩnh Thạnh", capacity=60, reg=_reg(today - d(3), today + d(9)),
            creator="tochuc.vinhthanh", groups=["hoi_vien", "nguoi_dan"], needs_approval=True,
        ),
        DemoCourse(
            "vt_finished", "xa:Vĩnh Thạnh", 0,
            "Tập huấn Luật Bình đẳng giới cho cán bộ ấp",
            today - d(100),
            [(0, MORNING, "Luật Bình đẳng giới", "Đặng Thị Vân")],
            rules.FINISHED, "Hội trường UBND xã Vĩnh Thạnh", capacity=30, reg=_reg(today - d(130), today - d(102)),
            creator="tochuc.vinhthanh", groups=["can_bo"],
        ),
        # --- thành phố Cần Thơ ----------------------------------------------------------------
        DemoCourse(
            "city_closed", "snv", 0,
            "Lồng ghép giới trong xây dựng văn bản quy phạm pháp luật",
            today + d(5),
            [(0, MORNING, "Yêu cầu lồng ghép giới theo Luật Bình đẳng giới", "TS. Phạm Quốc Bảo"),
             (0, AFTERNOON, "Đánh giá tác động giới của chính sách", "TS. Phạm Quốc Bảo"),
             (1, MORNING, "Thực hành trên dự thảo văn bản", "ThS. Nguyễn Thị Thanh Tâm")],
            rules.CLOSED, "Hội trường Sở Nội vụ thành phố Cần Thơ", capacity=50, reg=_reg(today - d(20), today - d(1)), issuer="snv",
            creator="tochuc.thanhpho", funding="Công văn 739/BNV-CTTN&BĐG", groups=["cong_chuc", "vien_chuc"], plan_unit="city",
        ),
        DemoCourse(
            "city_finished", "women_union", 1,
            "Tập huấn giảng viên nguồn về phòng ngừa bạo lực trên cơ sở giới",
            today - d(40),
            [(0, MORNING, "Phương pháp giảng dạy có sự tham gia", "TS. Phạm Quốc Bảo"),
             (1, MORNING, "Thực hành giảng", "TS. Phạm Quốc Bảo")],
            rules.FINISHED, "Hội trường Hội Liên hiệp Phụ nữ thành phố", capacity=30, reg=_reg(today - d(70), today - d(42)), issuer="snv",
            creator="tochuc.thanhpho", groups=["can_bo", "hoi_vien"], plan_unit="city",
        ),
        DemoCourse(
            "city_cancelled", "city_vstbpn", 2,
            "Tọa đàm công tác gia đình trong Tháng hành động vì bình đẳng giới",
            today + d(10),
            [(0, MORNING, "Tọa đàm", "Phạm Thị Ngọc Hân")],
            rules.CANCELLED, "Hội trường Sở Nội vụ thành phố Cần Thơ", capacity=80, reg=_reg(today - d(15), today + d(7)),
            creator="tochuc.thanhpho", plan_unit="city",
            cancel_reason="Trùng lịch kỳ họp chuyên đề của Hội đồng nhân dân thành phố; nội dung được ghép vào lớp tháng sau.",
        ),
        # --- huyện Cờ Đỏ (cũ), 2024: fixed dates ---------------------------------------------
        DemoCourse(
            "hcodo_2024_law", "district:Cờ Đỏ", 0,
            "Tập huấn Luật Bình đẳng giới cho cán bộ chủ chốt các xã, thị trấn",
            date(2024, 4, 16),
            [(0, MORNING, "Luật Bình đẳng giới", "Nguyễn Thị Thu Hà"), (1, MORNING, "Lồng ghép giới ở cấp xã", "Nguyễn Thị Thu Hà")],
            rules.FINISHED, "Hội trường UBND huyện Cờ Đỏ", capacity=40,
            reg=(local_to_utc(date(2024, 3, 25), time(7, 0)), local_to_utc(date(2024, 4, 12), time(17, 0))), issuer="phong_codo",
            funding="Chương trình 1790/QĐ-TTg", groups=["can_bo", "cong_chuc"],
        ),
        DemoCourse(
            "hcodo_2024_dv", "district:Cờ Đỏ", 3,
            "Phòng, chống bạo lực gia đình cho các tổ hòa giải",
            date(2024, 8, 20),
            [(0, MORNING, "Luật Phòng, chống bạo lực gia đình 2022", "Nguyễn Thị Thu Hà"), (1, MORNING, "Kỹ năng hòa giải", "Lê Thị Ngọc Hân")],
            rules.FINISHED, "Hội trường UBND huyện Cờ Đỏ", capacity=50,
            reg=(local_to_utc(date(2024, 8, 1), time(7, 0)), local_to_utc(date(2024, 8, 16), time(17, 0))), issuer="phong_codo",
            groups=["nguoi_dan", "hoi_vien"],
        ),
        DemoCourse(
            "hcodo_2024_family", "district:Cờ Đỏ", 2,
            "Tháng hành động vì bình đẳng giới 2024: tập huấn công tác gia đình",
            date(2024, 11, 19),
            [(0, MORNING, "Công tác gia đình", "Nguyễn Thị Thu Hà")],
            rules.CANCELLED, "Hội trường UBND huyện Cờ Đỏ", capacity=60,
            reg=(local_to_utc(date(2024, 11, 1), time(7, 0)), local_to_utc(date(2024, 11, 15), time(17, 0))), issuer="phong_codo",
            cancel_reason="Triều cường làm ngập hội trường; nội dung được lồng ghép vào hội nghị tổng kết cuối năm.",
        ),
    ]  # fmt: skip


def _topics() -> list[Topic]:
    result = []
    for order, (name, description) in enumerate(TOPICS, start=1):
        topic = db.session.scalar(select(Topic).where(Topic.name == name))
        if topic is None:
            topic = Topic(name=name, description=description, sort_order=order, active=True)
            db.session.add(topic)
        result.append(topic)
    db.session.flush()
    return result


PLAN_SETTINGS = {  # unit key → (planned courses, planned trainees, planned % women, plan document)
    "xa:Cờ Đỏ": (4, 160, Decimal("60"), "Kế hoạch số 12/KH-UBND của UBND xã Cờ Đỏ"),
    "xa:Vĩnh Thạnh": (3, 120, Decimal("55"), "Kế hoạch số 08/KH-UBND của UBND xã Vĩnh Thạnh"),
    "city": (6, 300, Decimal("50"), "Kế hoạch số 45/KH-UBND của UBND thành phố Cần Thơ"),
}
TARGETS = {
    "xa:Cờ Đỏ": [
        ("Cán bộ, công chức xã được tập huấn về bình đẳng giới ít nhất một lần", "28/NQ-CP", Decimal("100"), "%"),
        ("Số cuộc truyền thông về pháp luật, chính sách bình đẳng giới trong năm", "1790/QĐ-TTg", Decimal("2"), "cuộc"),
        ("Thành viên Ban vì sự tiến bộ của phụ nữ được tập huấn về bình đẳng giới", "739/BNV-CTTN&BĐG", Decimal("100"), "%"),
    ],
    "xa:Vĩnh Thạnh": [
        ("Số cuộc truyền thông về pháp luật, chính sách bình đẳng giới trong năm", "1790/QĐ-TTg", Decimal("2"), "cuộc"),
    ],
    "city": [
        ("Xã, phường tổ chức Tháng hành động vì bình đẳng giới (15/11–15/12)", "1790/QĐ-TTg", Decimal("100"), "%"),
        ("Cán bộ xây dựng chính sách được tập huấn lồng ghép giới", "739/BNV-CTTN&BĐG", Decimal("60"), "người"),
    ],
}


def _plan(unit: Unit, year: int, courses: int, trainees: int, female: Decimal, document: str, targets) -> TrainingPlan:
    plan = db.session.scalar(select(TrainingPlan).where(TrainingPlan.unit_id == unit.id, TrainingPlan.year == year))
    if plan is None:
        plan = TrainingPlan(
            unit=unit, year=year, planned_courses=courses, planned_trainees=trainees, planned_female_pct=female, source_document=document
        )
        for indicator, source, value, measure in targets:
            plan.targets.append(PlanTarget(indicator=indicator, source_document=source, target_value=value, measure=measure))
        db.session.add(plan)
    return plan


def _plans(units: dict, years: set[int]) -> dict[tuple[str, int], TrainingPlan]:
    plans = {}
    for year in sorted(years):
        for key, (courses, trainees, female, document) in PLAN_SETTINGS.items():
            if key == "xa:Cờ Đỏ" and year == 2025:
                courses, trainees = 2, 80  # xã Cờ Đỏ exists from 01/07/2025: half a year
            plans[(key, year)] = _plan(units[key], year, courses, trainees, female, document, TARGETS[key])
    plans[("district:Cờ Đỏ", 2024)] = _plan(
        units["district:Cờ Đỏ"], 2024, 3, 150, Decimal("55"), "Kế hoạch số 20/KH-UBND của UBND huyện Cờ Đỏ", []
    )
    db.session.flush()
    return plans


def seed(today: date, units: dict, users: dict) -> dict[str, Course]:
    """Create the demo topics, plans and courses; returns the courses by key (see ``_courses``)."""
    topics = _topics()
    specs = _courses(today)
    # 2025 and 2026, and the years the courses dated from today end in (so each has its plan).
    plans = _plans(units, {2025, 2026} | {_end(spec).year for spec in specs if spec.start.year != 2024})
    signers: dict[int, Signer | None] = {}
    result: dict[str, Course] = {}
    for spec in specs:
        unit = units[spec.unit]
        course = db.session.scalar(select(Course).where(Course.unit_id == unit.id, Course.title == spec.title))
        if course is None:
            course = _create(spec, unit, topics, plans, units, users, signers)
        result[spec.key] = course
    db.session.flush()
    return result


def _end(spec: DemoCourse) -> date:
    return spec.start + timedelta(days=max(offset for offset, *_ in spec.days))


def _create(spec: DemoCourse, unit: Unit, topics, plans, units, users, signers) -> Course:
    from bdg_training.courses.services import next_code

    end = _end(spec)
    issuer = units[spec.issuer] if spec.issuer else None
    signer = None
    if issuer is not None:
        if issuer.id not in signers:
            signers[issuer.id] = db.session.scalar(select(Signer).where(Signer.unit_id == issuer.id).order_by(Signer.id))
        signer = signers[issuer.id]
    plan = plans.get((spec.plan_unit or spec.unit, end.year))
    creator = users.get(spec.creator) if spec.creator else None
    course = Course(
        code=next_code(unit, end.year),
        title=spec.title,
        topic=topics[spec.topic],
        unit=unit,
        plan=plan,
        funding_source=spec.funding,
        venue=spec.venue,
        capacity=spec.capacity,
        reg_opens_at=spec.reg[0] if spec.reg else None,
        reg_closes_at=spec.reg[1] if spec.reg else None,
        start_date=spec.start,
        end_date=end,
        hours=Decimal(3 * len(spec.days)),  # a session is a half day, about 3 hours
        target_groups=list(spec.groups),
        description=spec.description,
        pass_mark=Decimal("5.00"),
        min_attendance_pct=Decimal("80.00"),
        needs_approval=spec.needs_approval,
        issuing_unit=issuer,
        signer=signer,
        status=spec.status,
        cancel_reason=spec.cancel_reason,
        published_at=spec.reg[0] if spec.reg and spec.status != rules.DRAFT else None,
        created_by_id=creator.id if creator else None,
    )
    for offset, (begin, finish), subject, trainer in spec.days:
        course.sessions.append(
            CourseSession(
                date=spec.start + timedelta(days=offset),
                start_time=time.fromisoformat(begin),
                end_time=time.fromisoformat(finish),
                subject=subject,
                trainer=trainer,
            )
        )
    db.session.add(course)
    db.session.flush()  # the next code of the same series sees this one
    return course

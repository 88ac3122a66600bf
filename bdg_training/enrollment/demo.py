"""Demo trainees, enrolments and attendance for the demo courses (idempotent).

People are generated from a fixed seed, so every run produces the same ones: Kinh names (given
names partly from Faker's ``vi_VN`` lists), and the Khmer and Hoa minorities of the Mekong Delta
(Thạch, Sơn, Danh, Kim, Lâm…; Quách, Lý, Trương…), about six women in ten. Each locality has its
pool (xã Cờ Đỏ, xã Vĩnh Thạnh, the city), so some people attend several courses, as in real life.

Courses are filled according to their status: finished and running courses with confirmed
trainees (a few withdrawn) and attendance for the sessions held by ``today``; xã Cờ Đỏ's open
course is full with a waiting list; xã Vĩnh Thạnh's open course needs approval, so it has
pending and rejected registrations. The demo login "hocvien" (Thạch Thị Sa Rươl) gets a trainee
record enrolled in the open course and in the finished one.

A course that already has enrolments is left alone; a person is found again by personal ID, or
by name + birth + sex, so running the seeder twice adds nothing.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from faker import Faker
from sqlalchemy import select

from bdg_training.courses.models import Course
from bdg_training.courses.services import local_to_utc
from bdg_training.enrollment import rules
from bdg_training.enrollment.models import Attendance, Enrollment, Trainee
from bdg_training.ethnicity import CODE_LIST
from bdg_training.extensions import db

SEED = 20250701

KINH_FAMILY = [("Nguyễn", 30), ("Trần", 11), ("Lê", 9), ("Phạm", 6), ("Huỳnh", 7), ("Võ", 6), ("Phan", 4), ("Trương", 2), ("Bùi", 2),
               ("Đặng", 2), ("Đỗ", 2), ("Ngô", 2), ("Hồ", 2), ("Dương", 2), ("Lâm", 1), ("Châu", 1), ("Đoàn", 1), ("Tô", 1)]  # fmt: skip
KINH_FEMALE = ["Ngọc Hân", "Thúy", "Bích Ngọc", "Thanh Thảo", "Kim Loan", "Diễm", "Mỹ Duyên", "Hồng Nhung", "Thu Trang", "Cẩm Tú",
               "Phương", "Tuyết", "Kiều", "Ngọc Trâm", "Huệ", "Nguyệt", "Hòa", "Thủy", "Út", "Hạnh", "Trinh", "Thắm", "Nhi", "Yến Nhi"]  # fmt: skip
KINH_MALE = ["Tấn Lộc", "Hoàng Phúc", "Thành", "Tài", "Lợi", "Hiếu", "Nghĩa", "Trí", "Phát", "Đức", "Hậu", "Cường", "Tuấn", "Khánh",
             "Bình", "Hải", "Thuận", "Tâm", "Út", "Sang"]  # fmt: skip
KINH_MIDDLE_FEMALE = [("Thị", 8), ("Ngọc", 1), ("Thanh", 1), ("Mỹ", 1), ("Kim", 1), ("Thu", 1)]
KINH_MIDDLE_MALE = [("Văn", 8), ("Minh", 2), ("Quốc", 1), ("Thanh", 1), ("Hữu", 1), ("Công", 1), ("Hoàng", 1)]
KHMER_FAMILY = [("Thạch", 5), ("Sơn", 4), ("Danh", 4), ("Kim", 3), ("Lâm", 2), ("Lý", 1), ("Châu", 1)]
KHMER_FEMALE = ["Sóc Khon", "Sa Rinh", "Sô Phol", "Chanh Thu", "Sà Rê", "Sóc Phia", "Sô Phi", "Thu Sương", "Rạch Na", "Mỹ Lan", "Ngọc Hên"]
KHMER_MALE = ["Sa Rin", "Chanh", "Sóc Kha", "Sà Rết", "Sô Phon", "Ni", "Hên", "Sa Ron", "Phước", "Thách", "Chơn", "Rinh"]
HOA_FAMILY = [("Quách", 3), ("Lý", 3), ("Trương", 3), ("Lưu", 2), ("Mã", 1), ("Hứa", 2), ("Tăng", 1), ("Diệp", 1)]
HOA_FEMALE = ["Mỹ Lệ", "Ngọc Hoa", "Huệ Phân", "Tuyết Mai", "Bảo Trân", "Kim Phụng", "Thục Nghi", "Mẫn Nhi"]
HOA_MALE = ["Quốc Cường", "Tuấn Kiệt", "Chí Thành", "Gia Huy", "Vĩnh Khang", "Kiến Văn", "Thái Bình"]
HOA_MIDDLE_FEMALE = [("Thị", 3), ("", 2)]
HOA_MIDDLE_MALE = [("Văn", 2), ("", 3)]
MOBILE_PREFIXES = ["090", "091", "093", "094", "096", "097", "098", "032", "033", "034", "035", "036", "037", "038", "039",
                   "070", "077", "079", "081", "082", "083", "084", "085", "086", "088", "089"]  # fmt: skip

WORK_UNITS = {
    "codo": {
        "can_bo": ["UBND xã Cờ Đỏ", "Đảng ủy xã Cờ Đỏ", "Ủy ban MTTQ Việt Nam xã Cờ Đỏ"],
        "cong_chuc": ["Văn phòng HĐND và UBND xã Cờ Đỏ", "Phòng Văn hóa – Xã hội xã Cờ Đỏ", "Công an xã Cờ Đỏ"],
        "vien_chuc": ["Trạm Y tế xã Cờ Đỏ", "Trường THCS Cờ Đỏ", "Trường Tiểu học Thới Hòa"],
        "doan_vien": ["Đoàn TNCS Hồ Chí Minh xã Cờ Đỏ"],
        "hoi_vien": ["Hội LHPN xã Cờ Đỏ", "Hội Nông dân xã Cờ Đỏ", "Chi hội Phụ nữ ấp Thới Hòa", "Chi hội Phụ nữ ấp Thới Phong"],
        "nguoi_dan": ["Ấp Thới Hòa", "Ấp Thới Phong", "Ấp Thới Thuận", "Ấp Đông Hòa", "Tổ hòa giải ấp Thới Hòa"],
    },
    "vt": {
        "can_bo": ["UBND xã Vĩnh Thạnh"],
        "cong_chuc": ["Văn phòng HĐND và UBND xã Vĩnh Thạnh", "Phòng Văn hóa – Xã hội xã Vĩnh Thạnh"],
        "vien_chuc": ["Trạm Y tế xã Vĩnh Thạnh", "Trường THCS Vĩnh Thạnh"],
        "doan_vien": ["Đoàn TNCS Hồ Chí Minh xã Vĩnh Thạnh"],
        "hoi_vien": ["Hội LHPN xã Vĩnh Thạnh", "Chi hội Phụ nữ ấp Vĩnh Lợi"],
        "nguoi_dan": ["Ấp Vĩnh Lợi", "Ấp Vĩnh Quới", "Ấp Qui Lân"],
    },
    "city": {
        "can_bo": ["Sở Nội vụ thành phố Cần Thơ", "UBND phường Ninh Kiều", "UBND phường Cái Khế"],
        "cong_chuc": ["Sở Tư pháp thành phố Cần Thơ", "Sở Nội vụ thành phố Cần Thơ", "Sở Y tế thành phố Cần Thơ", "Văn phòng UBND thành phố Cần Thơ"],
        "vien_chuc": ["Bệnh viện Đa khoa thành phố Cần Thơ", "Trường Đại học Cần Thơ", "Trung tâm Công tác xã hội thành phố"],
        "doan_vien": ["Thành Đoàn Cần Thơ"],
        "hoi_vien": ["Hội LHPN thành phố Cần Thơ", "Hội LHPN phường Ninh Kiều", "Hội LHPN phường Bình Thủy"],
        "nguoi_dan": ["Phường Ninh Kiều", "Phường Cái Răng", "Phường Bình Thủy"],
    },
}
POSITIONS = {
    "can_bo": ["Phó Chủ tịch UBND", "Chủ tịch Hội LHPN", "Phó Bí thư Đoàn", "Chủ tịch Ủy ban MTTQ"],
    "cong_chuc": ["Công chức Văn hóa – Xã hội", "Công chức Tư pháp – Hộ tịch", "Chuyên viên", "Công chức Văn phòng – Thống kê"],
    "vien_chuc": ["Giáo viên", "Y sĩ", "Điều dưỡng", "Nhân viên công tác xã hội"],
    "doan_vien": ["Bí thư Chi đoàn", "Đoàn viên"],
    "hoi_vien": ["Chi hội trưởng", "Hội viên", "Tổ trưởng tổ phụ nữ"],
    "nguoi_dan": ["", "Tổ viên tổ hòa giải", "Trưởng ấp", ""],
}
# (locality, unit key of the trainees, size of the pool, target-group weights)
POOLS = {
    "codo": ("xa:Cờ Đỏ", 130, {"can_bo": 2, "cong_chuc": 3, "vien_chuc": 2, "doan_vien": 1, "hoi_vien": 4, "nguoi_dan": 4}),
    "vt": ("xa:Vĩnh Thạnh", 70, {"can_bo": 1, "cong_chuc": 2, "vien_chuc": 1, "doan_vien": 1, "hoi_vien": 4, "nguoi_dan": 4}),
    "city": ("city", 90, {"can_bo": 3, "cong_chuc": 5, "vien_chuc": 3, "doan_vien": 1, "hoi_vien": 2, "nguoi_dan": 1}),
}
# course key (bdg_training.courses.demo) → (pool, how many to enrol, plan of statuses)
FILL = {
    "codo_finished": ("codo", 40, "done"),
    "codo_running": ("codo", 31, "done"),
    "codo_open": ("codo", 48, "full"),
    "vt_open": ("vt", 30, "approval"),
    "vt_finished": ("vt", 26, "done"),
    "city_closed": ("city", 44, "done"),
    "city_finished": ("city", 28, "done"),
    "city_cancelled": ("city", 16, "done"),
    "hcodo_2024_law": ("codo", 36, "done"),
    "hcodo_2024_dv": ("codo", 44, "done"),
}
# One person entered twice (new and old tone placement, one record without ID), in two courses:
# the admin's duplicates screen has something to merge.
DUPLICATE_PAIR = [
    ("hcodo_2024_law", {"family_name": "Nguyễn", "middle_name": "Thị", "given_name": "Hoà", "sex": rules.FEMALE, "birth_date": date(1979, 3, 8),
                        "ethnicity_code": "01", "personal_id": "092179004455", "phone": "+84918223344", "work_unit": "UBND thị trấn Cờ Đỏ",
                        "position": "Công chức Văn hóa – Xã hội", "target_group": "cong_chuc"}),
    ("codo_finished", {"family_name": "Nguyễn", "middle_name": "Thị", "given_name": "Hòa", "sex": rules.FEMALE, "birth_date": date(1979, 3, 8),
                       "ethnicity_code": "01", "phone": None, "work_unit": "UBND xã Cờ Đỏ", "position": "Công chức Văn hóa – Xã hội",
                       "target_group": "cong_chuc"}),
]  # fmt: skip
HOCVIEN = {
    "family_name": "Thạch",
    "middle_name": "Thị",
    "given_name": "Sa Rươl",
    "sex": rules.FEMALE,
    "birth_date": date(1987, 9, 14),
    "ethnicity_code": "05",
    "phone": "+84389123456",
    "work_unit": "Chi hội Phụ nữ ấp Thới Hòa",
    "position": "Chi hội trưởng",
    "target_group": "hoi_vien",
}


def _weighted(rng: random.Random, items: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in items], weights=[w for _, w in items])[0]


def _person(rng: random.Random, fake: Faker, locality: str, weights: dict[str, int], today: date) -> dict:
    sex = rules.FEMALE if rng.random() < 0.6 else rules.MALE
    roll = rng.random()
    female = sex == rules.FEMALE
    if roll < 0.16:  # Khmer
        ethnicity, family = "05", _weighted(rng, KHMER_FAMILY)
        middle = "Thị" if female else rng.choice(["Văn", "", ""])
        given = rng.choice(KHMER_FEMALE if female else KHMER_MALE)
    elif roll < 0.23:  # Hoa
        ethnicity, family = "04", _weighted(rng, HOA_FAMILY)
        middle = _weighted(rng, HOA_MIDDLE_FEMALE if female else HOA_MIDDLE_MALE)
        given = rng.choice(HOA_FEMALE if female else HOA_MALE)
    else:  # Kinh; given names partly from Faker's vi_VN lists
        ethnicity, family = "01", _weighted(rng, KINH_FAMILY)
        middle = _weighted(rng, KINH_MIDDLE_FEMALE if female else KINH_MIDDLE_MALE)
        given = (fake.first_name_female() if female else fake.first_name_male()) if rng.random() < 0.4 else rng.choice(KINH_FEMALE if female else KINH_MALE)
    group = _weighted(rng, list(weights.items()))
    age = rng.randint(22, 40) if group == "doan_vien" else rng.randint(24, 62)
    birth = date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
    year_only = group in ("nguoi_dan", "hoi_vien") and rng.random() < 0.15
    personal_id = None
    if rng.random() < 0.65:
        century = (birth.year - 1900) // 100
        personal_id = f"092{century * 2 + (1 if female else 0)}{birth.year % 100:02d}{rng.randint(0, 999999):06d}"
    phone = f"+84{rng.choice(MOBILE_PREFIXES)[1:]}{rng.randint(0, 9999999):07d}" if rng.random() < 0.85 else None
    return {
        "family_name": family,
        "middle_name": middle,
        "given_name": given,
        "sex": sex,
        "birth_date": None if year_only else birth,
        "birth_year": birth.year,
        "ethnicity_code": ethnicity,
        "personal_id": personal_id,
        "phone": phone,
        "work_unit": rng.choice(WORK_UNITS[locality][group]),
        "position": rng.choice(POSITIONS[group]) or None,
        "target_group": group,
    }


def _get_or_create(values: dict, unit_id: int | None) -> Trainee:
    full_name = " ".join(p for p in (values["family_name"], values["middle_name"], values["given_name"]) if p)
    query = select(Trainee)
    if values.get("personal_id"):
        query = query.where(Trainee.personal_id == values["personal_id"])
    else:
        query = query.where(Trainee.full_name == full_name, Trainee.birth_year == values.get("birth_year"), Trainee.sex == values["sex"])
    trainee = db.session.scalars(query.limit(1)).first()
    if trainee is None:
        trainee = Trainee(full_name=full_name, unit_id=unit_id, ethnicity_code_list=CODE_LIST if values.get("ethnicity_code") else None, **values)
        if trainee.birth_date is not None:
            trainee.birth_year = trainee.birth_date.year
        trainee.refresh_keys()
        db.session.add(trainee)
    return trainee


def _pools(today: date, units: dict) -> dict[str, list[Trainee]]:
    rng = random.Random(SEED)
    fake = Faker("vi_VN")
    fake.seed_instance(SEED)
    pools: dict[str, list[Trainee]] = {}
    seen_ids: set[str] = set()
    for locality, (unit_key, size, weights) in POOLS.items():
        people = []
        for _ in range(size):
            values = _person(rng, fake, locality, weights, today)
            if values["personal_id"] in seen_ids:
                values["personal_id"] = None
            if values["personal_id"]:
                seen_ids.add(values["personal_id"])
            people.append(_get_or_create(values, units[unit_key].id if unit_key in units else None))
        pools[locality] = people
    db.session.flush()
    return pools


def _pick(rng: random.Random, pool: list[Trainee], course: Course, n: int, exclude: set[int]) -> list[Trainee]:
    """People of the course's target groups first, then anyone, in a reproducible order."""
    candidates = [t for t in pool if t.id not in exclude]
    rng.shuffle(candidates)
    groups = set(course.target_groups or [])
    candidates.sort(key=lambda t: 0 if not groups or t.target_group in groups else 1)
    return candidates[:n]


def _at(day: date, hour: int) -> datetime:
    return local_to_utc(day, time(hour, 0))


def _registered_at(course: Course, rng: random.Random) -> datetime:
    opens = course.reg_opens_at or _at(course.start_date - timedelta(days=20), 8)
    closes = course.reg_closes_at or _at(course.start_date - timedelta(days=1), 17)
    span = max(1, int((closes - opens).total_seconds()))
    return opens + timedelta(seconds=rng.randint(0, span - 1))


def _fill(course: Course, people: list[Trainee], plan: str, rng: random.Random, today: date, recorder_id: int | None, keep: set[int]) -> int:
    rows: list[Enrollment] = []
    times = sorted(_registered_at(course, rng) for _ in people)
    waiting = 0
    for n, (trainee, registered_at) in enumerate(zip(people, times, strict=True)):
        status, position, source = rules.CONFIRMED, None, rng.choice([rules.SOURCE_ORGANIZER, rules.SOURCE_IMPORT, rules.SOURCE_SELF])
        if plan == "full" and n >= course.capacity:
            waiting += 1
            status, position, source = rules.WAITLISTED, waiting, rules.SOURCE_SELF
        elif plan == "approval":
            source = rules.SOURCE_SELF
            status = rules.CONFIRMED if n < 16 else (rules.REJECTED if n in (20, 27) else rules.PENDING)
        elif n >= course.capacity:
            continue
        decided = registered_at + timedelta(hours=rng.randint(2, 48)) if status in (rules.CONFIRMED, rules.REJECTED) else None
        enrollment = Enrollment(
            course_id=course.id,
            trainee_id=trainee.id,
            status=status,
            waitlist_position=position,
            source=source,
            registered_at=registered_at,
            decided_at=decided,
            decided_by_id=recorder_id if decided and source != rules.SOURCE_SELF else None,
            note="Không thuộc đối tượng của lớp." if status == rules.REJECTED else None,
        )
        rows.append(enrollment)
    confirmed = [e for e in rows if e.status == rules.CONFIRMED and e.trainee_id not in keep]
    if plan in ("done", "full") and len(confirmed) > 4:  # a couple of people withdrew (none waiting behind them)
        for enrollment in rng.sample(confirmed, 2 if plan == "done" else 1):
            if plan == "full":
                # keep the course full: the withdrawn seat went to the head of the waiting list
                head = next((e for e in rows if e.status == rules.WAITLISTED and e.waitlist_position == 1), None)
                if head is not None:
                    head.status, head.waitlist_position, head.decided_at = rules.CONFIRMED, None, enrollment.registered_at + timedelta(days=1)
                    for other in rows:
                        if other.status == rules.WAITLISTED:
                            other.waitlist_position -= 1
            enrollment.status, enrollment.withdrawn_at = rules.WITHDRAWN, enrollment.registered_at + timedelta(days=rng.randint(1, 5))
    db.session.add_all(rows)
    db.session.flush()
    held = [s for s in course.sessions if s.date <= today] if course.status in ("running", "finished") else []
    for enrollment in rows:
        if enrollment.status != rules.CONFIRMED:
            continue
        steady = rng.random() < 0.85  # most people come to every session
        for session in held:
            roll = rng.random()
            status = rules.PRESENT if steady or roll < 0.7 else (rules.EXCUSED if roll < 0.85 else rules.ABSENT)
            db.session.add(
                Attendance(enrollment_id=enrollment.id, session_id=session.id, status=status, recorded_by_id=recorder_id, recorded_at=_at(session.date, 11))
            )
    return len(rows)


def seed(today: date, units: dict, users: dict, courses: dict[str, Course]) -> dict[str, int]:
    """Fill the demo courses (see the module docstring); returns counts for the summary line."""
    pools = _pools(today, units)
    rng = random.Random(SEED + 1)
    hocvien_user = users.get("hocvien")
    hocvien = None
    if hocvien_user is not None:
        hocvien = db.session.scalar(select(Trainee).where(Trainee.user_id == hocvien_user.id))
        if hocvien is None:
            hocvien = _get_or_create({**HOCVIEN, "birth_year": HOCVIEN["birth_date"].year}, units["xa:Cờ Đỏ"].id)
            hocvien.user_id, hocvien.consent_at = hocvien_user.id, _at(today - timedelta(days=120), 9)
            db.session.flush()
    enrolled = 0
    for key, (pool, size, plan) in FILL.items():
        course = courses.get(key)
        if course is None or db.session.scalar(select(Enrollment.id).where(Enrollment.course_id == course.id).limit(1)) is not None:
            continue
        exclude = {hocvien.id} if hocvien is not None else set()
        people = _pick(rng, pools[pool], course, size, exclude)
        if hocvien is not None and key in ("codo_open", "codo_finished"):
            people = [hocvien, *people[:-1]]  # among the first to register: a seat in both
        for course_key, values in DUPLICATE_PAIR:
            if course_key == key:
                twin = _get_or_create({**values, "birth_year": values["birth_date"].year}, units["xa:Cờ Đỏ"].id)
                db.session.flush()
                people = [people[0], twin, *people[1:-1]]
        recorder = users.get("tochuc.codo" if pool == "codo" else "tochuc.vinhthanh" if pool == "vt" else "tochuc.thanhpho")
        enrolled += _fill(course, people, plan, rng, today, recorder.id if recorder else None, exclude)
    db.session.flush()
    return {"học viên": sum(len(p) for p in pools.values()) + (1 if hocvien else 0), "lượt ghi danh": enrolled}

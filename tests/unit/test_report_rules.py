"""Table tests of the counting rules (bdg_training/reports/rules.py)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from bdg_training.reports import rules
from bdg_training.reports.rules import SexSplit, UnitNode
from bdg_training.rules_base import RuleViolation
from bdg_training.vn import age_on


@pytest.mark.parametrize(
    ("part", "total", "expected"),
    [
        (2, 3, Decimal("66.7")),
        (1, 3, Decimal("33.3")),
        (1, 6, Decimal("16.7")),
        (1, 8, Decimal("12.5")),
        (1, 16, Decimal("6.3")),  # 6.25 → half-up
        (1, 400, Decimal("0.3")),  # 0.25 → half-up
        (1, 2000, Decimal("0.1")),  # 0.05 → half-up
        (1, 2001, Decimal("0.0")),  # 0.04997…
        (0, 5, Decimal("0.0")),
        (5, 5, Decimal("100.0")),
        (3, 0, None),
        (0, 0, None),
    ],
)
def test_pct_rounds_half_up_to_one_decimal(part, total, expected):
    assert rules.pct(part, total) == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [(Decimal("66.7"), "66,7%"), (Decimal("100.0"), "100,0%"), (Decimal("0.0"), "0,0%"), (None, "—")],
)
def test_format_pct(value, text):
    assert rules.format_pct(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("80.00"), "80"),
        (Decimal("1250.50"), "1.250,5"),
        (12, "12"),
        (None, "—"),
        (Decimal("0.25"), "0,25"),
        (Decimal("-3.5"), "-3,5"),
    ],
)
def test_format_number(value, text):
    assert rules.format_number(value) == text


def test_sex_split():
    split = SexSplit.of({"nam": 3, "nu": 5})
    assert (split.nam, split.nu, split.total) == (3, 5, 8)
    assert split.pct_female == Decimal("62.5") and split.pct_female_text == "62,5%"
    assert split.as_dict() == {"nam": 3, "nu": 5, "total": 8, "pct_female": 62.5}
    assert (split.get("nam"), split.get("nu"), split.get(None), split.get("")) == (3, 5, 8, 8)
    empty = SexSplit()
    assert empty.pct_female is None and empty.pct_female_text == "—" and empty.as_dict()["pct_female"] is None
    with pytest.raises(ValueError):
        SexSplit(3, 5, 7)  # total below nam + nữ
    with pytest.raises(ValueError):
        SexSplit(-1, 0, 0)


@pytest.mark.parametrize(
    ("enrolment", "course", "present", "counts"),
    [
        ("confirmed", "finished", 1, True),
        ("confirmed", "running", 3, True),
        ("confirmed", "finished", 0, False),  # confirmed but never present (absent / excused only)
        ("confirmed", "cancelled", 2, False),  # a course cancelled part-way was not held
        ("confirmed", "closed", 1, False),
        ("confirmed", "draft", 1, False),
        ("withdrawn", "finished", 2, False),
        ("rejected", "finished", 1, False),
        ("waitlisted", "finished", 1, False),
        ("pending", "finished", 1, False),
    ],
)
def test_is_participation(enrolment, course, present, counts):
    assert rules.is_participation(enrolment, course, present) is counts


@pytest.mark.parametrize(
    ("statuses", "counts"),
    [(["valid"], True), (["revoked"], False), (["replaced", "valid"], True), (["replaced"], False), ([], False)],
)
def test_counts_certificate(statuses, counts):
    assert rules.counts_certificate(statuses) is counts


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        ("finished", "held"),
        ("running", "held"),
        ("cancelled", "cancelled"),
        ("open", "upcoming"),
        ("closed", "upcoming"),
        ("draft", None),
        ("x", None),
    ],
)
def test_course_class(status, cls):
    assert rules.course_class(status) == cls


TODAY = date(2026, 7, 1)


@pytest.mark.parametrize(
    ("args", "start", "end", "label"),
    [
        ({}, date(2026, 1, 1), date(2026, 12, 31), "Năm 2026"),
        ({"year": "2025"}, date(2025, 1, 1), date(2025, 12, 31), "Năm 2025"),
        ({"year": " 2024 ", "part": "q1"}, date(2024, 1, 1), date(2024, 3, 31), "Quý I năm 2024"),
        ({"year": "2026", "part": "q4"}, date(2026, 10, 1), date(2026, 12, 31), "Quý IV năm 2026"),
        ({"year": "2026", "part": "h1"}, date(2026, 1, 1), date(2026, 6, 30), "6 tháng đầu năm năm 2026"),
        ({"year": "2026", "part": "h2"}, date(2026, 7, 1), date(2026, 12, 31), "6 tháng cuối năm năm 2026"),
        ({"year": "2024", "part": "m2"}, date(2024, 2, 1), date(2024, 2, 29), "Tháng 2 năm 2024"),  # leap year
        ({"year": "2026", "part": "M2"}, date(2026, 2, 1), date(2026, 2, 28), "Tháng 2 năm 2026"),
        ({"date_from": "15/11/2026", "date_to": "15/12/2026"}, date(2026, 11, 15), date(2026, 12, 15), "Từ 15/11/2026 đến 15/12/2026"),
        (
            {"date_from": "2025-12-31", "date_to": "2026-01-01", "year": "1999"},
            date(2025, 12, 31),
            date(2026, 1, 1),
            "Từ 31/12/2025 đến 01/01/2026",
        ),
        ({"date_from": "01/01/2026", "date_to": "01/01/2026"}, date(2026, 1, 1), date(2026, 1, 1), "Từ 01/01/2026 đến 01/01/2026"),
    ],
)
def test_parse_period(args, start, end, label):
    period = rules.parse_period(args.get("year"), args.get("part"), args.get("date_from"), args.get("date_to"), today=TODAY)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert period.contains(start) and period.contains(end)
    assert not period.contains(start - timedelta(days=1)) and not period.contains(end + timedelta(days=1))


def test_custom_period_year_is_known_only_inside_one_year():
    assert rules.parse_period(date_from="01/03/2026", date_to="31/05/2026", today=TODAY).year == 2026
    assert rules.parse_period(date_from="01/12/2025", date_to="31/01/2026", today=TODAY).year is None


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"year": "hai nghìn"}, "year"),
        ({"year": "1999"}, "year"),
        ({"year": "2101"}, "year"),
        ({"year": "2026", "part": "q5"}, "part"),
        ({"date_from": "01/01/2026"}, "to"),
        ({"date_to": "01/01/2026"}, "from"),
        ({"date_from": "31/02/2026", "date_to": "01/03/2026"}, "from"),
        ({"date_from": "02/01/2026", "date_to": "01/01/2026"}, "to"),
        ({"date_from": "01/01/2000", "date_to": "01/01/2026"}, "to"),
    ],
)
def test_parse_period_errors(args, field):
    with pytest.raises(RuleViolation) as caught:
        rules.parse_period(args.get("year"), args.get("part"), args.get("date_from"), args.get("date_to"), today=TODAY)
    assert field in caught.value.errors


@pytest.mark.parametrize(
    ("birth_date", "birth_year", "on", "age"),
    [
        (date(1996, 4, 1), None, date(2026, 3, 31), 29),
        (date(1996, 4, 1), None, date(2026, 4, 1), 30),  # older on the birthday itself
        (date(2000, 2, 29), None, date(2025, 2, 28), 24),
        (date(2000, 2, 29), None, date(2025, 3, 1), 25),  # 29 February: 1 March in a common year
        (date(2000, 2, 29), None, date(2024, 2, 29), 24),
        (None, 1996, date(2026, 1, 1), 29),  # year only → born 01/07/1996 (the year difference would say 30)
        (None, 1996, date(2026, 6, 30), 29),
        (None, 1996, date(2026, 7, 1), 30),
        (None, None, date(2026, 7, 1), None),
        (date(2027, 1, 1), None, date(2026, 7, 1), None),  # born after the course: impossible data
        (date(2026, 7, 1), None, date(2026, 7, 1), 0),
    ],
)
def test_age_at(birth_date, birth_year, on, age):
    assert rules.age_at(birth_date, birth_year, on) == age


def test_age_at_agrees_with_vn_age_on():
    rng = random.Random(7)
    for _ in range(2000):
        birth = date(1940, 1, 1) + timedelta(days=rng.randrange(30000))
        on = birth + timedelta(days=rng.randrange(40000))
        assert rules.age_at(birth, birth.year, on) == age_on(birth, on)


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (0, "lt30"),
        (29, "lt30"),
        (30, "30_39"),
        (39, "30_39"),
        (40, "40_49"),
        (49, "40_49"),
        (50, "50_59"),
        (59, "50_59"),
        (60, "ge60"),
        (95, "ge60"),
        (None, "unknown"),
    ],
)
def test_age_band(age, band):
    assert rules.age_band(age) == band


def test_age_bands_are_listed_in_order_with_labels():
    assert list(rules.AGE_BANDS) == ["lt30", "30_39", "40_49", "50_59", "ge60", "unknown"]
    assert rules.AGE_BANDS["lt30"] == "Dưới 30" and rules.AGE_BANDS["unknown"] == "Không rõ"


@pytest.mark.parametrize(("is_urban", "key"), [(True, "urban"), (False, "rural"), (None, "none")])
def test_area_key(is_urban, key):
    assert rules.area_key(is_urban) == key


# ---- units today ------------------------------------------------------------------------------------------
END = date(2025, 6, 30)
TREE = [
    UnitNode(1, "thanh_pho", "Cần Thơ"),
    UnitNode(2, "huyen", "Cờ Đỏ", 1, END, (5, 7)),  # split into xã Cờ Đỏ and xã Trung Hưng
    UnitNode(3, "thi_tran", "Cờ Đỏ", 2, END, (5,)),  # merged into xã Cờ Đỏ
    UnitNode(4, "phong", "LĐ-TB&XH huyện Cờ Đỏ", 2, END),  # closed, no successor: follows its parent
    UnitNode(5, "xa", "Cờ Đỏ", 1),
    UnitNode(6, "ban_vstbpn", "xã Cờ Đỏ", 5),
    UnitNode(7, "xa", "Trung Hưng", 1),
    UnitNode(8, "so", "Sở Lao động - Thương binh và Xã hội", 1, date(2025, 2, 28), (9,)),
    UnitNode(9, "so", "Sở Nội vụ", 1),
    UnitNode(10, "tinh", "Sóc Trăng", None, END, (1,)),  # an old province merged into the city
    UnitNode(11, "huyen", "Cũ không kế thừa", None, date(2020, 1, 1)),  # closed root without successor
    UnitNode(12, "xa", "A", 1, date(2024, 1, 1), (13,)),  # a chain: A → B (closed too) → C
    UnitNode(13, "xa", "B", 1, date(2025, 1, 1), (14,)),
    UnitNode(14, "xa", "C", 1),
    UnitNode(15, "xa", "Vòng 1", 1, date(2024, 1, 1), (16,)),  # a loop in the data
    UnitNode(16, "xa", "Vòng 2", 1, date(2024, 1, 1), (15,)),
]


@pytest.mark.parametrize(
    ("unit_id", "targets"),
    [
        (1, {1}),
        (2, {5, 7}),
        (3, {5}),
        (4, {5, 7}),
        (5, {5}),
        (6, {6}),
        (8, {9}),
        (10, {1}),
        (11, {11}),
        (12, {14}),
        (13, {14}),
        (15, {16}),
        (16, {15}),
    ],
)
def test_current_units(unit_id, targets):
    assert rules.current_units(TREE, date(2026, 7, 1))[unit_id] == frozenset(targets)


def test_current_units_depend_on_the_day():
    before = rules.current_units(TREE, date(2025, 6, 30))  # the last day of huyện Cờ Đỏ
    assert before[2] == frozenset({2}) and before[3] == frozenset({3}) and before[8] == frozenset({9})


def test_map_to_current_units_keeps_a_split_on_its_own_row():
    groups = rules.map_to_current_units(TREE, date(2026, 7, 1))
    assert groups[3].key == "u5" and groups[3].label == "xã Cờ Đỏ" and not groups[3].is_multi
    assert groups[2].key == "m5-7" and groups[2].is_multi
    assert groups[2].label == "Nhiều đơn vị kế thừa: xã Cờ Đỏ, xã Trung Hưng"
    assert groups[4] is groups[2]  # the same group object for the same set of successors
    assert groups[11].label == "huyện Cũ không kế thừa (cũ)"
    assert groups[8].label == "Sở Nội vụ"


# ---- plans ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("year", "today", "share"),
    [
        (2026, date(2025, 12, 31), Fraction(0)),
        (2026, date(2026, 1, 1), Fraction(1, 365)),
        (2026, date(2026, 7, 1), Fraction(182, 365)),
        (2026, date(2026, 12, 31), Fraction(1)),
        (2024, date(2024, 12, 31), Fraction(1)),
        (2024, date(2024, 2, 29), Fraction(60, 366)),
        (2026, date(2027, 1, 1), Fraction(1)),
    ],
)
def test_elapsed_share(year, today, share):
    assert rules.elapsed_share(year, today) == share


def _progress(today, courses, persons, female=None, planned_female=None, planned=(4, 10)):
    return rules.plan_progress(
        year=2026,
        today=today,
        planned_courses=planned[0],
        held_courses=courses,
        planned_trainees=planned[1],
        actual_persons=persons,
        planned_female_pct=planned_female,
        actual_female_pct=female,
    )


@pytest.mark.parametrize(
    ("today", "courses", "persons", "status"),
    [
        (date(2025, 12, 1), 0, 0, "not_started"),
        (date(2026, 7, 1), 2, 5, "on_track"),  # 2 ≥ 4 × 182/365 = 1.99; 5 ≥ 4.99
        (date(2026, 7, 1), 1, 5, "behind"),  # courses behind
        (date(2026, 7, 1), 2, 4, "behind"),  # persons behind
        (date(2026, 7, 1), 4, 10, "achieved"),  # reached before the year ends
        (date(2026, 12, 31), 3, 10, "missed"),
        (date(2027, 3, 1), 4, 12, "achieved"),
    ],
)
def test_plan_progress(today, courses, persons, status):
    progress = _progress(today, courses, persons)
    assert progress.status == status
    assert progress.highlighted is (status in ("behind", "missed"))


def test_plan_progress_female_share():
    assert _progress(date(2026, 7, 1), 2, 5, Decimal("40.0"), Decimal("50")).female_below
    assert not _progress(date(2026, 7, 1), 2, 5, Decimal("50.0"), Decimal("50")).female_below
    assert not _progress(date(2026, 7, 1), 2, 5, None, Decimal("50")).female_below  # nobody trained yet
    assert not _progress(date(2026, 7, 1), 2, 5, Decimal("10.0"), None).female_below  # nothing planned
    assert _progress(date(2026, 7, 1), 2, 5, Decimal("40.0"), Decimal("50")).highlighted
    assert _progress(date(2026, 7, 1), 0, 0, planned=(0, 0)).status == "achieved"  # 0 planned is always reached


def test_footnotes_say_how_units_are_grouped():
    assert rules.UNIT_NOTE_THEN in rules.footnotes("then") and rules.UNIT_NOTE_NOW not in rules.footnotes("then")
    assert rules.UNIT_NOTE_NOW in rules.footnotes("now")
    assert all(note.strip() for note in rules.footnotes())


# ---- learning -----------------------------------------------------------------------------------------------
def _sums(pairs):
    matched = [(pre, post) for pre, post in pairs if pre is not None and post is not None]
    return (
        len(matched),
        sum(int(pre * 100) for pre, _ in matched),
        sum(int(post * 100) for _, post in matched),
        sum(1 for pre, post in pairs if pre is not None and post is None),
        sum(1 for pre, post in pairs if pre is None and post is not None),
    )


def test_learning_summary_equals_class_summary_on_the_same_pairs():
    from bdg_training.assessments.rules import class_summary

    rng = random.Random(11)
    for size in [0, 1, 2, 3, 7, 50, 333]:
        for _ in range(20):
            pairs = []
            for _ in range(size):
                pre = None if rng.random() < 0.1 else Decimal(rng.randint(0, 1000)) / 100
                post = None if rng.random() < 0.1 else Decimal(rng.randint(0, 1000)) / 100
                pairs.append((pre, post))
            ours, theirs = rules.learning_summary(*_sums(pairs)), class_summary(pairs)
            assert (ours.n_matched, ours.n_pre_only, ours.n_post_only) == (theirs.n_matched, theirs.n_pre_only, theirs.n_post_only)
            assert ours.hake_band == theirs.hake_band
            for field in ("mean_pre", "mean_post", "mean_gain", "class_g"):
                value = getattr(ours, field)
                assert (None if value is None else Decimal(value.numerator) / Decimal(value.denominator)) == getattr(theirs, field), field
            assert ours.display() == {k: v for k, v in theirs.display().items() if k in ours.display()}


@pytest.mark.parametrize(
    ("sums", "shown"),
    [
        ((0, 0, 0, 2, 1), {"mean_pre": "—", "mean_post": "—", "mean_gain": "—", "class_g": "—", "hake_band": "—"}),
        (
            (2, 2000, 2000),
            {"mean_pre": "10,00", "mean_post": "10,00", "mean_gain": "0,00", "class_g": "—", "hake_band": "—"},
        ),  # mean pre 10
        ((3, 1900, 2700), {"mean_pre": "6,33", "mean_post": "9,00", "mean_gain": "2,67", "class_g": "0,73", "hake_band": "Cao"}),
        ((2, 1200, 800), {"mean_pre": "6,00", "mean_post": "4,00", "mean_gain": "-2,00", "class_g": "-0,50", "hake_band": "Thấp"}),
    ],
)
def test_learning_summary_edges(sums, shown):
    assert rules.learning_summary(*sums).display() == shown


def test_learning_summary_refuses_impossible_sums():
    with pytest.raises(ValueError):
        rules.learning_summary(1, 1100, 500)
    with pytest.raises(ValueError):
        rules.learning_summary(-1, 0, 0)

"""Course rules added with the courses blueprint: codes, links, publication, catalogue, month grid,
plans."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from bdg_training.courses import rules as r
from bdg_training.courses.rules import CANCELLED, CLOSED, DRAFT, FINISHED, OPEN, RUNNING, CourseLinks, PlanData, TargetRow


# --------------------------------------------------------------------------------------------
# Codes
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("short_code", "name", "expected"),
    [
        ("CĐ", "Cờ Đỏ", "CD"),
        ("LĐTBXH-CĐ", "x", "LDTBXHCD"),
        (None, "Vĩnh Thạnh", "VT"),
        ("", "Cần Thơ", "CT"),
        (None, "Liên hiệp Phụ nữ thành phố Cần Thơ", "LHPNTPCT"),
        ("abcdefghijklmnop", None, "ABCDEFGHIJ"),  # at most 10 characters
        ("—", "—", "LOP"),  # nothing usable
        (None, None, "LOP"),
    ],
)
def test_code_prefix(short_code, name, expected):
    assert r.code_prefix(short_code, name) == expected


@pytest.mark.parametrize(
    ("taken", "expected"),
    [
        ([], "CD-2026-01"),
        (["CD-2026-01"], "CD-2026-02"),
        (["cd-2026-01", "CD-2026-02"], "CD-2026-03"),  # case-insensitive
        (["CD-2026-02"], "CD-2026-01"),  # a gap is reused (a deleted draft's number)
        (["CD-2025-01"], "CD-2026-01"),  # another year's series
        ([f"CD-2026-{n:02d}" for n in range(1, 100)], "CD-2026-100"),
    ],
)
def test_suggest_code(taken, expected):
    assert r.suggest_code("CD", 2026, taken) == expected


def test_suggested_codes_pass_course_validation():
    code = r.suggest_code(r.code_prefix("LĐTBXH-CĐ", ""), 2026, [])
    errors = r.course_errors(r.CourseData("Lớp", code, 10, date(2026, 1, 1), date(2026, 1, 1)))
    assert "code" not in errors


# --------------------------------------------------------------------------------------------
# Links
# --------------------------------------------------------------------------------------------
START, END = date(2026, 12, 7), date(2026, 12, 8)
GOOD = CourseLinks(topic_id=1, unit_id=2, plan_year=2026, issuing_unit_id=2, signer_unit_id=2)


def test_valid_links_have_no_errors():
    assert r.course_link_errors(GOOD, START, END) == {}


@pytest.mark.parametrize(
    ("changes", "start", "end", "field", "message"),
    [
        ({"topic_id": None}, START, END, "topic_id", "Vui lòng chọn chủ đề."),
        ({"unit_id": None}, START, END, "unit_id", "Vui lòng chọn đơn vị tổ chức."),
        (
            {"unit_valid_to": date(2025, 6, 30), "plan_year": 2025},
            date(2025, 7, 1),
            date(2025, 7, 1),
            "unit_id",
            "Đơn vị tổ chức đã ngừng hoạt động từ sau ngày 30/06/2025, không thể tổ chức lớp bắt đầu sau ngày đó.",
        ),
        (
            {"unit_valid_from": date(2025, 7, 1), "plan_year": 2025},
            date(2025, 6, 30),
            date(2025, 7, 2),
            "unit_id",
            "Đơn vị tổ chức chỉ hoạt động từ ngày 01/07/2025, không thể tổ chức lớp bắt đầu trước ngày đó.",
        ),
        ({"plan_year": 2025}, START, END, "plan_id", "Kế hoạch năm 2025 không khớp với năm kết thúc của lớp (2026)."),
        ({"signer_unit_id": 3}, START, END, "signer_id", "Người ký phải thuộc đơn vị cấp giấy chứng nhận."),
        (
            {"signer_valid_to": date(2026, 12, 7)},
            START,
            END,
            "signer_id",
            "Người ký chỉ còn hiệu lực đến ngày 07/12/2026, trước ngày kết thúc lớp; hãy chọn người ký khác.",
        ),
        ({"hours": Decimal("-1")}, START, END, "hours", "Số giờ học không được âm."),
    ],
)
def test_each_link_error(changes, start, end, field, message):
    links = CourseLinks(**{**GOOD.__dict__, **changes})
    assert r.course_link_errors(links, start, end) == {field: [message]}


@pytest.mark.parametrize(
    ("changes", "start", "end"),
    [
        ({"unit_valid_to": date(2025, 6, 30), "plan_year": 2025}, date(2025, 6, 30), date(2025, 7, 2)),  # last day of the old unit
        ({"unit_valid_from": date(2025, 7, 1), "plan_year": 2025}, date(2025, 7, 1), date(2025, 7, 1)),  # first day of the new one
        ({"plan_year": 2027}, date(2026, 12, 30), date(2027, 1, 2)),  # counts in the end-date year
        ({"signer_valid_to": date(2026, 12, 8)}, START, END),  # in office on the end date
        ({"issuing_unit_id": None}, START, END),  # issuer taken from the signer by the service
        ({"hours": Decimal("0")}, START, END),
    ],
)
def test_link_boundaries_accepted(changes, start, end):
    assert r.course_link_errors(CourseLinks(**{**GOOD.__dict__, **changes}), start, end) == {}


def test_link_errors_collected_together():
    links = CourseLinks(topic_id=None, unit_id=None, plan_year=2020, signer_unit_id=5, issuing_unit_id=6)
    assert set(r.course_link_errors(links, START, END)) == {"topic_id", "unit_id", "plan_id", "signer_id"}


# --------------------------------------------------------------------------------------------
# Publication and catalogue
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "published", "expected"),
    [
        (DRAFT, False, False),
        (DRAFT, True, False),  # never, even if the flag were set
        (OPEN, True, True),
        (CLOSED, True, True),
        (RUNNING, True, True),
        (FINISHED, True, True),
        (CANCELLED, True, True),  # cancelled after publication: people learn it was cancelled
        (CANCELLED, False, False),  # cancelled as a draft: stays internal
        (OPEN, False, False),
        ("zzz", True, False),
    ],
)
def test_is_public(status, published, expected):
    assert r.is_public(status, published) is expected


NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 28)


@pytest.mark.parametrize(
    ("status", "closes", "start", "expected"),
    [
        (OPEN, NOW + timedelta(minutes=1), TODAY + timedelta(days=10), True),
        (OPEN, NOW, TODAY + timedelta(days=10), False),  # at the deadline itself: over
        (OPEN, NOW - timedelta(days=1), TODAY + timedelta(days=10), False),
        (OPEN, None, TODAY + timedelta(days=1), True),  # no deadline: listed until the start date
        (OPEN, None, TODAY, False),
        (DRAFT, NOW + timedelta(days=1), TODAY + timedelta(days=10), False),
        (CLOSED, NOW + timedelta(days=1), TODAY + timedelta(days=10), False),
        (RUNNING, None, TODAY + timedelta(days=10), False),
        (CANCELLED, NOW + timedelta(days=1), TODAY + timedelta(days=10), False),
    ],
)
def test_in_catalogue(status, closes, start, expected):
    assert r.in_catalogue(status, closes, start, NOW, TODAY) is expected


# --------------------------------------------------------------------------------------------
# Month calendar
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("year", "month", "first", "last", "rows"),
    [
        (2026, 11, date(2026, 10, 26), date(2026, 12, 6), 6),  # starts on a Sunday
        (2026, 2, date(2026, 1, 26), date(2026, 3, 1), 5),
        (2021, 2, date(2021, 2, 1), date(2021, 2, 28), 4),  # Monday 1st, 28 days: exactly 4 weeks
        (2026, 6, date(2026, 6, 1), date(2026, 7, 5), 5),
        (2024, 12, date(2024, 11, 25), date(2025, 1, 5), 6),
    ],
)
def test_month_grid(year, month, first, last, rows):
    grid = r.month_grid(year, month)
    assert len(grid) == rows
    assert all(len(week) == 7 for week in grid)
    assert grid[0][0] == first and grid[-1][-1] == last
    assert all(week[0].weekday() == 0 for week in grid)  # Monday first
    days = [d for week in grid for d in week]
    assert days == [first + timedelta(days=i) for i in range(len(days))]  # consecutive


@pytest.mark.parametrize(("year", "month", "label"), [(2026, 11, "Tháng 11/2026"), (2026, 2, "Tháng 02/2026"), (2025, 1, "Tháng 01/2025")])
def test_month_label(year, month, label):
    assert r.month_label(year, month) == label


@pytest.mark.parametrize(
    ("year", "month", "delta", "expected"),
    [(2026, 11, 1, (2026, 12)), (2026, 12, 1, (2027, 1)), (2026, 1, -1, (2025, 12)), (2026, 5, -17, (2024, 12)), (2026, 5, 0, (2026, 5))],
)
def test_add_months(year, month, delta, expected):
    assert r.add_months(year, month, delta) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-11", (2026, 11)), ("2026-1", (2026, 1)), (" 2027-02 ", (2027, 2)), ("2026-13", (1, 1)), ("2026-00", (1, 1)), ("11/2026", (1, 1)), ("", (1, 1)), (None, (1, 1)), ("0000-05", (1, 1))],
)
def test_parse_month(text, expected):
    assert r.parse_month(text, (1, 1)) == expected


def test_month_bounds():
    assert r.month_bounds(2028, 2) == (date(2028, 2, 1), date(2028, 2, 29))
    assert r.month_bounds(2026, 12) == (date(2026, 12, 1), date(2026, 12, 31))


# --------------------------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------------------------
def test_valid_plan_has_no_errors():
    rows = [TargetRow("Cán bộ được tập huấn", "28/NQ-CP", Decimal("100"), "%"), TargetRow()]
    assert r.plan_errors(PlanData(2026, 4, 160, Decimal("60")), rows) == {}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (PlanData(None, 4, 100), "year", "Vui lòng nhập năm kế hoạch."),
        (PlanData(1999, 4, 100), "year", "Năm kế hoạch phải từ 2000 đến 2100."),
        (PlanData(2101, 4, 100), "year", "Năm kế hoạch phải từ 2000 đến 2100."),
        (PlanData(2026, None, 100), "planned_courses", "Vui lòng nhập số lớp dự kiến."),
        (PlanData(2026, -1, 100), "planned_courses", "Số lớp dự kiến không được âm."),
        (PlanData(2026, 4, None), "planned_trainees", "Vui lòng nhập số học viên dự kiến."),
        (PlanData(2026, 4, -5), "planned_trainees", "Số học viên dự kiến không được âm."),
        (PlanData(2026, 4, 100, Decimal("100.01")), "planned_female_pct", "Tỷ lệ nữ phải từ 0 đến 100%."),
        (PlanData(2026, 4, 100, Decimal("-0.5")), "planned_female_pct", "Tỷ lệ nữ phải từ 0 đến 100%."),
    ],
)
def test_each_plan_error(data, field, message):
    assert r.plan_errors(data) == {field: [message]}


@pytest.mark.parametrize("data", [PlanData(2000, 0, 0, Decimal("0")), PlanData(2100, 0, 0, Decimal("100")), PlanData(2026, 0, 0, None)])
def test_plan_boundaries_accepted(data):
    assert r.plan_errors(data) == {}


def test_target_rows_are_checked_by_their_submitted_index():
    rows = [
        TargetRow("Chỉ tiêu 1", target_value=Decimal("1")),
        TargetRow(),  # blank: ignored, but keeps its index
        TargetRow("", "1790/QĐ-TTg", Decimal("2")),  # no indicator
        TargetRow("  ", note="ghi chú"),  # only spaces is no indicator
        TargetRow("x" * 301),
        TargetRow("Âm", target_value=Decimal("-1"), actual_value=Decimal("-2")),
    ]
    assert r.plan_errors(PlanData(2026, 1, 1), rows) == {
        "targets.2.indicator": ["Vui lòng nhập tên chỉ tiêu."],
        "targets.3.indicator": ["Vui lòng nhập tên chỉ tiêu."],
        "targets.4.indicator": ["Tên chỉ tiêu không được dài quá 300 ký tự."],
        "targets.5.target_value": ["Giá trị không được âm."],
        "targets.5.actual_value": ["Giá trị không được âm."],
    }


@pytest.mark.parametrize(
    ("actual", "planned", "expected"),
    [(3, 4, 75), (1, 3, 33), (2, 3, 67), (1, 8, 13), (5, 4, 125), (0, 4, 0), (1, 0, None), (None, 4, None), (3, None, None), (Decimal("0.5"), 1, 50)],
)
def test_progress_pct(actual, planned, expected):
    assert r.progress_pct(actual, planned) == expected

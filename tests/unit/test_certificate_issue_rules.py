"""Pure rules added for issuing: course readiness, overrides, hours, void markers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bdg_training.certificates import rules
from bdg_training.rules_base import RuleViolation


def _eligibility(**changes):
    values = dict(
        enrollment_status="confirmed",
        held_sessions=5,
        attended_sessions=5,
        min_attendance_pct=80,
        post_score=8,
        pass_mark=5,
        has_valid_certificate=False,
    )
    values.update(changes)
    return rules.check_eligibility(**values)


@pytest.mark.parametrize(
    ("status", "end", "today", "ok"),
    [
        ("finished", date(2026, 3, 10), date(2026, 3, 10), True),  # the closing day itself
        ("running", date(2026, 3, 10), date(2026, 3, 11), True),
        ("closed", date(2026, 3, 10), date(2026, 4, 1), True),
        ("finished", date(2026, 3, 10), date(2026, 3, 9), False),  # before the last day
        ("open", date(2026, 3, 10), date(2026, 3, 11), False),
        ("draft", date(2026, 3, 10), date(2026, 3, 11), False),
        ("cancelled", date(2026, 3, 10), date(2026, 3, 11), False),
    ],
)
def test_course_issuable(status, end, today, ok):
    if ok:
        rules.check_course_issuable(status, end, today)
    else:
        with pytest.raises(RuleViolation):
            rules.check_course_issuable(status, end, today)


def test_course_not_issuable_reports_both_reasons():
    with pytest.raises(RuleViolation) as exc:
        rules.check_course_issuable("open", date(2026, 3, 10), date(2026, 3, 1))
    assert len(exc.value.messages) == 2
    assert "10/03/2026" in exc.value.messages[1]


@pytest.mark.parametrize(
    ("changes", "overridable"),
    [
        ({"attended_sessions": 3}, True),
        ({"post_score": 4}, True),
        ({"post_score": None, "attended_sessions": 2}, True),
        ({"enrollment_status": "pending"}, False),
        ({"has_valid_certificate": True}, False),
        ({"has_valid_certificate": True, "attended_sessions": 2}, False),
        ({}, False),  # eligible: nothing to override
    ],
)
def test_can_override_only_attendance_and_post_test(changes, overridable):
    assert rules.can_override(_eligibility(**changes)) is overridable


def test_check_override_needs_a_reason_and_an_overridable_shortfall():
    with pytest.raises(RuleViolation) as exc:
        rules.check_override(_eligibility(attended_sessions=3), "   ")
    assert exc.value.errors == {"reason": ["Vui lòng ghi rõ lý do xét đặc cách."]}
    with pytest.raises(RuleViolation) as exc:
        rules.check_override(_eligibility(enrollment_status="pending", attended_sessions=3), "Lý do")
    assert "Chưa được xác nhận ghi danh" in exc.value.messages[0]
    with pytest.raises(RuleViolation):
        rules.check_override(_eligibility(), "Lý do")
    rules.check_override(_eligibility(post_score=4), "Thi lại đạt, có biên bản")


def test_may_issue():
    assert rules.may_issue(_eligibility(), overridden=False)
    assert not rules.may_issue(_eligibility(post_score=3), overridden=False)
    assert rules.may_issue(_eligibility(post_score=3), overridden=True)
    assert not rules.may_issue(_eligibility(has_valid_certificate=True), overridden=True)


@pytest.mark.parametrize(("hours", "text"), [(16, "16"), (Decimal("16.0"), "16"), (Decimal("7.5"), "7,5"), (None, ""), ("", "")])
def test_format_hours(hours, text):
    assert rules.format_hours(hours) == text


def test_void_markers():
    assert rules.void_marker("valid") == ""
    assert rules.void_marker("revoked") == "ĐÃ THU HỒI"
    assert rules.void_marker("replaced") == "ĐÃ ĐƯỢC THAY THẾ"

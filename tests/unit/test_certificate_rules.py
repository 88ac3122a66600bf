"""Table-driven tests of bdg_training.certificates.rules. Expected values are worked out by hand in comments."""

from __future__ import annotations

import secrets
import unicodedata
from decimal import Decimal

import pytest

from bdg_training.certificates.rules import (
    DEFAULT_NUMBER_PATTERN,
    KINDS,
    REVOCATION_REASONS,
    SIGNER_PREFIXES,
    STATUSES,
    VERIFY_CODE_ALPHABET,
    check_duplicate,
    check_eligibility,
    check_reissue,
    check_revoke,
    display_number,
    format_number,
    is_valid_verify_code_format,
    salutation,
    signer_block,
    validate_pattern,
)
from bdg_training.rules_base import RuleViolation

D = Decimal

# ------------------------------------------------------------------------------------------- eligibility

GOOD = {
    "enrollment_status": "confirmed",
    "held_sessions": 5,
    "attended_sessions": 4,  # 4/5 = 80 % ≥ 80 %
    "min_attendance_pct": D("80"),
    "post_score": D("7.5"),
    "pass_mark": D("5"),
    "has_valid_certificate": False,
}

NOT_CONFIRMED = "Chưa được xác nhận ghi danh"
NO_SESSION = "Lớp chưa có buổi học nào được tổ chức"
NO_POST = "Chưa có điểm kiểm tra sau"
HAS_CERT = "Đã có giấy chứng nhận còn hiệu lực"


def test_eligible_when_every_condition_holds():
    result = check_eligibility(**GOOD)
    assert result.eligible is True
    assert result.reasons == [] and result.codes == []
    result.raise_if_ineligible()  # no exception


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        # each reason alone
        ({"enrollment_status": "registered"}, [NOT_CONFIRMED]),
        ({"enrollment_status": "waitlisted"}, [NOT_CONFIRMED]),
        ({"enrollment_status": "withdrawn"}, [NOT_CONFIRMED]),
        ({"attended_sessions": 3}, ["Chuyên cần 60% < 80% yêu cầu (3/5 buổi)"]),  # 3/5 = 60 %
        ({"held_sessions": 4, "attended_sessions": 3}, ["Chuyên cần 75% < 80% yêu cầu (3/4 buổi)"]),  # 75 % < 80 %
        (
            {"held_sessions": 8, "attended_sessions": 7, "min_attendance_pct": D("90")},
            ["Chuyên cần 87,5% < 90% yêu cầu (7/8 buổi)"],
        ),  # 7/8 = 87.5 %
        # 2/3 = 66.666…% < 66.67 %: the rate is truncated so the message never reads "66,67% < 66,67%"
        ({"held_sessions": 3, "attended_sessions": 2, "min_attendance_pct": D("66.67")}, ["Chuyên cần 66,66% < 66,67% yêu cầu (2/3 buổi)"]),
        ({"held_sessions": 0, "attended_sessions": 0}, [NO_SESSION]),  # 0/0 is not 100 %
        ({"held_sessions": 0, "attended_sessions": 0, "min_attendance_pct": 0}, [NO_SESSION]),
        ({"post_score": None}, [NO_POST]),
        ({"post_score": D("4.5")}, ["Điểm kiểm tra sau 4,50 < 5,00"]),
        ({"post_score": D("4.99")}, ["Điểm kiểm tra sau 4,99 < 5,00"]),
        ({"post_score": D("5.25"), "pass_mark": D("5.5")}, ["Điểm kiểm tra sau 5,25 < 5,50"]),
        ({"has_valid_certificate": True}, [HAS_CERT]),
        # boundaries that pass
        ({"held_sessions": 5, "attended_sessions": 4}, []),  # 4/5 = 80 % exactly
        ({"held_sessions": 3, "attended_sessions": 2, "min_attendance_pct": D("66.66")}, []),  # 66.666… ≥ 66.66
        ({"attended_sessions": 0, "min_attendance_pct": 0}, []),  # 0/5 meets a 0 % requirement
        ({"attended_sessions": 5, "min_attendance_pct": 100}, []),  # 5/5 = 100 %
        ({"post_score": D("5.00")}, []),  # equal to the pass mark passes
        ({"min_attendance_pct": 80}, []),  # int requirement
        ({"min_attendance_pct": 80.0}, []),  # float requirement read as 80
        ({"min_attendance_pct": "80"}, []),
        ({"post_score": D("10"), "pass_mark": D("10")}, []),
    ],
)
def test_eligibility_each_reason(changes, reasons):
    result = check_eligibility(**{**GOOD, **changes})
    assert result.reasons == reasons
    assert result.eligible is (not reasons)


def test_eligibility_all_reasons_together_in_fixed_order():
    result = check_eligibility(
        enrollment_status="registered",
        held_sessions=5,
        attended_sessions=3,
        min_attendance_pct=D("80"),
        post_score=None,
        pass_mark=D("5"),
        has_valid_certificate=True,
    )
    assert result.eligible is False
    assert result.reasons == [NOT_CONFIRMED, "Chuyên cần 60% < 80% yêu cầu (3/5 buổi)", NO_POST, HAS_CERT]
    assert result.codes == ["enrollment", "attendance", "post_score", "certificate"]
    with pytest.raises(RuleViolation) as info:
        result.raise_if_ineligible()
    assert info.value.errors == {"": result.reasons}


def test_eligibility_all_reasons_with_low_score_and_no_session():
    result = check_eligibility(
        enrollment_status="rejected",
        held_sessions=0,
        attended_sessions=0,
        min_attendance_pct=D("80"),
        post_score=D("4.5"),
        pass_mark=D("5"),
        has_valid_certificate=True,
    )
    assert result.reasons == [NOT_CONFIRMED, NO_SESSION, "Điểm kiểm tra sau 4,50 < 5,00", HAS_CERT]


@pytest.mark.parametrize(
    "changes",
    [
        {"held_sessions": 5, "attended_sessions": 6},  # attended > held
        {"attended_sessions": -1},
        {"held_sessions": -1, "attended_sessions": 0},
        {"min_attendance_pct": D("120")},
        {"min_attendance_pct": D("-1")},
    ],
)
def test_eligibility_rejects_impossible_input(changes):
    with pytest.raises(ValueError):
        check_eligibility(**{**GOOD, **changes})


# ------------------------------------------------------------------------------------------- numbering


@pytest.mark.parametrize(
    ("pattern", "seq", "year", "code", "expected"),
    [
        (None, 7, 2026, "SNV", "07/2026/GCN-SNV"),  # default pattern, leading zero below 10
        ("", 7, 2026, "SNV", "07/2026/GCN-SNV"),
        (DEFAULT_NUMBER_PATTERN, 1, 2026, "SNV", "01/2026/GCN-SNV"),
        (DEFAULT_NUMBER_PATTERN, 10, 2026, "SNV", "10/2026/GCN-SNV"),
        (DEFAULT_NUMBER_PATTERN, 123, 2026, "SNV", "123/2026/GCN-SNV"),  # 02d pads, never truncates
        (DEFAULT_NUMBER_PATTERN, 5, 2025, "UBND-CD", "05/2025/GCN-UBND-CD"),
        ("{seq:03d}/GCN-{short_code}", 7, 2026, "SNV", "007/GCN-SNV"),
        ("{seq}/{year}/GCN-{short_code}", 7, 2026, "SNV", "7/2026/GCN-SNV"),  # issuer chose no padding
        ("{{{seq:02d}}}-{short_code}", 7, 2026, "SNV", "{07}-SNV"),  # escaped braces are literal
        ("{seq:>4}/{year}", 7, 2026, "SNV", "   7/2026"),
        ("{short_code}-{year}-{seq:04d}", 42, 2026, "PNV", "PNV-2026-0042"),
    ],
)
def test_format_number(pattern, seq, year, code, expected):
    assert format_number(pattern, seq, year, code) == expected


def test_default_pattern():
    assert DEFAULT_NUMBER_PATTERN == "{seq:02d}/{year}/GCN-{short_code}"


@pytest.mark.parametrize(
    ("pattern", "n_errors"),
    [
        ("{seq.__class__}", 2),  # attribute access; and so no plain {seq}
        ("{seq.__class__.__mro__}/{year}", 2),
        ("{seq.__class__}{seq}", 1),  # attribute access even with a plain {seq}
        ("{seq[0]}", 2),  # index access
        ("{short_code.__init__.__globals__}{seq}", 1),
        ("{0}", 2),  # positional
        ("{}", 2),  # auto-numbered
        ("{year}/{short_code}", 1),  # no {seq}
        ("{seq!r}", 1),  # conversion
        ("{seq!s:>3}", 1),
        ("{seq:{year}}", 1),  # nested field in the spec
        ("{seq:999999999}", 1),  # would build a 1 GB string
        ("{seq:0999999999d}", 1),
        ("{seq:.999d}", 1),
        ("{seq:,}", 1),  # grouping not allowed
        ("{seq:s}", 1),  # valid spec syntax, but an int cannot format as s
        ("{seq}{short_code:d}", 1),  # short_code is text
        ("{seq", 1),  # unbalanced
        ("seq}", 1),
        ("{seq}}", 1),
        ("{name}{seq}", 1),
        ("{ seq }", 2),
        ("{seq}/{__import__}", 1),
        ("x" * 101 + "{seq}", 1),  # too long
        ("", 1),
        ("   ", 1),
    ],
)
def test_validate_pattern_rejects(pattern, n_errors):
    with pytest.raises(RuleViolation) as info:
        validate_pattern(pattern)
    assert list(info.value.errors) == ["pattern"]
    assert len(info.value.errors["pattern"]) == n_errors
    # format_number refuses the same pattern, never evaluating it
    with pytest.raises(RuleViolation):
        format_number(pattern or "{", 7, 2026, "SNV")


@pytest.mark.parametrize(
    "pattern",
    [DEFAULT_NUMBER_PATTERN, "{seq}", "{seq:02}", "{seq:>03}", "{seq:02d}/GCN-{short_code}", "Số {seq:03d}"],
)
def test_validate_pattern_accepts(pattern):
    validate_pattern(pattern)  # no exception


def test_validate_pattern_messages_are_vietnamese():
    with pytest.raises(RuleViolation) as info:
        validate_pattern("{seq.__class__}")
    assert info.value.errors["pattern"] == [
        "Trường {seq.__class__} không được phép: chỉ dùng {seq}, {year}, {short_code}.",
        "Mẫu số phải có trường {seq} (số thứ tự).",
    ]


def test_format_number_reports_every_bad_argument():
    with pytest.raises(RuleViolation) as info:
        format_number(None, 0, 26, "snv")
    assert set(info.value.errors) == {"seq", "year", "short_code"}


@pytest.mark.parametrize(
    ("seq", "year", "code"),
    [
        (-1, 2026, "SNV"),
        (True, 2026, "SNV"),
        ("7", 2026, "SNV"),
        (7, 10000, "SNV"),
        (7, 2026, ""),
        (7, 2026, "S NV"),
        (7, 2026, "S/NV"),
        (7, 2026, "snv"),
        (7, 2026, "-SNV"),
    ],
)
def test_format_number_rejects_bad_values(seq, year, code):
    with pytest.raises(RuleViolation):
        format_number(None, seq, year, code)


def test_short_code_may_use_vietnamese_capitals_as_nd30_symbols_do():
    assert format_number(None, 5, 2026, "UBND-CĐ") == "05/2026/GCN-UBND-CĐ"


def test_display_number():
    assert display_number("07/2026/GCN-SNV") == "Số: 07/2026/GCN-SNV"
    assert display_number(format_number(None, 123, 2026, "SNV")) == "Số: 123/2026/GCN-SNV"


# ------------------------------------------------------------------------------------------- verify code


def test_verify_code_alphabet_is_url_safe_base64():
    assert len(VERIFY_CODE_ALPHABET) == 64  # 26 + 26 + 10 + "-" + "_"
    assert set(VERIFY_CODE_ALPHABET) == set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("abcdefghijkl", True),  # exactly 12
        ("A-_09zZ-_09z", True),
        ("a" * 128, True),
        ("abcdefghijk", False),  # 11
        ("a" * 129, False),
        ("abcdef ghijkl", False),  # space
        ("abcdefghijk=", False),  # base64 padding
        ("abcdefghijk+", False),  # standard (not URL-safe) base64
        ("abcdefghijk/", False),
        ("abcdefghijk.", False),
        ("abcdefghijkl\n", False),  # trailing newline ($ would have matched)
        ("ábcdefghijkl", False),  # non-ASCII letter
        ("abcdefghijk٣", False),  # non-ASCII digit
        ("", False),
        (None, False),
        (123456789012345, False),
    ],
)
def test_is_valid_verify_code_format(code, ok):
    assert is_valid_verify_code_format(code) is ok


def test_token_urlsafe_codes_are_valid():
    assert all(is_valid_verify_code_format(secrets.token_urlsafe(16)) for _ in range(50))


# ------------------------------------------------------------------------------------------- lifecycle


def test_lifecycle_labels():
    assert STATUSES == {"valid": "Còn hiệu lực", "revoked": "Đã thu hồi", "replaced": "Đã được thay thế"}
    assert set(KINDS) == {"original", "reissue", "duplicate"}
    assert KINDS["reissue"] == "Cấp lại do sai sót"
    assert KINDS["duplicate"] == "Bản sao do mất/hỏng"
    assert set(REVOCATION_REASONS) == {"fraud", "ineligible", "tampered", "lent", "issuer_error", "other"}


@pytest.mark.parametrize(
    ("status", "reason", "note", "errors"),
    [
        ("valid", "fraud", "", None),
        ("valid", "lent", "", None),
        ("valid", "other", "Cấp nhầm người", None),
        ("revoked", "fraud", "", {"status": ["Chỉ thu hồi được giấy chứng nhận còn hiệu lực (hiện: Đã thu hồi)."]}),
        ("replaced", "fraud", "", {"status": ["Chỉ thu hồi được giấy chứng nhận còn hiệu lực (hiện: Đã được thay thế)."]}),
        ("valid", "xyz", "", {"reason": ["Vui lòng chọn lý do thu hồi trong danh sách."]}),
        ("valid", "", "", {"reason": ["Vui lòng chọn lý do thu hồi trong danh sách."]}),
        ("valid", "other", "  ", {"note": ["Vui lòng ghi rõ lý do thu hồi khác."]}),
        ("bogus", "fraud", "", {"status": ["Trạng thái giấy chứng nhận không hợp lệ: «bogus»."]}),
        # every reason at once
        (
            "revoked",
            "other",
            "",
            {
                "status": ["Chỉ thu hồi được giấy chứng nhận còn hiệu lực (hiện: Đã thu hồi)."],
                "note": ["Vui lòng ghi rõ lý do thu hồi khác."],
            },
        ),
    ],
)
def test_check_revoke(status, reason, note, errors):
    if errors is None:
        check_revoke(status, reason, note)
        return
    with pytest.raises(RuleViolation) as info:
        check_revoke(status, reason, note)
    assert info.value.errors == errors


@pytest.mark.parametrize(
    ("status", "reason", "fields"),
    [
        ("valid", "Sai ngày sinh", None),
        ("valid", "   ", {"reason"}),
        ("revoked", "Sai ngày sinh", {"status"}),
        ("replaced", "Sai ngày sinh", {"status"}),
        ("revoked", "", {"status", "reason"}),  # every reason at once
        ("bogus", None, {"status", "reason"}),
    ],
)
def test_check_reissue(status, reason, fields):
    if fields is None:
        check_reissue(status, reason)
        return
    with pytest.raises(RuleViolation) as info:
        check_reissue(status, reason)
    assert set(info.value.errors) == fields


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("valid", None),
        ("revoked", "Chỉ cấp bản sao cho giấy chứng nhận còn hiệu lực (hiện: Đã thu hồi)."),
        ("replaced", "Chỉ cấp bản sao cho giấy chứng nhận còn hiệu lực (hiện: Đã được thay thế)."),
        ("", "Trạng thái giấy chứng nhận không hợp lệ: «»."),
    ],
)
def test_check_duplicate(status, message):
    if message is None:
        check_duplicate(status)
        return
    with pytest.raises(RuleViolation) as info:
        check_duplicate(status)
    assert info.value.errors == {"status": [message]}


# ------------------------------------------------------------------------------------------- wording


@pytest.mark.parametrize(
    ("sex", "expected"),
    [
        ("nam", "Ông"),
        ("nu", "Bà"),
        ("NAM", "Ông"),
        (" Nam ", "Ông"),
        ("nữ", "Bà"),
        (unicodedata.normalize("NFD", "Nữ"), "Bà"),  # decomposed input
    ],
)
def test_salutation(sex, expected):
    assert salutation(sex) == expected


@pytest.mark.parametrize("sex", ["", None, "khac", "x", "ông"])
def test_salutation_rejects_unknown(sex):
    with pytest.raises(ValueError):
        salutation(sex)


@pytest.mark.parametrize(
    ("args", "lines"),
    [
        (("KT.", "GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn A"), ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn A"]),
        (("", "", "GIÁM ĐỐC", "Trần Thị B"), ["GIÁM ĐỐC", "Trần Thị B"]),
        (("", None, "GIÁM ĐỐC", "Trần Thị B"), ["GIÁM ĐỐC", "Trần Thị B"]),
        (("TM.", "ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Lê Văn C"), ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Lê Văn C"]),
        (("Q.", "GIÁM ĐỐC", "", "Phạm Thị D"), ["Q. GIÁM ĐỐC", "Phạm Thị D"]),  # acting head, no own title
        (("Q.", "GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Phạm Thị D"), ["Q. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Phạm Thị D"]),
        (("TL.", "GIÁM ĐỐC", "CHÁNH VĂN PHÒNG", "Võ E"), ["TL. GIÁM ĐỐC", "CHÁNH VĂN PHÒNG", "Võ E"]),
        (("TUQ.", "CHỦ TỊCH", "GIÁM ĐỐC SỞ NỘI VỤ", "Đỗ F"), ["TUQ. CHỦ TỊCH", "GIÁM ĐỐC SỞ NỘI VỤ", "Đỗ F"]),
        # titles upper-cased (ND 30: capitals) with spaces collapsed; the name kept as entered, trimmed
        (("KT.", "giám  đốc", "phó giám đốc", "  Nguyễn Văn A "), ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn A"]),
    ],
)
def test_signer_block(args, lines):
    assert signer_block(*args) == lines


@pytest.mark.parametrize(
    ("args", "fields"),
    [
        (("XX.", "GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "A"), {"prefix"}),
        (("kt.", "GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "A"), {"prefix"}),
        (("KT.", "", "PHÓ GIÁM ĐỐC", "A"), {"on_behalf_title"}),
        (("KT.", "GIÁM ĐỐC", "", "A"), {"title"}),  # only Q. may omit the own title
        (("", "GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "A"), {"on_behalf_title"}),  # direct signature has no head title
        (("", "", "", "A"), {"title"}),
        (("", "", "GIÁM ĐỐC", "  "), {"name"}),
        (("KT.", "", "", ""), {"on_behalf_title", "title", "name"}),  # every reason at once
    ],
)
def test_signer_block_rejects(args, fields):
    with pytest.raises(RuleViolation) as info:
        signer_block(*args)
    assert set(info.value.errors) == fields


def test_signer_prefixes():
    assert list(SIGNER_PREFIXES) == ["", "KT.", "TM.", "Q.", "TL.", "TUQ."]

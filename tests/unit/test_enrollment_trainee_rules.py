"""Trainee data rules, organizer enrolment, merge survivor, database sort keys, and the class-list
order (tên → tên đệm → họ, Vietnamese letters) with folding for search."""

from __future__ import annotations

import random
from datetime import date, datetime

import pytest

from bdg_training.enrollment import rules as r
from bdg_training.enrollment.rules import CONFIRMED, PENDING, REJECTED, WAITLISTED, WITHDRAWN, TraineeInput
from bdg_training.rules_base import RuleViolation
from bdg_training.text import fold, name_sort_key, tone_key

TODAY = date(2026, 3, 1)


# --------------------------------------------------------------------------------------------
# Date of birth
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, (None, None)),
        ("", (None, None)),
        ("  ", (None, None)),
        ("05/02/1985", (date(1985, 2, 5), 1985)),
        ("5/2/1985", (date(1985, 2, 5), 1985)),
        ("1985-02-05", (date(1985, 2, 5), 1985)),  # a spreadsheet date cell, stored ISO
        (date(1985, 2, 5), (date(1985, 2, 5), 1985)),
        (datetime(1985, 2, 5, 0, 0), (date(1985, 2, 5), 1985)),
        ("1975", (None, 1975)),  # year only
        (1975, (None, 1975)),
        ("29/02/2024", (date(2024, 2, 29), 2024)),
        ("01/03/2026", (date(2026, 3, 1), 2026)),  # today
    ],
)
def test_parse_birth(value, expected):
    assert r.parse_birth(value, TODAY) == expected


@pytest.mark.parametrize("value", ["31/02/1985", "29/02/2025", "1899", "2027", "02/03/2026", "5/2/85", "ngày sinh", "01/01/1899", 1800])
def test_parse_birth_refuses(value):
    with pytest.raises(ValueError):
        r.parse_birth(value, TODAY)


@pytest.mark.parametrize(
    ("birth_date", "birth_year", "expected"),
    [(date(1985, 2, 5), 1985, "05/02/1985"), (None, 1975, "1975"), (None, None, "")],
)
def test_format_birth(birth_date, birth_year, expected):
    assert r.format_birth(birth_date, birth_year) == expected


# --------------------------------------------------------------------------------------------
# Code lists read from text
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [("Nam", "nam"), ("nam", "nam"), ("NAM", "nam"), ("Nữ", "nu"), ("nữ", "nu"), ("NU", "nu"), ("nu", "nu"), ("Male", "nam"), ("F", "nu"), ("", None), ("khác", None), (None, None)],
)
def test_parse_sex(value, expected):
    assert r.parse_sex(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Người dân", "nguoi_dan"), ("nguoi dan", "nguoi_dan"), ("nguoi_dan", "nguoi_dan"), ("CÔNG CHỨC", "cong_chuc"), ("Hội viên", "hoi_vien"), ("Khác", "khac"), ("sinh viên", None), ("", None)],
)
def test_parse_target_group(value, expected):
    assert r.parse_target_group(value) == expected


# --------------------------------------------------------------------------------------------
# A whole trainee
# --------------------------------------------------------------------------------------------
def _input(**values) -> TraineeInput:
    base = {"family_name": "Thạch", "middle_name": "Thị", "given_name": "Sa Rươl", "sex": "Nữ"}
    base.update(values)
    return TraineeInput(**base)


def test_clean_trainee_normalises_everything():
    clean = r.clean_trainee(
        _input(
            family_name="  Thạch ",
            middle_name="",
            given_name="Sa\u00a0 Rươl",
            birth="05/02/1985",
            ethnicity="khmer",
            personal_id="0921 8500 1234",
            cmnd="361 234 567",
            phone="0912.345.678",
            email=" Sa.Ruol@Example.VN ",
            work_unit="Hội LHPN xã Cờ Đỏ",
            target_group="Hội viên",
        ),
        TODAY,
    )
    assert clean.full_name == "Thạch Sa Rươl" and clean.middle_name == "" and clean.given_name == "Sa Rươl"
    assert (clean.personal_id, clean.cmnd, clean.phone, clean.email) == ("092185001234", "361234567", "+84912345678", "sa.ruol@example.vn")
    assert (clean.ethnicity_code, clean.target_group, clean.birth_year) == ("05", "hoi_vien", 1985)
    assert clean.warnings == ()


def test_clean_trainee_keeps_the_full_name_as_written_and_compound_family_names():
    clean = r.clean_trainee(_input(family_name="Hoàng Phủ", middle_name="Ngọc", given_name="Tường", full_name="Hoàng Phủ Ngọc Tường", sex="nam"), TODAY)
    assert (clean.family_name, clean.full_name) == ("Hoàng Phủ", "Hoàng Phủ Ngọc Tường")
    # typed with another tone placement and case: still the same name, kept as written
    clean = r.clean_trainee(_input(family_name="Nguyễn", middle_name="Thị", given_name="Hòa", full_name="NGUYỄN THỊ HOÀ"), TODAY)
    assert clean.full_name == "NGUYỄN THỊ HOÀ"


@pytest.mark.parametrize(
    ("values", "field", "fragment"),
    [
        ({"family_name": ""}, "family_name", "Vui lòng nhập họ"),
        ({"given_name": " "}, "given_name", "Vui lòng nhập tên"),
        ({"full_name": "Thạch Sa Rươl Thị"}, "full_name", "không khớp"),
        ({"sex": ""}, "sex", "Vui lòng chọn giới tính"),
        ({"sex": "khác"}, "sex", "Giới tính không hợp lệ"),
        ({"birth": "31/02/1985"}, "birth", "Ngày không hợp lệ"),
        ({"birth": "1975", "target_group": "cong_chuc"}, "birth", "đầy đủ ngày sinh"),
        ({"ethnicity": "Sao Hỏa"}, "ethnicity", "54 dân tộc"),
        ({"personal_id": "12345"}, "personal_id", "12 chữ số"),
        ({"cmnd": "1234"}, "cmnd", "9 hoặc 12"),
        ({"phone": "01681234567"}, "phone", "038"),
        ({"email": "khong-phai-email"}, "email", "email không hợp lệ"),
        ({"target_group": "sinh viên"}, "target_group", "Đối tượng không hợp lệ"),
        ({"given_name": "x" * 101}, "given_name", "100 ký tự"),
    ],
)
def test_clean_trainee_refuses(values, field, fragment):
    with pytest.raises(RuleViolation) as caught:
        r.clean_trainee(_input(**values), TODAY)
    assert any(fragment in m for m in caught.value.errors[field]), caught.value.errors


def test_clean_trainee_reports_every_problem_at_once():
    with pytest.raises(RuleViolation) as caught:
        r.clean_trainee(_input(family_name="", sex="", birth="x", personal_id="1", phone="1"), TODAY)
    assert set(caught.value.errors) == {"family_name", "sex", "birth", "personal_id", "phone"}


def test_year_only_is_fine_for_community_members():
    clean = r.clean_trainee(_input(birth="1962", target_group="nguoi_dan"), TODAY)
    assert (clean.birth_date, clean.birth_year) == (None, 1962)


def test_personal_id_contradicting_sex_or_year_is_a_warning_not_an_error():
    clean = r.clean_trainee(_input(personal_id="092085001234", birth="05/02/1985"), TODAY)  # digit 4 = 0: a man
    assert len(clean.warnings) == 1 and "giới tính" in clean.warnings[0]


# --------------------------------------------------------------------------------------------
# Organizer enrolment and merging
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("existing", "course_status", "error"),
    [
        (None, "draft", None),
        (None, "open", None),
        (None, "closed", None),
        (None, "running", None),
        (WITHDRAWN, "open", None),
        (REJECTED, "open", None),  # the organizer may reverse a rejection
        (CONFIRMED, "open", "đã ghi danh"),
        (WAITLISTED, "open", "đã ghi danh"),
        (PENDING, "open", "đã ghi danh"),
        (None, "finished", "đã kết thúc"),
        (None, "cancelled", "đã bị hủy"),
        ("bogus", "open", "không hợp lệ"),
    ],
)
def test_check_organizer_enrollment(existing, course_status, error):
    if error is None:
        r.check_organizer_enrollment(existing, course_status)
    else:
        with pytest.raises(RuleViolation) as caught:
            r.check_organizer_enrollment(existing, course_status)
        assert error in str(caught.value)


def test_check_organizer_enrollment_reports_both_reasons():
    with pytest.raises(RuleViolation) as caught:
        r.check_organizer_enrollment(CONFIRMED, "finished")
    assert len(caught.value.messages) == 2


@pytest.mark.parametrize(
    ("a", "b", "kept"),
    [
        ((1, CONFIRMED, None), (2, WAITLISTED, 3), 1),
        ((1, WAITLISTED, 3), (2, CONFIRMED, None), 2),
        ((1, WAITLISTED, 5), (2, WAITLISTED, 2), 2),  # the better place in line
        ((1, PENDING, None), (2, WAITLISTED, 9), 2),
        ((1, WITHDRAWN, None), (2, PENDING, None), 2),
        ((1, REJECTED, None), (2, WITHDRAWN, None), 2),
        ((5, CONFIRMED, None), (3, CONFIRMED, None), 3),  # tie: the older one
    ],
)
def test_merge_survivor(a, b, kept):
    assert r.merge_survivor(a, b) == kept


def test_duplicate_key_folds_names_and_tone_placement():
    assert r.duplicate_key("Nguyễn Thị Hoà", date(1985, 2, 5), 1985, "nu") == r.duplicate_key("NGUYỄN THỊ HÒA", date(1985, 2, 5), 1985, "nu")
    assert r.duplicate_key("Lê Văn Út", None, 1970, "nam") == ("le van ut", "1970", "nam")
    assert r.duplicate_key("Lê Văn Út", None, 1970, "nam") != r.duplicate_key("Lê Văn Út", None, 1970, "nu")


# --------------------------------------------------------------------------------------------
# Class-list order, in Python and in the database
# --------------------------------------------------------------------------------------------
def _split(full: str) -> tuple[str, str, str]:
    words = full.split()
    return words[-1], " ".join(words[1:-1]), words[0]


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        # Đ after every D, before E
        (["Lê Văn Đông", "Lê Văn Dũng", "Lê Văn Em", "Lê Văn Duy"], ["Lê Văn Dũng", "Lê Văn Duy", "Lê Văn Đông", "Lê Văn Em"]),
        # Ư after every U, before V
        (["Trần Thị Ưng", "Trần Thị Út", "Trần Thị Vy", "Trần Thị Uyên"], ["Trần Thị Út", "Trần Thị Uyên", "Trần Thị Ưng", "Trần Thị Vy"]),
        # tones: ngang < huyền < hỏi < ngã < sắc < nặng
        (["Lê Thị Ạnh", "Lê Thị Ánh", "Lê Thị Ãnh", "Lê Thị Ảnh", "Lê Thị Ành", "Lê Thị Anh"], ["Lê Thị Anh", "Lê Thị Ành", "Lê Thị Ảnh", "Lê Thị Ãnh", "Lê Thị Ánh", "Lê Thị Ạnh"]),
        # given name first, then middle, then family
        (["An Văn Bình", "Bùi Thị An", "Lê An"], ["Lê An", "Bùi Thị An", "An Văn Bình"]),
        # a ă â are three letters
        (["Lê Thị Ân", "Lê Thị Ăn", "Lê Thị An"], ["Lê Thị An", "Lê Thị Ăn", "Lê Thị Ân"]),
        # o ô ơ
        (["Võ Văn Ơn", "Võ Văn Ôn", "Võ Văn On"], ["Võ Văn On", "Võ Văn Ôn", "Võ Văn Ơn"]),
    ],
)
def test_class_list_order(names, expected):
    assert sorted(names, key=lambda n: name_sort_key(*_split(n))) == expected
    # the digits stored in the database sort the same way
    assert sorted(names, key=lambda n: r.encode_sort_key(name_sort_key(*_split(n)))) == expected


def test_encoded_sort_key_preserves_order_on_many_names():
    rng = random.Random(7)
    parts = ["An", "Ân", "Ăn", "Anh", "Ánh", "Đào", "Dung", "Út", "Ư", "Hòa", "Hoà", "Hoa", "Thị", "Văn", "", "Nguyễn", "Ng", "Z", "Sa Rươl"]
    names = [(rng.choice(parts), rng.choice(parts), rng.choice(parts)) for _ in range(400)]
    by_tuple = sorted(names, key=lambda n: (name_sort_key(*n), n))
    by_string = sorted(names, key=lambda n: (r.encode_sort_key(name_sort_key(*n)), n))
    assert by_tuple == by_string
    assert set(r.encode_sort_key(name_sort_key("Đào", "Thị", "Lê"))) <= set("0123456789")


@pytest.mark.parametrize(("typed", "stored"), [("hoà", "Nguyễn Thị Hòa"), ("HOA", "Nguyễn Thị Hoà"), ("thuy", "Lê Thị Thủy"), ("thuỷ", "Lê Thị Thủy"), ("dao", "Đào Văn Minh")])
def test_search_folds_diacritics_and_tone_placement(typed, stored):
    assert fold(typed) in fold(stored)


def test_duplicate_check_unifies_tone_placement_only():
    assert tone_key("Nguyễn Thị Hoà") == tone_key("Nguyễn Thị Hòa")
    assert tone_key("Đoàn Văn A") != tone_key("Doãn Văn A")

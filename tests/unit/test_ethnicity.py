"""Tests for bdg_training.ethnicity: the 54 groups, TCTK-1979 codes, alias search."""

import unicodedata

import pytest

from bdg_training.ethnicity import (
    CODE_LIST,
    ETHNICITIES,
    ETHNICITY_CHOICES,
    ethnicity_by_code,
    find_ethnicity,
    match_key,
)


def test_fifty_four_groups_with_codes_in_order():
    assert len(ETHNICITIES) == 54
    assert [e.code for e in ETHNICITIES] == [f"{n:02d}" for n in range(1, 55)]
    assert CODE_LIST == "TCTK-1979"


@pytest.mark.parametrize(
    ("code", "name"),
    [
        # checked against QĐ 121-TCTK/PPCĐ (1979), DOMAIN.md §4.6
        ("01", "Kinh"),
        ("02", "Tày"),
        ("03", "Thái"),
        ("04", "Hoa"),  # 1979 list: 04 Hoa (2008 list: 04 Mường)
        ("05", "Khơ-me"),
        ("06", "Mường"),
        ("07", "Nùng"),
        ("08", "Hmông (Mông)"),
        ("09", "Dao"),
        ("10", "Gia-rai"),
        ("11", "Ngái"),
        # following the listed order (verify before official use)
        ("12", "Ê-đê"),
        ("23", "Bru-Vân Kiều"),
        ("30", "Co"),
        ("47", "Cơ Lao"),
        ("53", "Ơ-đu"),
        ("54", "Rơ-măm"),
    ],
)
def test_codes(code, name):
    assert ethnicity_by_code(code).name == name


def test_names_are_unique_nfc_and_clean():
    names = [e.name for e in ETHNICITIES]
    assert len(set(names)) == 54
    for name in names:
        assert unicodedata.is_normalized("NFC", name)
        assert name == name.strip()


def test_match_keys_never_collide_between_groups():
    owner: dict[str, str] = {}
    for e in ETHNICITIES:
        for spelling in (e.name, *e.aliases):
            key = match_key(spelling)
            assert key, spelling
            assert owner.setdefault(key, e.code) == e.code, (spelling, owner[key], e.code)


def test_choices():
    assert len(ETHNICITY_CHOICES) == 54
    assert ETHNICITY_CHOICES[0] == ("01", "Kinh")
    assert ETHNICITY_CHOICES[4] == ("05", "Khơ-me")
    assert ETHNICITY_CHOICES[-1] == ("54", "Rơ-măm")


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Kinh", "01"),
        ("kinh", "01"),
        ("Việt", "01"),
        ("Hoa", "04"),
        ("Khơ-me", "05"),
        ("Khmer", "05"),
        ("Khơ Me", "05"),
        ("Khơ me", "05"),
        ("KHƠ-ME", "05"),
        ("khome", "05"),
        ("dân tộc Khmer", "05"),
        ("Mường", "06"),
        ("Mông", "08"),
        ("H'mông", "08"),
        ("H’Mông", "08"),
        ("Hmông", "08"),
        ("hmong", "08"),
        ("Ê Đê", "12"),
        ("Êđê", "12"),
        ("Ê-đê", "12"),
        ("ede", "12"),
        ("Bru-Vân Kiều", "23"),
        ("Vân Kiều", "23"),
        ("Bru - Vân Kiều", "23"),
        ("Co", "30"),
        ("Cơ Lao", "47"),
        ("Co Lao", "47"),
        ("Rơ-măm", "54"),
        ("Rơ Măm", "54"),
        ("Chăm", "17"),
        ("Chàm", "17"),
        ("Lào", "37"),
        ("Lự", "42"),
        ("Mnông", "20"),
        ("M'nông", "20"),
        (" tày ", "02"),
        (unicodedata.normalize("NFD", "Mường"), "06"),
    ],
)
def test_find_ethnicity(typed, code):
    found = find_ethnicity(typed)
    assert found is not None
    assert found.code == code


@pytest.mark.parametrize("typed", ["", None, "   ", "Gia", "Khơ-m", "05", "Người nước ngoài", "Kinh Hoa", "dân tộc"])
def test_find_ethnicity_no_match(typed):
    assert find_ethnicity(typed) is None


@pytest.mark.parametrize(
    ("code", "name"),
    [("05", "Khơ-me"), ("5", "Khơ-me"), (" 17 ", "Chăm"), ("54", "Rơ-măm")],
)
def test_ethnicity_by_code(code, name):
    assert ethnicity_by_code(code).name == name


@pytest.mark.parametrize("code", ["", None, "00", "55", "abc"])
def test_ethnicity_by_code_unknown(code):
    assert ethnicity_by_code(code) is None


def test_record_fields():
    khmer = find_ethnicity("Khmer")
    assert khmer.code == "05"
    assert khmer.name == "Khơ-me"
    assert "Khmer" in khmer.aliases

"""Reading and checking trainee lists from .xlsx and .csv files — no database involved."""

from __future__ import annotations

import io
import unicodedata
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from bdg_training import text as vtext
from bdg_training.enrollment import importer
from bdg_training.enrollment.importer import Existing, ImportRefused, Lookup, check_rows, read_table

TODAY = date(2026, 3, 1)
HEADER = ["STT", "Họ", "Tên đệm", "Tên", "Giới tính", "Ngày sinh (dd/mm/yyyy hoặc năm)", "Dân tộc", "Số định danh cá nhân (CCCD)", "Điện thoại", "Đối tượng"]
ROWS = [
    [1, "Thạch", "Thị", "Sa Rươl", "Nữ", "05/02/1985", "Khmer", "092185001234", "0912 345 678", "Hội viên"],
    [2, "Nguyễn", "Văn", "Hòa", "Nam", "1970", "Kinh", None, None, "Người dân"],
    [3, "Quách", "Thị", "Mỹ", "nu", "12/12/1990", "Hoa", None, "+84 987 654 321", "Công chức"],
]


def xlsx(rows, header=HEADER, *, sheet_hook=None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    if sheet_hook:
        sheet_hook(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, header=HEADER, *, encoding="utf-8-sig", sep=",") -> bytes:
    lines = [sep.join("" if c is None else str(c) for c in row) for row in [header, *rows]]
    return "\r\n".join(lines).encode(encoding)


def preview(data: bytes, name="danh-sach.xlsx", lookup=None, convert=None):
    table = read_table(name, data)
    return check_rows(table, lookup or Lookup(), TODAY, convert=convert)


# --------------------------------------------------------------------------------------------
# Good files
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("maker", [lambda: ("a.xlsx", xlsx(ROWS)), lambda: ("a.csv", csv_bytes(ROWS)), lambda: ("a.csv", csv_bytes(ROWS, sep=";"))])
def test_a_good_file_gives_three_clean_trainees(maker):
    name, data = maker()
    result = preview(data, name)
    assert result.ok and [r.line for r in result.rows] == [2, 3, 4]
    first, second, third = (r.trainee for r in result.rows)
    assert (first.full_name, first.sex, first.birth_date, first.ethnicity_code, first.personal_id, first.phone) == (
        "Thạch Thị Sa Rươl",
        "nu",
        date(1985, 2, 5),
        "05",
        "092185001234",
        "+84912345678",
    )
    assert (second.birth_date, second.birth_year, second.target_group) == (None, 1970, "nguoi_dan")
    assert third.ethnicity_code == "04" and third.target_group == "cong_chuc" and third.phone == "+84987654321"
    assert result.new_count == 3


def test_excel_dates_and_numbers_are_read_as_typed():
    rows = [[1, "Lê", "Thị", "Út", "Nữ", datetime(1988, 7, 1), "Kinh", 92188001234, 912345678, ""]]
    result = preview(xlsx(rows))
    trainee = result.rows[0].trainee
    assert trainee.birth_date == date(1988, 7, 1)
    assert trainee.personal_id == "092188001234"  # the leading zero Excel dropped is put back
    assert trainee.phone == "+84912345678"


def test_headers_are_matched_loosely_and_unknown_columns_ignored():
    header = ["ho", "TÊN ĐỆM", "Tên", "giới tính", "Ghi chú riêng"]
    result = preview(xlsx([["Sơn", "Thị", "Thu", "nữ", "abc"]], header=header))
    assert result.ok and result.rows[0].trainee.full_name == "Sơn Thị Thu"


def test_empty_rows_are_skipped_and_line_numbers_kept():
    rows = [ROWS[0], [None] * 10, ["", " ", None], ROWS[1]]
    result = preview(xlsx(rows))
    assert [r.line for r in result.rows] == [2, 5]
    result = preview(csv_bytes(rows), "a.csv")
    assert [r.line for r in result.rows] == [2, 5]


def test_nfd_text_is_normalised_and_counted():
    decomposed = [[1, unicodedata.normalize("NFD", "Nguyễn"), "Thị", unicodedata.normalize("NFD", "Huệ"), "Nữ", "", "", "", "", ""]]
    result = preview(csv_bytes(decomposed), "a.csv")
    assert result.ok and result.rows[0].trainee.full_name == "Nguyễn Thị Huệ"
    assert unicodedata.is_normalized("NFC", result.rows[0].trainee.full_name)
    assert result.encoding.nfd_cells == 2 and result.encoding.encoding is None
    assert "NFD" in importer.nfd_note(result.encoding)


# --------------------------------------------------------------------------------------------
# Bad rows: every one listed with its line and reason
# --------------------------------------------------------------------------------------------
def test_every_bad_row_is_reported_with_line_and_reason():
    rows = [
        [1, "Trần", "Văn", "An", "Nam", "31/02/1990", "", "", "", ""],  # bad date
        [2, "Lê", "Thị", "Bé", "Nữ", "", "", "12345", "", ""],  # bad ID
        [3, "Kim", "", "Sóc", "Nam", "", "Ngoài hành tinh", "", "", ""],  # unknown ethnicity
        [4, "Danh", "", "Tha", "", "", "", "", "", ""],  # missing sex
        [5, "Lý", "Thị", "Hồng", "Nữ", "01/01/1990", "", "092190001111", "", ""],
        [6, "Lý", "Thị", "Hồng", "Nữ", "01/01/1990", "", "", "", ""],  # same person as line 6
        [7, "Lâm", "Văn", "Tài", "Nam", "", "", "092190001111", "", ""],  # same ID as line 6
        [8, "Võ", "Thị", "Sáu", "Nữ", "", "", "", "0123", ""],  # bad phone
        [9, "", "", "Hai", "Nữ", "", "", "", "", ""],  # missing family name
    ]
    result = preview(xlsx(rows))
    assert not result.ok
    bad = {r.line: " ".join(r.errors) for r in result.bad_rows}
    assert set(bad) == {2, 3, 4, 5, 7, 8, 9, 10}
    assert "Ngày sinh" in bad[2] and "31/02/1990" in bad[2]
    assert "12 chữ số" in bad[3]
    assert "Ngoài hành tinh" in bad[4]
    assert "giới tính" in bad[5]
    assert "Trùng với dòng 6" in bad[7]
    assert "trùng với dòng 6" in bad[8]
    assert "Điện thoại" in bad[9]
    assert "Vui lòng nhập họ" in bad[10]


def test_formulas_are_not_evaluated():
    def add_formula(sheet):
        sheet["D3"] = '=CONCAT("Ho";"a")'

    result = preview(xlsx([ROWS[0], ROWS[1]], sheet_hook=add_formula))
    assert [r.line for r in result.bad_rows] == [3]
    assert "công thức" in result.bad_rows[0].errors[0]
    result = preview(csv_bytes([[1, "Lê", "", "=1+1", "Nữ", "", "", "", "", ""]]), "a.csv")
    assert "công thức" in result.bad_rows[0].errors[0]


def test_database_duplicates_and_existing_people():
    lookup = Lookup(
        by_personal_id={
            "092185001234": Existing(7, "Thạch Thị Sa Rươl", "nu", date(1985, 2, 5), 1985, "092185001234"),
            "092190009999": Existing(8, "Người Khác", "nu", None, None, "092190009999"),
        },
        by_duplicate_key={
            ("nguyen van hoa", "1970", "nam"): [Existing(9, "Nguyễn Văn Hoà", "nam", None, 1970, None)],
        },
        enrolled_trainee_ids={9},
    )
    rows = [ROWS[0], ROWS[1], [4, "Lý", "Thị", "Vân", "Nữ", "", "", "092190009999", "", ""]]
    result = preview(xlsx(rows), lookup=lookup)
    by_line = {r.line: r for r in result.rows}
    assert by_line[2].existing_id == 7 and not by_line[2].errors  # same ID, same name: enrol the record
    assert "đã có trong danh sách lớp" in by_line[3].errors[0]  # hoà = hòa, already in the course
    assert "họ tên khác" in by_line[4].errors[0]


# --------------------------------------------------------------------------------------------
# Files refused as a whole
# --------------------------------------------------------------------------------------------
def test_wrong_columns_are_refused_with_what_was_found():
    with pytest.raises(ImportRefused) as caught:
        read_table("a.xlsx", xlsx([["x", "y"]], header=["Name", "Gender"]))
    message = caught.value.messages[0]
    assert "thiếu cột" in message and "“Họ”" in message and "“Giới tính”" in message and "“Name”" in message


def test_ten_thousand_rows_are_refused():
    rows = [[i, "Nguyễn", "Thị", f"Người{i}", "Nữ", "", "", "", "", ""] for i in range(10_000)]
    for name, data in (("big.xlsx", xlsx(rows)), ("big.csv", csv_bytes(rows))):
        with pytest.raises(ImportRefused) as caught:
            read_table(name, data)
        assert "2.000" in caught.value.messages[0]


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("anh.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "không phải bảng tính Excel"),
        ("hong.xlsx", b"PK\x03\x04" + b"garbage" * 20, "không phải bảng tính Excel"),
        ("anh.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 100, "không phải tệp CSV"),
        ("cu.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
        ("tai-lieu.docx.pdf", b"%PDF-1.7", "Chỉ nhận tệp"),
        ("rong.csv", b"", "Tệp rỗng"),
        ("chi-tieu-de.csv", csv_bytes([]), "không có học viên"),
    ],
)
def test_files_that_are_not_usable_spreadsheets_are_refused(name, data, expected):
    with pytest.raises(ImportRefused) as caught:
        read_table(name, data)
    assert expected in caught.value.messages[0]


def test_too_large_a_file_is_refused(monkeypatch):
    monkeypatch.setattr(importer, "MAX_BYTES", 1000)
    with pytest.raises(ImportRefused, match="quá lớn"):
        read_table("a.csv", b"x" * 1001)


# --------------------------------------------------------------------------------------------
# Legacy encodings
# --------------------------------------------------------------------------------------------
_TO_TCVN3 = {v: k for k, v in vtext._TCVN3.items()}


def to_tcvn3(s: str) -> str:
    return "".join(_TO_TCVN3.get(ch, ch) for ch in s)


def tcvn3_rows():
    return [
        [1, to_tcvn3("Nguyễn"), to_tcvn3("Thị"), to_tcvn3("Hường"), to_tcvn3("nữ"), "05/02/1985", "Kinh", "", "", ""],
        [2, to_tcvn3("Trần"), to_tcvn3("Văn"), to_tcvn3("Đức"), "Nam", "1970", "", "", "", ""],
    ]


def test_a_tcvn3_file_is_detected_and_converted_only_when_asked():
    legacy_header = [to_tcvn3(h) for h in HEADER]
    for name, data in (("tcvn3.xlsx", xlsx(tcvn3_rows(), header=legacy_header)), ("tcvn3.csv", csv_bytes(tcvn3_rows(), header=legacy_header, encoding="latin-1"))):
        table = read_table(name, data)
        report = importer.detect_encoding(table)
        assert report.encoding == "tcvn3" and report.legacy_cells >= 3
        assert ("NguyÔn", "Nguyễn") in report.examples
        unconverted = check_rows(table, Lookup(), TODAY)
        assert not unconverted.ok  # "n÷" is not a sex: as typed, the rows do not pass
        converted = check_rows(table, Lookup(), TODAY, convert="tcvn3")
        assert converted.ok, [r.errors for r in converted.rows]
        assert [r.trainee.full_name for r in converted.rows] == ["Nguyễn Thị Hường", "Trần Văn Đức"]


def test_tcvn3_headers_are_recognised():
    header = [to_tcvn3(h) for h in ("Họ", "Tên đệm", "Tên", "Giới tính")]
    table = read_table("a.xlsx", xlsx([[to_tcvn3("Lê"), "", to_tcvn3("Út"), to_tcvn3("Nữ")]], header=header))
    assert table.keys == ["family_name", "middle_name", "given_name", "sex"]


def test_a_vni_file_is_detected():
    rows = [[1, "Nguyeãn", "Thò", "Hoa", "Nöõ", "", "", "", "", ""], [2, "Traàn", "Vaên", "Ñöùc", "Nam", "", "", "", "", ""]]
    table = read_table("vni.xlsx", xlsx(rows))
    assert importer.detect_encoding(table).encoding == "vni"
    converted = check_rows(table, Lookup(), TODAY, convert="vni")
    assert [r.trainee.full_name for r in converted.rows] == ["Nguyễn Thị Hoa", "Trần Văn Đức"]


def test_cells_in_real_unicode_are_never_converted():
    # A cell with letters beyond Latin-1 (ạ ị Ơ …) cannot be legacy text, even in a legacy file.
    rows = [[1, "Phạm", "Thị", "Ơn", "Nữ", "", "", "", "", ""], [2, to_tcvn3("Nguyễn"), "", to_tcvn3("Hường"), "Nữ", "", "", "", "", ""]]
    converted = check_rows(read_table("a.xlsx", xlsx(rows)), Lookup(), TODAY, convert="tcvn3")
    assert [r.trainee.full_name for r in converted.rows] == ["Phạm Thị Ơn", "Nguyễn Hường"]

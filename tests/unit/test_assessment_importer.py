"""The question importer without a database: reading the file, checking every row, legacy text."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest

from bdg_training.assessments import importer

HEADER = ["STT", "Chủ đề", "Loại câu hỏi", "Câu hỏi", "Phương án A", "Phương án B", "Phương án C", "Đáp án đúng", "Điểm"]
TOPICS = {"luat binh dang gioi": 1, "cong tac gia dinh": 2}


def xlsx(rows) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def check(rows, existing=frozenset(), default_topic_id=None, convert=None):
    table = importer.read_table("cau-hoi.xlsx", xlsx([HEADER, *rows]))
    return importer.check_rows(table, TOPICS, set(existing), default_topic_id=default_topic_id, convert=convert)


def test_good_rows_of_each_kind():
    preview = check(
        [
            [1, "Luật Bình đẳng giới", "Một đáp án", "Câu một?", "a", "b", "c", "C", 1],
            [2, "LUAT BINH DANG GIOI", "Nhiều đáp án", "Câu hai?", "a", "b", "c", "a;b", "0,5"],
            [3, "Công tác gia đình", "Đúng/Sai", "Câu ba?", None, None, None, "Sai", None],
        ]
    )
    assert preview.ok and [r.line for r in preview.new_rows] == [2, 3, 4]
    one, two, three = preview.rows
    assert (one.topic_id, one.kind, one.key_letters) == (1, "single", "C")
    assert (two.kind, two.key_letters, two.points) == ("multiple", "A, B", Decimal("0.5"))
    assert (three.topic_id, three.kind, [o.text for o in three.options], three.key_letters) == (2, "true_false", ["Đúng", "Sai"], "B")


@pytest.mark.parametrize(
    ("row", "fragments"),
    [
        ([1, "Chủ đề lạ", None, "Câu?", "a", "b", None, "A", 1], ["Chủ đề: «Chủ đề lạ»"]),
        ([1, None, None, "Câu?", "a", "b", None, "A", 1], ["chưa chọn chủ đề mặc định"]),
        ([1, "Luật Bình đẳng giới", "Tự luận", "Câu?", "a", "b", None, "A", 1], ["Loại câu hỏi"]),
        ([1, "Luật Bình đẳng giới", None, "Câu?", "a", None, "c", "A", 1], ["Phương án B để trống"]),
        ([1, "Luật Bình đẳng giới", None, "Câu?", "a", None, None, "A", 1], ["ít nhất hai phương án"]),
        ([1, "Luật Bình đẳng giới", None, "Câu?", "a", "b", None, "C", 1], ["Đáp án đúng"]),
        ([1, "Luật Bình đẳng giới", None, "Câu?", "a", "b", None, "A, B", 1], ["đúng một đáp án đúng"]),
        ([1, "Luật Bình đẳng giới", None, "Câu?", "a", "b", None, "A", "NaN"], ["Điểm: phải là một số"]),
        ([1, "Luật Bình đẳng giới", None, "Câu?", "a", "b", None, "A", 0], ["Điểm"]),
        ([1, "Luật Bình đẳng giới", "Đúng/Sai", "Câu?", None, None, None, "Có lẽ", 1], ["Đáp án đúng"]),
        ([1, "Luật Bình đẳng giới", None, None, "a", "b", None, "A", 1], ["Câu hỏi"]),
        ([1, "Luật Bình đẳng giới", None, "=A1", "a", "b", None, "A", 1], ["công thức"]),
        (
            [1, "Chủ đề lạ", None, "Câu?", "a", None, "c", "E", "abc"],
            ["Chủ đề", "Phương án B", "Đáp án đúng", "Điểm"],
        ),  # every error at once
    ],
)
def test_bad_rows_are_reported_with_their_reason(row, fragments):
    preview = check([row])
    assert not preview.ok
    errors = " | ".join(preview.rows[0].errors)
    for fragment in fragments:
        assert fragment in errors


def test_duplicates_inside_the_file_and_against_the_bank():
    rows = [
        [1, None, None, "Giới là gì?", "a", "b", None, "A", 1],
        [2, None, None, "GIOI la gi?", "a", "b", None, "A", 1],
        [3, None, None, "Câu đã có?", "a", "b", None, "B", 1],
    ]
    preview = check(rows, existing={(1, "cau da co?")}, default_topic_id=1)
    assert preview.rows[1].errors == ["Trùng với câu hỏi ở dòng 2."]
    assert preview.rows[2].duplicate_of_bank and not preview.rows[2].errors


def test_whole_file_refusals():
    with pytest.raises(importer.ImportRefused, match="Excel 97"):
        importer.read_table("cu.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest")
    with pytest.raises(importer.ImportRefused, match="thiếu cột"):
        importer.read_table("x.xlsx", xlsx([["STT", "Nội dung khác"], [1, "x"]]))
    with pytest.raises(importer.ImportRefused, match="không có câu hỏi"):
        importer.read_table("x.xlsx", xlsx([HEADER]))
    with pytest.raises(importer.ImportRefused, match="Tệp rỗng"):
        importer.read_table("x.xlsx", b"")


def test_legacy_tcvn3_text_is_detected_and_converted_only_where_it_is_legacy():
    row = [1, "Luật Bình đẳng giới", None, "Giíi lµ g×?", "Đặc điểm xã hội", "§Æc ®iÓm sinh häc", None, "A", 1]
    table = importer.read_table("x.xlsx", xlsx([HEADER, row]))
    assert importer.detect_encoding(table).encoding == "tcvn3"
    preview = importer.check_rows(table, TOPICS, set(), convert="tcvn3")
    result = preview.rows[0]
    assert result.text == "Giới là gì?"
    assert [o.text for o in result.options] == ["Đặc điểm xã hội", "Đặc điểm sinh học"]  # the Unicode cell is left alone


def test_the_template_passes_its_own_checks():
    table = importer.read_table("mau.xlsx", importer.template_workbook())
    preview = importer.check_rows(table, {"luat binh dang gioi": 1}, set())
    assert preview.ok and len(preview.new_rows) == 3

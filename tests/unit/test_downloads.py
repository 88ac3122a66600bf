"""Download names: any Vietnamese name reaches the user intact, and nothing in it can break the header."""

from __future__ import annotations

from urllib.parse import unquote

from bdg_training.downloads import ascii_filename, attachment


def test_the_ascii_name_drops_marks_and_anything_unsafe():
    assert ascii_filename("Sổ cấp giấy chứng nhận Cờ Đỏ 2026.xlsx") == "So-cap-giay-chung-nhan-Co-Do-2026.xlsx"
    assert ascii_filename('lop-"CD"\r\nSet-Cookie: x=1.ics') == "lop-CD-Set-Cookie-x-1.ics"
    assert ascii_filename("../../etc/passwd") == "etc-passwd"
    assert ascii_filename("Đ") == "D" and ascii_filename("“”") == "tai-xuong"


def test_a_download_keeps_the_unicode_name_and_is_not_shared(app):
    name = "Kết quả kiểm tra lớp Cờ Đỏ \"đặc biệt\".xlsx"
    response = attachment(b"data", name, "application/octet-stream")
    header = response.headers["Content-Disposition"]
    header.encode("latin-1")  # what a WSGI server must be able to send
    assert header.startswith('attachment; filename="Ket-qua-kiem-tra-lop-Co-Do-dac-biet-.xlsx"')
    assert unquote(header.split("filename*=UTF-8''", 1)[1]) == name
    assert response.headers["Cache-Control"] == "private, no-store"
    assert attachment(b"%PDF", "a.pdf", "application/pdf", inline=True).headers["Content-Disposition"].startswith("inline;")

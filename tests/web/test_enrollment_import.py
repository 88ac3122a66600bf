"""Importing a class from Excel/CSV through the pages: template, preview, all-or-nothing commit,
broken files that write nothing, legacy encodings refused until the user converts."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bdg_training.enrollment.models import Enrollment, ImportBatch, Trainee
from bdg_training.extensions import db
from tests.conftest import fresh, login
from tests.unit.test_enrollment_importer import HEADER, ROWS, csv_bytes, tcvn3_rows, to_tcvn3, xlsx


@pytest.fixture
def setup(client, make):
    tree = make.reform_tree()
    course = make.course(tree["x_codo"], status="open", capacity=2)
    login(client, make.user("organizer", unit=tree["x_codo"]))
    return course


def _upload(client, course, name, data):
    return client.post(f"/classes/{course.id}/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _written() -> tuple[int, int]:
    fresh()
    return db.session.scalar(select(func.count(Trainee.id))), db.session.scalar(select(func.count(Enrollment.id)))


def test_template_download_has_the_expected_header(client, setup):
    response = client.get("/import-template.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    header = [c.value for c in next(workbook.active.iter_rows(max_row=1))]
    assert header[:4] == ["STT", "Họ", "Tên đệm", "Tên"] and "Giới tính" in header
    assert "Hướng dẫn" in workbook.sheetnames


def test_good_file_preview_then_commit_with_waitlist(client, setup):
    course = setup
    response = _upload(client, course, "lop.xlsx", xlsx(ROWS))
    assert response.status_code == 302
    assert _written() == (0, 0)  # nothing before confirmation
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Tất cả 3 dòng hợp lệ" in preview and "Thạch Thị Sa Rươl" in preview and "********1234" in preview
    batch_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    response = client.post(f"/imports/{batch_id}/commit")
    assert response.status_code == 302
    assert "2 vào lớp, 1 vào danh sách chờ" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _written() == (3, 3)
    assert db.session.scalar(select(func.count(ImportBatch.id))) == 0


BROKEN = {
    "wrong columns": ("a.xlsx", lambda: xlsx([["x"]], header=["Tên học viên", "Năm"]), "thiếu cột"),
    "10 000 rows": ("big.xlsx", lambda: xlsx([[i, "Nguyễn", "Thị", f"N{i}", "Nữ", "", "", "", "", ""] for i in range(10_000)]), "2.000"),
    "not a spreadsheet": ("anh.xlsx", lambda: b"\x89PNG\r\n\x1a\n" + bytes(200), "không phải bảng tính"),
    "pdf renamed csv": ("a.csv", lambda: b"%PDF-1.4\x00\x00binary", "không phải tệp CSV"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_files_are_refused_and_write_nothing(client, setup, case):
    name, make_data, message = BROKEN[case]
    response = _upload(client, setup, name, make_data())
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _written() == (0, 0)
    assert db.session.scalar(select(func.count(ImportBatch.id))) == 0


@pytest.mark.parametrize(
    "case",
    ["formulas", "bad rows", "empty rows only between bad"],
)
def test_files_with_bad_rows_list_them_and_commit_nothing(client, setup, case):
    def formula(sheet):
        sheet["D3"] = "=A1&B1"

    if case == "formulas":
        data = xlsx(ROWS, sheet_hook=formula)
    elif case == "bad rows":
        data = xlsx([ROWS[0], [2, "Lê", "", "Bé", "", "31/02/1990", "Sao Hỏa", "123", "", ""]])
    else:
        data = xlsx([ROWS[0], [None] * 10, [None] * 10, [5, "Kim", "", "Sóc", "Nam", "", "", "", "0123", ""]])
    response = _upload(client, setup, "lop.xlsx", data)
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "chưa nhập dòng nào" in preview and "Xác nhận nhập" not in preview
    if case == "formulas":
        assert "công thức" in preview
    elif case == "bad rows":
        assert "Giới tính" in preview and "31/02/1990" in preview and "Sao Hỏa" in preview and "12 chữ số" in preview
    else:
        assert "<td>5</td>" in preview  # the line number in the file, empty rows counted
    batch_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    client.post(f"/imports/{batch_id}/commit")  # forced: still refused
    assert _written() == (0, 0)


def test_tcvn3_file_is_refused_until_converted(client, setup):
    response = _upload(client, setup, "cu.csv", csv_bytes(tcvn3_rows(), header=[to_tcvn3(h) for h in HEADER], encoding="latin-1"))
    location = response.headers["Location"]
    batch_id = int(location.rstrip("/").split("/")[-1])
    html = client.get(location).get_data(as_text=True)
    assert "TCVN3" in html and "Nguyễn" in html and "Chuyển sang Unicode" in html and "Xác nhận nhập" not in html
    client.post(f"/imports/{batch_id}/commit")
    assert _written() == (0, 0)
    client.post(f"/imports/{batch_id}/convert")
    html = client.get(location).get_data(as_text=True)
    assert "Nguyễn Thị Hường" in html and "Xác nhận nhập" in html
    client.post(f"/imports/{batch_id}/commit")
    fresh()
    assert sorted(db.session.scalars(select(Trainee.full_name))) == ["Nguyễn Thị Hường", "Trần Văn Đức"]


def test_another_users_batch_is_not_found(client, make, setup):
    response = _upload(client, setup, "lop.xlsx", xlsx(ROWS))
    batch_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    fresh()
    login(client, make.user("organizer", unit=setup.unit))
    assert client.get(f"/imports/{batch_id}").status_code == 404
    assert client.post(f"/imports/{batch_id}/commit").status_code == 404
    assert _written() == (0, 0)


def test_cancel_removes_the_batch(client, setup):
    response = _upload(client, setup, "lop.csv", csv_bytes(ROWS))
    batch_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    client.post(f"/imports/{batch_id}/cancel")
    fresh()
    assert db.session.scalar(select(func.count(ImportBatch.id))) == 0

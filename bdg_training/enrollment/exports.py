"""Spreadsheets written by the enrolment feature: the import template and the class-list export.

Text cells are always written as text (never as formulas: a name starting with "=" stays a
name), IDs and phones as text so Excel keeps their leading zeros. Personal IDs are masked (last
4 digits) unless ``full_ids`` is asked for (admins only, audited by the caller).
"""

from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from bdg_training.enrollment import importer, rules
from bdg_training.ethnicity import ETHNICITIES
from bdg_training.vn import format_date


def _text(cell, value) -> None:
    """Write ``value`` as a plain string cell (openpyxl would turn "=…" into a formula)."""
    cell.value = "" if value is None else str(value)
    cell.data_type = "s"


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_workbook() -> bytes:
    """The import template: the header row on the first sheet (the only one read), and a second
    sheet with instructions and the code lists (sexes, target groups, the 54 ethnic groups)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Danh sách học viên"
    bold = Font(bold=True)
    for index, column in enumerate(importer.COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        _text(cell, column.header)
        cell.font = bold
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(column.header) + 2)
        if column.key in ("personal_id", "cmnd", "phone", "birth"):
            for row in range(2, 502):  # keep leading zeros and typed dates as text
                sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"

    guide = workbook.create_sheet("Hướng dẫn")
    lines = [
        "Cách điền danh sách học viên",
        "• Mỗi dòng một người; giữ nguyên dòng tiêu đề của trang đầu. Dòng trống được bỏ qua.",
        "• Bắt buộc: Họ, Tên, Giới tính (Nam/Nữ). Tên đệm có thể để trống hoặc gồm nhiều chữ.",
        "• “Họ và tên (như trên giấy tờ)” để trống nếu đúng bằng Họ + Tên đệm + Tên.",
        "• Ngày sinh dạng dd/mm/yyyy (ví dụ 05/02/1985); nếu chỉ biết năm, ghi năm (ví dụ 1975).",
        "• Số định danh cá nhân gồm đúng 12 chữ số; số CMND cũ 9 hoặc 12 chữ số.",
        "• Điện thoại: 0912 345 678 hoặc +84 912 345 678.",
        "• Chỉ nhập chữ Unicode (bảng mã Unicode, phông Times New Roman/Arial). Tệp gõ bằng bảng mã",
        "  TCVN3 (.VnTime) hoặc VNI sẽ được phát hiện và hỏi chuyển đổi trước khi nhập.",
        "• Không dùng công thức: hãy dán giá trị. Tối đa " + f"{importer.MAX_ROWS:,}".replace(",", ".") + " dòng mỗi tệp.",
        "",
        "Đối tượng: " + "; ".join(rules.TARGET_GROUPS.values()),
        "",
        "Dân tộc (danh mục 54 dân tộc):",
    ]
    for row, line in enumerate(lines, start=1):
        _text(guide.cell(row=row, column=1), line)
    guide.cell(row=1, column=1).font = bold
    start = len(lines) + 1
    for offset, ethnicity in enumerate(ETHNICITIES):
        _text(guide.cell(row=start + offset, column=1), ethnicity.code)
        _text(guide.cell(row=start + offset, column=2), ethnicity.name)
    guide.column_dimensions["A"].width = 100
    return _save(workbook)


ROSTER_HEADERS = (
    "STT",
    "Họ và tên",
    "Giới tính",
    "Ngày sinh",
    "Dân tộc",
    "Số định danh / CMND",
    "Điện thoại",
    "Email",
    "Nơi công tác",
    "Chức vụ",
    "Đối tượng",
    "Trạng thái",
    "Vị trí chờ",
    "Nguồn",
    "Có mặt / buổi đã học",
    "Tỷ lệ tham dự",
)


def roster_workbook(course, rows, *, full_ids: bool, today: date) -> bytes:
    """The class list as .xlsx: a title, the course line, then one row per trainee in roster
    order (``services.roster``)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Danh sách lớp"
    _text(sheet.cell(row=1, column=1), f"DANH SÁCH HỌC VIÊN LỚP {course.title.upper()}")
    sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
    _text(sheet.cell(row=2, column=1), f"Mã lớp: {course.code} · Từ {format_date(course.start_date)} đến {format_date(course.end_date)} · Xuất ngày {format_date(today)}")
    header_row = 4
    for index, header in enumerate(ROSTER_HEADERS, start=1):
        cell = sheet.cell(row=header_row, column=index)
        _text(cell, header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for n, row in enumerate(rows, start=1):
        trainee, enrollment, summary = row.trainee, row.enrollment, row.summary
        identity = (trainee.personal_id or trainee.cmnd or "") if full_ids else trainee.masked_id
        values = [
            n,
            trainee.full_name,
            trainee.sex_label,
            trainee.birth_display,
            trainee.ethnicity_name,
            identity,
            trainee.phone_display,
            trainee.email or "",
            trainee.work_unit or "",
            trainee.position or "",
            trainee.target_group_label,
            enrollment.status_label,
            enrollment.waitlist_position or "",
            enrollment.source_label,
            f"{summary.present}/{summary.held}" if summary and summary.held else "",
            round(summary.rate * 100, 1) if summary and summary.rate is not None else "",
        ]
        for index, value in enumerate(values, start=1):
            cell = sheet.cell(row=header_row + n, column=index)
            if isinstance(value, int | float) and not isinstance(value, bool):
                cell.value = value
            else:
                _text(cell, value)
    widths = (5, 28, 8, 12, 10, 18, 14, 24, 28, 16, 14, 14, 8, 18, 10, 10)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=3)
    return _save(workbook)

"""Exports of the report: an .xlsx workbook (one sheet per table) and a PDF (A4 portrait, WeasyPrint).

Both are built from the very objects the pages show (``services.Dashboard``, ``PlanReport``, ``Learning``), so
the figures cannot differ. In the workbook, counts are integers, percentages are numbers (e.g. 0.667) with a
``0.0%`` format, scores are numbers with two decimals; the filters and every counting rule are written at the
top of every sheet.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

from flask import render_template
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from bdg_training.assessments.rules import round_score
from bdg_training.reports import charts, rules

TITLE = "Báo cáo thống kê tập huấn bình đẳng giới"
PCT_FORMAT = "0.0%"
SCORE_FORMAT = "0.00"
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
BOLD = Font(bold=True)
SPLIT_HEADERS = ("Nam", "Nữ", "Tổng", "% nữ")
SHEET_NAMES = {
    "unit": "Đơn vị",
    "topic": "Chủ đề",
    "target_group": "Đối tượng",
    "ethnicity": "Dân tộc",
    "age": "Nhóm tuổi",
    "area": "Thành thị - nông thôn",
}


def pct_cell_value(value: Decimal | None):
    """The stored value of a percentage cell: a number (66.7 % → 0.667) or "—" when undefined."""
    return rules.NO_VALUE if value is None else float(value / 100)


def _preamble(ws, board, today: date, extra: list[str] = ()) -> int:
    """Title, filters and counting rules at the top of a sheet; returns the next free row."""
    ws.append([TITLE])
    ws["A1"].font = Font(bold=True, size=14)
    for label, value in board.filters.describe():
        ws.append([label, value])
    ws.append(["Ngày lập", today.strftime("%d/%m/%Y")])
    ws.append(["Quy tắc tính"])
    ws.cell(ws.max_row, 1).font = BOLD
    for note in [*board.footnotes, *extra]:
        ws.append([note])
        ws.cell(ws.max_row, 1).alignment = Alignment(wrap_text=False)
    ws.append([])
    return ws.max_row + 1


def _header(ws, cells: list[str]) -> None:
    ws.append(cells)
    for cell in ws[ws.max_row]:
        cell.font = BOLD
        cell.fill = HEADER_FILL


def _split_values(split: rules.SexSplit) -> list:
    return [split.nam, split.nu, split.total, pct_cell_value(split.pct_female)]


def _format_row(ws, pct_columns: list[int], score_columns: list[int] = ()) -> None:
    row = ws.max_row
    for column in pct_columns:
        ws.cell(row, column).number_format = PCT_FORMAT
    for column in score_columns:
        ws.cell(row, column).number_format = SCORE_FORMAT


def _widths(ws, first: int = 42, others: int = 11) -> None:
    ws.column_dimensions["A"].width = first
    for i in range(2, ws.max_column + 1):
        ws.column_dimensions[get_column_letter(i)].width = others


def _score(x):
    return rules.NO_VALUE if x is None else float(round_score(x))


def workbook(board, plans, study, *, today: date) -> bytes:
    """The .xlsx bytes of the whole report."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Tổng quan"
    _preamble(ws, board, today)
    _header(ws, ["Chỉ tiêu", *SPLIT_HEADERS])
    headline = [("Lượt người", board.participations), ("Người", board.persons)]
    if board.certificates_available:
        headline.append(("Giấy chứng nhận", board.certificates))
    for label, split in headline:
        ws.append([label, *_split_values(split)])
        _format_row(ws, [5])
    ws.append([])
    _header(ws, ["Số lớp", "Số lượng"])
    for cls, label in rules.COURSE_CLASSES.items():
        ws.append([label, board.courses[cls]])
    _widths(ws)

    for breakdown in board.breakdowns:
        ws = wb.create_sheet(SHEET_NAMES[breakdown.dim])
        _preamble(ws, board, today, [breakdown.note] if breakdown.note and breakdown.note not in board.footnotes else [])
        measures = [("Lượt người", "participations"), ("Người", "persons")]
        if board.certificates_available:
            measures.append(("GCN", "certificates"))
        head = [breakdown.label]
        if breakdown.has_courses:
            head.append("Số lớp đã tổ chức")
        for title, _ in measures:
            head += [f"{title} - {h}" for h in SPLIT_HEADERS]
        _header(ws, head)
        offset = 2 if breakdown.has_courses else 1
        pct_columns = [offset + 4 * i + 4 for i in range(len(measures))]
        for row in breakdown.rows:
            values = [row.label]
            if breakdown.has_courses:
                values.append(row.courses)
            for _, attr in measures:
                values += _split_values(getattr(row, attr))
            ws.append(values)
            _format_row(ws, pct_columns)
        _widths(ws)

    ws = wb.create_sheet("Kế hoạch")
    _preamble(ws, board, today)
    ws.append([f"Kế hoạch năm {plans.year}; phần năm đã qua: {rules.format_pct(plans.elapsed_pct)}"])
    _header(
        ws,
        [
            "Đơn vị",
            "Văn bản kế hoạch",
            "Số lớp kế hoạch",
            "Số lớp đã tổ chức",
            "Số lớp đã hủy",
            "Số học viên kế hoạch",
            "Số người thực tế - Nam",
            "Số người thực tế - Nữ",
            "Số người thực tế - Tổng",
            "% nữ kế hoạch",
            "% nữ thực tế",
            "Tình trạng",
        ],
    )
    for row in plans.rows:
        ws.append(
            [
                row.unit_label,
                row.plan.source_document or "",
                row.planned_courses,
                row.held_courses,
                row.cancelled_courses,
                row.planned_trainees,
                row.persons.nam,
                row.persons.nu,
                row.persons.total,
                pct_cell_value(row.planned_female_pct),
                pct_cell_value(row.actual_female_pct),
                row.progress.label + (" · tỷ lệ nữ thấp hơn kế hoạch" if row.progress.female_below else ""),
            ]
        )
        _format_row(ws, [10, 11])
    ws.append([])
    _header(ws, ["Đơn vị", "Chỉ tiêu", "Văn bản nguồn", "Giá trị chỉ tiêu", "Đơn vị tính", "Thực hiện"])
    for row in plans.rows:
        for target in row.plan.targets:
            ws.append(
                [
                    row.unit_label,
                    target.indicator,
                    target.source_document or "",
                    None if target.target_value is None else float(target.target_value),
                    target.measure or "",
                    None if target.actual_value is None else float(target.actual_value),
                ]
            )
    _widths(ws, 36, 14)

    ws = wb.create_sheet("Học tập")
    _preamble(ws, board, today)
    _header(ws, ["Nhóm", "Giới tính", "Số cặp điểm khớp", "TB trước", "TB sau", "Tiến bộ", "⟨g⟩ từ điểm TB", "Mức (Hake)"])
    groups = [("Tất cả chủ đề", study.by_sex), *study.by_topic] if study.available else []
    for label, rows in groups:
        for row in rows:
            s = row.summary
            ws.append(
                [
                    label,
                    row.label,
                    s.n_matched,
                    _score(s.mean_pre),
                    _score(s.mean_post),
                    _score(s.mean_gain),
                    _score(s.class_g),
                    s.hake_label,
                ]
            )
            _format_row(ws, [], [4, 5, 6, 7])
    if not study.available:
        ws.append(["Chưa có dữ liệu kiểm tra trước/sau."])
    _widths(ws, 36, 14)

    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def pdf_html(board, plans, study, *, today: date) -> str:
    """The HTML of the PDF report (rendered with the app's Jinja environment; autoescaped)."""
    return render_template(
        "reports/pdf.html",
        board=board,
        plans=plans,
        study=study,
        today=today,
        headline_chart=charts.headline_chart(board),
        charts={b.dim: charts.breakdown_chart(b) for b in board.breakdowns},
        rules=rules,
    )


def pdf(board, plans, study, *, today: date) -> bytes:
    from bdg_training.pdf import html_to_pdf

    return html_to_pdf(pdf_html(board, plans, study, today=today), stylesheets=["css/report-pdf.css"])

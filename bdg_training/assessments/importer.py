"""Importing questions into the bank from an .xlsx file: read, check every row, then save all or nothing.

Mirrors the trainee import (``bdg_training.enrollment.importer``), whose whole-file checks it reuses
(:class:`ImportRefused`, size and format limits, legacy-encoding detection):

1. :func:`read_table` turns the uploaded bytes into a :class:`RawTable` (header → column keys, data rows
   with the line number the user sees in Excel) or raises :class:`ImportRefused` with one message.
2. :func:`check_rows` validates every row (kind, text, options, key, points, topic) with
   :func:`bdg_training.assessments.rules.validate_question`, finds repeated questions inside the file and
   against the bank (same topic and same text, ignoring case and diacritics), and returns a
   :class:`Preview`. The caller saves nothing unless no row has an error; a question already in the bank
   is skipped with a warning (so a corrected file can be imported again).

Template columns: STT · Chủ đề · Loại câu hỏi · Câu hỏi · Phương án A … F · Đáp án đúng · Điểm · Giải thích.
"Đáp án đúng" is a letter ("B"), several letters for a multiple-answer question ("A, C"), or "Đúng"/"Sai".
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from bdg_training.assessments import rules
from bdg_training.enrollment.importer import (
    ENCODING_LABELS,
    MAX_BYTES,
    OLE_MAGIC,
    XLSX_MAGIC,
    EncodingReport,
    ImportRefused,
    check_header_keys,
    detect_encoding,
)
from bdg_training.rules_base import RuleViolation
from bdg_training.text import clean_text, convert_legacy, fold

MAX_ROWS = 1000
MAX_COLUMNS = 30
MAX_CELL_LENGTH = 2000

__all__ = [
    "COLUMNS",
    "ENCODING_LABELS",
    "MAX_BYTES",
    "ImportRefused",
    "Preview",
    "check_rows",
    "detect_encoding",
    "read_table",
    "template_workbook",
]


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False


OPTION_KEYS = tuple(f"option_{i}" for i in range(rules.MAX_OPTIONS))
COLUMNS: tuple[Column, ...] = (
    Column("stt", "STT", ("so thu tu", "tt")),
    Column("topic", "Chủ đề", ("chu de",)),
    Column("kind", "Loại câu hỏi", ("loai", "loai cau hoi", "kieu cau hoi")),
    Column("text", "Câu hỏi", ("cau hoi", "noi dung", "noi dung cau hoi"), required=True),
    *(
        Column(
            key,
            f"Phương án {rules.option_letter(i)}",
            (f"phuong an {rules.option_letter(i).lower()}", rules.option_letter(i).lower(), f"lua chon {rules.option_letter(i).lower()}"),
        )
        for i, key in enumerate(OPTION_KEYS)
    ),
    Column("key", "Đáp án đúng", ("dap an", "dap an dung", "key"), required=True),
    Column("points", "Điểm", ("diem", "so diem")),
    Column("explanation", "Giải thích", ("giai thich", "giai thich dap an", "ghi chu")),
)
_BY_KEY = {c.key: c for c in COLUMNS}
_HEADER_INDEX: dict[str, str] = {}
for _column in COLUMNS:
    for _spelling in (_column.header, *_column.aliases):
        _HEADER_INDEX.setdefault(fold(_spelling).replace(":", "").replace("*", "").strip(), _column.key)


@dataclass
class RawTable:
    headers: list[str]
    keys: list[str | None]
    rows: list[list] = field(default_factory=list)  # [line, [cell, …]]


def _match_header(text: str) -> str | None:
    for candidate in (text, convert_legacy(text, "tcvn3"), convert_legacy(text, "vni")):
        key = _HEADER_INDEX.get(fold(candidate).replace(":", "").replace("*", "").strip())
        if key:
            return key
    return None


def map_headers(headers: list[str]) -> list[str | None]:
    """Column key per header; :class:`ImportRefused` when a required column is missing or repeated."""
    keys = [_match_header(clean_text(h)) if clean_text(h) else None for h in headers]
    return check_header_keys(headers, keys, _BY_KEY, [c.key for c in COLUMNS if c.required])


def _cell(cell):
    value = getattr(cell, "value", None)
    if getattr(cell, "data_type", None) == "f" and value is not None:
        text = str(value)
        return text if text.startswith("=") else "=" + text
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool):
        return str(value)
    return value


def _blank(cells) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def read_table(filename: str, data: bytes) -> RawTable:
    """Read an uploaded .xlsx (first sheet; the first non-empty row is the header; formulas are never
    evaluated). :class:`ImportRefused` when the file as a whole cannot be used."""
    name = (filename or "").lower().strip()
    if not data:
        raise ImportRefused("Tệp rỗng.")
    if len(data) > MAX_BYTES:
        raise ImportRefused(f"Tệp quá lớn ({len(data) / 1024 / 1024:.1f} MB); tối đa {MAX_BYTES // 1024 // 1024} MB.")
    if name.endswith(".xls") or data.startswith(OLE_MAGIC):
        raise ImportRefused("Định dạng Excel 97–2003 (.xls) không được hỗ trợ. Hãy mở tệp trong Excel và lưu lại dưới dạng .xlsx.")
    if not data.startswith(XLSX_MAGIC):
        raise ImportRefused("Tệp không phải bảng tính Excel (.xlsx) hợp lệ hoặc đã bị hỏng.")
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds of errors on broken files
        raise ImportRefused("Tệp không phải bảng tính Excel (.xlsx) hợp lệ hoặc đã bị hỏng.") from exc
    try:
        if not workbook.worksheets:
            raise ImportRefused("Tệp không có trang tính nào.")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        header: list[str] | None = None
        keys: list[str | None] = []
        rows: list[list] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for line, record in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS), start=1):
                cells = [_cell(c) for c in record]
                if _blank(cells):
                    continue
                if header is None:
                    header = ["" if c is None else str(c) for c in cells]
                    keys = map_headers(header)
                    continue
                if len(rows) >= MAX_ROWS:
                    raise ImportRefused(f"Tệp có hơn {MAX_ROWS} dòng câu hỏi; hãy chia thành nhiều tệp.")
                rows.append([line, cells])
    except ImportRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken sheet inside a valid zip
        raise ImportRefused("Không đọc được nội dung bảng tính; tệp có thể đã bị hỏng.") from exc
    finally:
        workbook.close()
    if header is None:
        raise ImportRefused("Tệp trống: không có dòng tiêu đề nào.")
    if not rows:
        raise ImportRefused("Tệp chỉ có dòng tiêu đề, không có câu hỏi nào.")
    return RawTable(header, keys, rows)


@dataclass
class RowResult:
    line: int
    text: str = ""
    topic_id: int | None = None
    kind: str = "single"
    options: list[rules.OptionInput] = field(default_factory=list)
    points: Decimal = Decimal(1)
    explanation: str | None = None
    errors: list[str] = field(default_factory=list)
    duplicate_of_bank: bool = False

    @property
    def key_letters(self) -> str:
        return ", ".join(rules.option_letter(i) for i, o in enumerate(self.options) if o.is_correct)


@dataclass
class Preview:
    rows: list[RowResult]
    encoding: EncodingReport

    @property
    def bad_rows(self) -> list[RowResult]:
        return [r for r in self.rows if r.errors]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.bad_rows

    @property
    def new_rows(self) -> list[RowResult]:
        return [r for r in self.rows if not r.errors and not r.duplicate_of_bank]

    @property
    def skipped_rows(self) -> list[RowResult]:
        return [r for r in self.rows if not r.errors and r.duplicate_of_bank]


def _could_be_legacy(text: str) -> bool:
    """Legacy fonts draw Vietnamese with Latin-1 code points: a cell holding any other letter (ơ, ư, ạ, ế…)
    is real Unicode and is never converted (as in the trainee import)."""
    return not text.isascii() and all(ord(ch) <= 0xFF or ch in "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ" for ch in text)


def _text(value, encoding: str | None) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if encoding and _could_be_legacy(text):
        text = convert_legacy(text, encoding)
    return clean_text(text, multiline=True)


def check_rows(
    table: RawTable,
    topics: dict[str, int],
    existing: set[tuple[int, str]],
    *,
    default_topic_id: int | None = None,
    convert: str | None = None,
) -> Preview:
    """Check every row. ``topics`` maps a folded topic name to its id; ``existing`` holds
    ``(topic_id, fingerprint)`` of the active questions in the bank. A row without a topic takes
    ``default_topic_id``. Every error of a row is listed with its column."""
    encoding = detect_encoding(table)
    results: list[RowResult] = []
    seen: dict[tuple[int, str], int] = {}
    for line, cells in table.rows:
        values = {key: cell for key, cell in zip(table.keys, cells, strict=False) if key}
        row = RowResult(line=line)
        for key, raw in values.items():
            if isinstance(raw, str) and raw.lstrip().startswith("="):
                row.errors.append(f"{_BY_KEY[key].header}: ô chứa công thức; hệ thống không tính công thức — hãy dán giá trị.")
            elif isinstance(raw, str) and len(raw) > MAX_CELL_LENGTH:
                row.errors.append(f"{_BY_KEY[key].header}: nội dung quá dài (tối đa {MAX_CELL_LENGTH} ký tự).")
        if row.errors:
            results.append(row)
            continue
        row.text = _text(values.get("text"), convert)
        row.explanation = _text(values.get("explanation"), convert) or None
        topic_name = _text(values.get("topic"), convert)
        if topic_name:
            row.topic_id = topics.get(fold(topic_name))
            if row.topic_id is None:
                row.errors.append(f"Chủ đề: «{topic_name}» chưa có trong danh mục chủ đề.")
        else:
            row.topic_id = default_topic_id
            if row.topic_id is None:
                row.errors.append("Chủ đề: để trống mà chưa chọn chủ đề mặc định.")
        try:
            row.kind = rules.parse_question_kind(_text(values.get("kind"), convert))
        except ValueError as exc:
            row.errors.append(f"Loại câu hỏi: {exc}")
        raw_points = values.get("points")
        if raw_points is not None and str(raw_points).strip():
            try:
                row.points = Decimal(str(raw_points).strip().replace(",", "."))
                if not row.points.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                row.points = Decimal(1)
                row.errors.append("Điểm: phải là một số, ví dụ 1 hoặc 0,5.")
        key_cell = values.get("key")
        if row.kind == "true_false":
            try:
                row.options = rules.true_false_options(rules.parse_true_false(_text(key_cell, convert)))
            except ValueError as exc:
                row.errors.append(f"Đáp án đúng: {exc}")
        else:
            texts = [_text(values.get(key), convert) for key in OPTION_KEYS]
            last = max((i for i, t in enumerate(texts) if t), default=-1)
            gaps = [rules.option_letter(i) for i in range(last + 1) if not texts[i]]
            if gaps:
                row.errors.append("Phương án " + ", ".join(gaps) + " để trống nhưng có phương án sau nó; hãy điền liền từ A.")
            if last < 1:
                row.errors.append("Phương án: cần ít nhất hai phương án (A, B).")
            try:
                correct = rules.parse_key_letters(_text(key_cell, convert), max(last + 1, 1))
            except ValueError as exc:
                row.errors.append(f"Đáp án đúng: {exc}")
            else:
                row.options = [rules.OptionInput(texts[i], i in correct) for i in range(last + 1)]
        if not row.errors:
            try:
                rules.validate_question(row.kind, row.text, row.options, row.points)
            except RuleViolation as exc:
                labels = {"text": "Câu hỏi", "options": "Phương án", "points": "Điểm", "kind": "Loại câu hỏi"}
                row.errors.extend(f"{labels.get(k, '')}: {m}" if labels.get(k) else m for k, ms in exc.errors.items() for m in ms)
        if not row.errors and row.topic_id is not None:
            fingerprint = (row.topic_id, rules.question_fingerprint(row.text))
            if fingerprint in seen:
                row.errors.append(f"Trùng với câu hỏi ở dòng {seen[fingerprint]}.")
            else:
                seen[fingerprint] = line
                row.duplicate_of_bank = fingerprint in existing
        results.append(row)
    return Preview(results, encoding)


def template_workbook() -> bytes:
    """An .xlsx template with the header row and three example rows (one per kind)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Câu hỏi"
    ws.append([c.header for c in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.append(
        [
            1,
            "Luật Bình đẳng giới",
            "Một đáp án",
            "Luật Bình đẳng giới được Quốc hội thông qua năm nào?",
            "2004",
            "2006",
            "2007",
            "2010",
            None,
            None,
            "B",
            1,
            "Luật số 73/2006/QH11, thông qua ngày 29/11/2006, có hiệu lực từ 01/7/2007.",
        ]
    )
    ws.append(
        [
            2,
            "Luật Bình đẳng giới",
            "Nhiều đáp án",
            "Những lĩnh vực nào được Luật Bình đẳng giới quy định?",
            "Chính trị",
            "Kinh tế",
            "Gia đình",
            "Không có lĩnh vực nào",
            None,
            None,
            "A, B, C",
            1,
            None,
        ]
    )
    ws.append(
        [
            3,
            "Luật Bình đẳng giới",
            "Đúng/Sai",
            "Giới tính chỉ các đặc điểm sinh học của nam, nữ.",
            None,
            None,
            None,
            None,
            None,
            None,
            "Đúng",
            1,
            "Điều 5 Luật Bình đẳng giới.",
        ]
    )
    ws.column_dimensions["D"].width = 60
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

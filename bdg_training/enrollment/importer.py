"""Reading a trainee list from .xlsx or .csv, and checking every row — without touching the database.

Two pure steps, so both can be tested with files alone:

1. :func:`read_table` turns the uploaded bytes into a :class:`RawTable` (header → column keys,
   data rows with their line numbers, cells as JSON-friendly values) or raises
   :class:`ImportRefused` with one clear Vietnamese message for the whole file: not a
   spreadsheet, an old .xls, wrong columns, too many rows, too large.
2. :func:`check_rows` validates every row (:func:`bdg_training.enrollment.rules.clean_trainee`),
   finds duplicates inside the file and against the database through a :class:`Lookup` the
   caller fills, and returns a :class:`Preview`: every bad row with its line and reason. The
   caller writes nothing unless the preview has no error (all or nothing).

Limits: at most :data:`MAX_ROWS` data rows and :data:`MAX_COLUMNS` columns; formulas are never
evaluated (a cell holding one is a row error: paste values instead); empty rows are skipped.

Legacy text: :func:`detect_encoding` looks for TCVN3 (ABC/.VnTime) and VNI text; the caller
refuses such a file unless the user confirms conversion, then passes ``convert=encoding``.
Decomposed Unicode (NFD) is converted to NFC silently and counted (the conversion is lossless).
"""

from __future__ import annotations

import csv
import io
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time

from bdg_training.enrollment import rules
from bdg_training.rules_base import RuleViolation
from bdg_training.text import clean_text, convert_legacy, detect_legacy_encoding, fold

MAX_ROWS = 2000
MAX_COLUMNS = 40
MAX_BYTES = 5 * 1024 * 1024
MAX_CELL_LENGTH = 500
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls (and other Office 97 files)

ENCODING_LABELS = {
    "tcvn3": "TCVN3 (bảng mã ABC, phông .VnTime)",
    "vni": "VNI (phông VNI-Times)",
}


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # as in the template
    aliases: tuple[str, ...] = ()
    required: bool = False
    example: str = ""


# The template's columns, in order. Headers are matched ignoring case and diacritics.
COLUMNS: tuple[Column, ...] = (
    Column("stt", "STT", ("so thu tu", "tt")),
    Column("family_name", "Họ", ("ho",), required=True, example="Thạch"),
    Column("middle_name", "Tên đệm", ("ten dem", "ten lot", "dem", "chu lot"), example="Thị"),
    Column("given_name", "Tên", ("ten",), required=True, example="Sa Rươl"),
    Column("full_name", "Họ và tên (như trên giấy tờ)", ("ho va ten", "ho ten", "ho va ten nhu tren giay to"), example="Thạch Thị Sa Rươl"),
    Column("sex", "Giới tính", ("gioi tinh", "gioi", "phai"), required=True, example="Nữ"),
    Column("birth", "Ngày sinh (dd/mm/yyyy hoặc năm)", ("ngay sinh", "ngay thang nam sinh", "nam sinh", "ngay sinh dd/mm/yyyy hoac nam"), example="05/02/1985"),
    Column("ethnicity", "Dân tộc", ("dan toc",), example="Khơ-me"),
    Column("personal_id", "Số định danh cá nhân (CCCD)", ("so dinh danh ca nhan", "so dinh danh", "cccd", "so cccd", "can cuoc", "so can cuoc", "ma dinh danh", "so dinh danh ca nhan cccd"), example="092185001234"),
    Column("cmnd", "Số CMND (cũ)", ("cmnd", "so cmnd", "chung minh nhan dan", "so cmnd cu"), example=""),
    Column("phone", "Điện thoại", ("dien thoai", "so dien thoai", "sdt", "dt"), example="0912 345 678"),
    Column("email", "Email", ("e-mail", "thu dien tu"), example=""),
    Column("work_unit", "Đơn vị công tác", ("don vi", "noi cong tac", "co quan", "don vi cong tac"), example="Hội LHPN xã Cờ Đỏ"),
    Column("position", "Chức vụ", ("chuc vu", "chuc danh"), example="Hội viên"),
    Column("target_group", "Đối tượng", ("doi tuong", "nhom doi tuong"), example="Hội viên"),
)
_BY_KEY = {c.key: c for c in COLUMNS}
REQUIRED_KEYS = tuple(c.key for c in COLUMNS if c.required)


def _header_key(text: str) -> str:
    return fold(text).replace(":", "").replace("*", "").strip()


_HEADER_INDEX: dict[str, str] = {}
for _column in COLUMNS:
    for _spelling in (_column.header, *_column.aliases):
        _HEADER_INDEX.setdefault(_header_key(_spelling), _column.key)


class ImportRefused(RuleViolation):
    """The whole file is refused (one message under key "file")."""

    def __init__(self, message: str) -> None:
        super().__init__({"file": [message]})


@dataclass
class RawTable:
    """What was read: column keys by position, and the non-empty data rows.

    ``rows`` holds ``[line, [cell, …]]`` (line = the row number the user sees in Excel, or the
    record number in a CSV); cells are ``None``, ``str``, ``int``, ``float``, or a date as
    ``"YYYY-MM-DD"`` text — JSON-friendly, so an upload can wait in the database for the
    user's confirmation.
    """

    headers: list[str]
    keys: list[str | None]
    rows: list[list] = field(default_factory=list)


def _match_header(text: str) -> str | None:
    if not text:
        return None
    for candidate in (text, convert_legacy(text, "tcvn3"), convert_legacy(text, "vni")):
        key = _HEADER_INDEX.get(_header_key(candidate))
        if key:
            return key
    return None


def check_header_keys(headers: list[str], keys: list[str | None], by_key: dict, required_keys) -> list[str | None]:
    """The column keys matched for ``headers``, or :class:`ImportRefused` naming every required column
    that is missing and every column that appears twice (shared by every spreadsheet importer)."""
    missing = [by_key[k].header for k in required_keys if k not in keys]
    repeated = sorted({by_key[k].header for k in keys if k and keys.count(k) > 1})
    problems = []
    if missing:
        problems.append("thiếu cột " + ", ".join(f"“{h}”" for h in missing))
    if repeated:
        problems.append("cột bị lặp: " + ", ".join(f"“{h}”" for h in repeated))
    if problems:
        found = ", ".join(f"“{clean_text(h)}”" for h in headers if clean_text(h)) or "(không có)"
        raise ImportRefused(
            "Tệp không đúng mẫu: " + "; ".join(problems) + f". Dòng tiêu đề đọc được: {found}. Hãy tải tệp mẫu và giữ nguyên dòng tiêu đề."
        )
    return keys


def map_headers(headers: list[str]) -> list[str | None]:
    """Column key for each header; raise :class:`ImportRefused` when required columns are missing
    or a column appears twice. Unknown columns are ignored."""
    return check_header_keys(headers, [_match_header(clean_text(h)) for h in headers], _BY_KEY, REQUIRED_KEYS)


def _cell_value(value):
    """A spreadsheet value as JSON-friendly data (see :class:`RawTable`)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, int):
        return value
    return str(value)


def _blank(cells) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _collect(records, line_of) -> RawTable:
    """Header = first non-empty record; then the non-empty records, at most MAX_ROWS."""
    header: list[str] | None = None
    keys: list[str | None] = []
    rows: list[list] = []
    for index, record in enumerate(records, start=1):
        cells = [_cell_value(c) for c in list(record)[:MAX_COLUMNS]]
        if _blank(cells):
            continue
        if header is None:
            while cells and (cells[-1] is None or (isinstance(cells[-1], str) and not cells[-1].strip())):
                cells.pop()
            header = ["" if c is None else str(c) for c in cells]
            keys = map_headers(header)
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportRefused(f"Tệp có hơn {MAX_ROWS:,} dòng dữ liệu (tối đa {MAX_ROWS:,} dòng mỗi lần nhập). Hãy chia thành nhiều tệp nhỏ hơn.".replace(",", "."))
        rows.append([line_of(index), cells])
    if header is None:
        raise ImportRefused("Tệp trống: không có dòng tiêu đề nào.")
    if not rows:
        raise ImportRefused("Tệp chỉ có dòng tiêu đề, không có học viên nào.")
    return RawTable(headers=header, keys=keys, rows=rows)


def _read_xlsx(data: bytes) -> RawTable:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it skips
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds of errors on broken files
        raise ImportRefused("Tệp không phải bảng tính Excel (.xlsx) hợp lệ hoặc đã bị hỏng.") from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise ImportRefused("Tệp không có trang tính nào.")
        sheet.reset_dimensions()  # do not trust the stored dimensions
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # values_only=False keeps the cell type: a formula cell is read as its text ("=…"),
            # never evaluated; its cached result is not used either.
            records = ([_formula_marker(c) for c in row] for row in sheet.iter_rows(max_col=MAX_COLUMNS))
            return _collect(records, lambda index: index)
    except ImportRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken sheet inside a valid zip
        raise ImportRefused("Không đọc được nội dung bảng tính; tệp có thể đã bị hỏng.") from exc
    finally:
        workbook.close()


def _formula_marker(cell):
    value = getattr(cell, "value", None)
    if getattr(cell, "data_type", None) == "f" and value is not None:
        text = str(value)
        return text if text.startswith("=") else "=" + text
    return value


def _decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ImportRefused("Không đọc được tệp văn bản UTF-16.") from exc
    if b"\x00" in data[:8192]:
        raise ImportRefused("Tệp không phải tệp CSV dạng văn bản (có ký tự nhị phân). Hãy lưu bảng tính dưới dạng .xlsx hoặc “CSV UTF-8”.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # A legacy (TCVN3/VNI) file saved as CSV is single-byte text: read it byte for byte, the
        # way the legacy fonts drew it, so detect_legacy_encoding can recognise it.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def _read_csv(data: bytes) -> RawTable:
    text = _decode_text(data)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample.splitlines()[0] if sample else "", delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    try:
        records = list(_limited(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)))
    except csv.Error as exc:
        raise ImportRefused(f"Tệp CSV không hợp lệ: {exc}.") from exc
    return _collect(records, lambda index: index)


def _limited(reader):
    # Count non-empty records as we go, so a huge file is refused without keeping it all.
    seen = 0
    for record in reader:
        if not _blank(record):
            seen += 1
            if seen > MAX_ROWS + 1:
                raise ImportRefused(f"Tệp có hơn {MAX_ROWS:,} dòng dữ liệu (tối đa {MAX_ROWS:,} dòng mỗi lần nhập). Hãy chia thành nhiều tệp nhỏ hơn.".replace(",", "."))
        yield [c if c != "" else None for c in record]


def read_table(filename: str, data: bytes) -> RawTable:
    """Read an uploaded .xlsx or .csv file (see the module docstring); raise
    :class:`ImportRefused` with the reason when the file as a whole cannot be used."""
    name = (filename or "").lower().strip()
    if not data:
        raise ImportRefused("Tệp rỗng.")
    if len(data) > MAX_BYTES:
        raise ImportRefused(f"Tệp quá lớn ({len(data) / 1024 / 1024:.1f} MB); tối đa {MAX_BYTES // 1024 // 1024} MB.")
    if name.endswith(".xls") or data.startswith(OLE_MAGIC):
        raise ImportRefused("Định dạng Excel 97–2003 (.xls) không được hỗ trợ. Hãy mở tệp trong Excel và lưu lại dưới dạng .xlsx.")
    if name.endswith((".xlsx", ".xlsm")):
        if not data.startswith(XLSX_MAGIC):
            raise ImportRefused("Tệp không phải bảng tính Excel (.xlsx) hợp lệ hoặc đã bị hỏng.")
        return _read_xlsx(data)
    if name.endswith((".csv", ".txt")):
        if data.startswith(XLSX_MAGIC):
            return _read_xlsx(data)  # an .xlsx renamed .csv: read what it really is
        return _read_csv(data)
    raise ImportRefused("Chỉ nhận tệp Excel (.xlsx) hoặc CSV (.csv).")


# --------------------------------------------------------------------------------------------
# Legacy encodings
# --------------------------------------------------------------------------------------------
def _could_be_legacy(text: str) -> bool:
    """Legacy fonts draw Vietnamese with Latin-1 code points: a cell holding any other letter
    (ơ, ư, ạ, ế…) is real Unicode and must not be converted."""
    return not text.isascii() and all(ord(ch) <= 0xFF or ch in "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ" for ch in text)


@dataclass(frozen=True)
class EncodingReport:
    encoding: str | None  # "tcvn3" / "vni" when legacy text was found
    legacy_cells: int
    nfd_cells: int
    examples: tuple[tuple[str, str], ...]  # (as read, converted)

    @property
    def label(self) -> str:
        return ENCODING_LABELS.get(self.encoding or "", "")


def detect_encoding(table: RawTable) -> EncodingReport:
    """Which legacy encoding the text cells (and headers) of ``table`` use, if any."""
    votes: Counter[str] = Counter()
    nfd = 0
    # Data cells first, so the examples shown to the user are names rather than headers.
    texts = [c for _, cells in table.rows for c in cells if isinstance(c, str)] + [h for h in table.headers if h]
    flagged: list[tuple[str, str]] = []
    for text in texts:
        found = detect_legacy_encoding(text)
        if found == "nfd":
            nfd += 1
        elif found:
            votes[found] += 1
            flagged.append((text, found))
    if not votes:
        return EncodingReport(None, 0, nfd, ())
    encoding = votes.most_common(1)[0][0]
    examples = tuple((text, convert_legacy(text, encoding)) for text, found in flagged if found == encoding)[:5]
    return EncodingReport(encoding, sum(votes.values()), nfd, examples)


def _convert_cell(value, encoding: str | None):
    if encoding and isinstance(value, str) and _could_be_legacy(value):
        return convert_legacy(value, encoding)
    return value


# --------------------------------------------------------------------------------------------
# Row checks
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Existing:
    """A trainee already in the database, as far as matching needs."""

    id: int
    full_name: str
    sex: str
    birth_date: date | None
    birth_year: int | None
    personal_id: str | None


@dataclass
class Lookup:
    """What the database knows, filled by the caller for the ids and keys of the file."""

    by_personal_id: dict[str, Existing] = field(default_factory=dict)
    by_duplicate_key: dict[tuple[str, str, str], list[Existing]] = field(default_factory=dict)
    enrolled_trainee_ids: set[int] = field(default_factory=set)  # active in this course


@dataclass
class RowResult:
    line: int
    trainee: rules.CleanTrainee | None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    existing_id: int | None = None  # enrol this existing trainee instead of creating one
    display_name: str = ""


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
    def new_count(self) -> int:
        return sum(1 for r in self.rows if not r.errors and r.existing_id is None)

    @property
    def existing_count(self) -> int:
        return sum(1 for r in self.rows if not r.errors and r.existing_id is not None)


_FIELD_LABELS = {
    "family_name": "Họ",
    "middle_name": "Tên đệm",
    "given_name": "Tên",
    "full_name": "Họ và tên",
    "sex": "Giới tính",
    "birth": "Ngày sinh",
    "ethnicity": "Dân tộc",
    "personal_id": "Số định danh",
    "cmnd": "Số CMND",
    "phone": "Điện thoại",
    "email": "Email",
    "work_unit": "Đơn vị công tác",
    "position": "Chức vụ",
    "target_group": "Đối tượng",
    "": "",
}


def _text_for(key: str, value):
    """Spreadsheet numbers lose leading zeros: put them back for IDs and phones."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        digits = str(int(value))
        if key == "personal_id" and len(digits) == 11:
            return "0" + digits
        if key == "cmnd" and len(digits) in (8, 11):
            return "0" + digits
        if key == "phone" and len(digits) in (9, 10) and not digits.startswith("84"):
            return "0" + digits
        return digits
    return value


def row_input(keys: list[str | None], cells: list, encoding: str | None = None) -> tuple[rules.TraineeInput, list[str]]:
    """The :class:`~bdg_training.enrollment.rules.TraineeInput` of one row, and the cell-level
    errors (formulas, overlong cells) found while reading it."""
    values: dict[str, object] = {}
    errors: list[str] = []
    for key, raw in zip(keys, cells, strict=False):
        if key is None or key == "stt" or raw is None:
            continue
        value = _convert_cell(raw, encoding)
        if isinstance(value, str) and value.lstrip().startswith("="):
            errors.append(f"{_BY_KEY[key].header}: ô chứa công thức ({value.strip()[:40]}); hệ thống không tính công thức — hãy dán giá trị.")
            continue
        if isinstance(value, str) and len(value) > MAX_CELL_LENGTH:
            errors.append(f"{_BY_KEY[key].header}: nội dung quá dài (tối đa {MAX_CELL_LENGTH} ký tự).")
            continue
        if key == "birth":
            if isinstance(value, str) and len(value) == 10 and value[4] == "-":  # a date cell, stored ISO
                values[key] = value
            elif isinstance(value, float):
                values[key] = str(value)
            else:
                values[key] = value
        else:
            values[key] = _text_for(key, value)
            if not isinstance(values[key], str):
                values[key] = str(values[key])
    return rules.TraineeInput(**{k: v for k, v in values.items()}), errors


def check_rows(table: RawTable, lookup: Lookup, today: date, *, convert: str | None = None) -> Preview:
    """Validate every row of ``table`` (converted from ``convert`` when given).

    Each row becomes a trainee (:func:`~bdg_training.enrollment.rules.clean_trainee`) or gets
    every reason it cannot, prefixed with the column. Then:

    - duplicates inside the file: the same personal ID, or the same folded name + date of birth
      (or year) + sex as an earlier line → "Trùng với dòng N";
    - against the database: a personal ID already held by someone with another name is refused;
      a matching ID, or (without ID) exactly one trainee with the same folded name, birth and sex,
      means the existing record is enrolled instead of a new one (DOMAIN R14); several such
      matches are refused (add the ID to tell them apart); someone already pending, confirmed or
      waitlisted in the course is refused.
    """
    encoding = detect_encoding(table)
    results: list[RowResult] = []
    seen_ids: dict[str, int] = {}
    seen_keys: dict[tuple[str, str, str], int] = {}
    for line, cells in table.rows:
        data, errors = row_input(table.keys, cells, convert)
        result = RowResult(line=line, trainee=None, errors=list(errors), display_name=clean_text(data.full_name) or rules.compose_full_name(data.family_name, data.middle_name, data.given_name))
        try:
            trainee = rules.clean_trainee(data, today)
        except RuleViolation as exc:
            for key, messages in exc.errors.items():
                label = _FIELD_LABELS.get(key, key)
                result.errors.extend(f"{label}: {m}" if label else m for m in messages)
            results.append(result)
            continue
        result.trainee = trainee
        result.warnings.extend(trainee.warnings)
        result.display_name = trainee.full_name
        if trainee.personal_id:
            if trainee.personal_id in seen_ids:
                result.errors.append(f"Số định danh trùng với dòng {seen_ids[trainee.personal_id]}.")
            seen_ids.setdefault(trainee.personal_id, line)
        key = rules.duplicate_key(trainee.full_name, trainee.birth_date, trainee.birth_year, trainee.sex)
        if trainee.birth_year is not None:
            if key in seen_keys and not result.errors:
                result.errors.append(f"Trùng với dòng {seen_keys[key]} (cùng họ tên, ngày sinh và giới tính).")
            seen_keys.setdefault(key, line)
        if not result.errors:
            _match_existing(result, trainee, key, lookup)
        results.append(result)
    return Preview(rows=results, encoding=encoding)


def _match_existing(result: RowResult, trainee: rules.CleanTrainee, key, lookup: Lookup) -> None:
    if trainee.personal_id:
        existing = lookup.by_personal_id.get(trainee.personal_id)
        if existing is not None and fold(existing.full_name) != fold(trainee.full_name):
            result.errors.append("Số định danh này đã có trong hệ thống nhưng với họ tên khác; hãy kiểm tra lại.")
            return
        if existing is not None and existing.sex != trainee.sex:
            result.errors.append("Số định danh này đã có trong hệ thống nhưng với giới tính khác; hãy kiểm tra lại.")
            return
        if existing is not None:
            result.existing_id = existing.id
    elif trainee.birth_year is not None:
        matches = lookup.by_duplicate_key.get(key, [])
        if len(matches) > 1:
            result.errors.append("Trong hệ thống có nhiều học viên cùng họ tên, ngày sinh và giới tính; hãy ghi số định danh để phân biệt.")
            return
        if matches:
            result.existing_id = matches[0].id
    if result.existing_id is not None:
        if result.existing_id in lookup.enrolled_trainee_ids:
            result.errors.append("Học viên này đã có trong danh sách lớp (trùng với dữ liệu đã có).")
        else:
            result.warnings.append("Đã có hồ sơ trong hệ thống: sẽ ghi danh hồ sơ hiện có, không tạo mới.")


def nfd_note(report: EncodingReport) -> str | None:
    if report.nfd_cells:
        return f"{report.nfd_cells} ô dùng Unicode tổ hợp (NFD) đã được chuẩn hóa sang Unicode dựng sẵn (NFC)."
    return None

"""Unit rules: kinds, display names, validity dates, tree shape. Pure: no Flask, no SQLAlchemy.

A unit (đơn vị) is an organisation or a territory. Its name is always shown with its kind
("xã Cờ Đỏ", "huyện Cờ Đỏ (cũ)"), because the 2025 reform re-used the same names for new units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bdg_training.rules_base import RuleViolation

# code -> (label put before the name, plain description for forms)
KINDS: dict[str, tuple[str, str]] = {
    "tinh": ("tỉnh", "Tỉnh"),
    "thanh_pho": ("thành phố", "Thành phố (trực thuộc trung ương)"),
    "huyen": ("huyện", "Huyện"),
    "quan": ("quận", "Quận"),
    "thi_xa": ("thị xã", "Thị xã"),
    "xa": ("xã", "Xã"),
    "phuong": ("phường", "Phường"),
    "thi_tran": ("thị trấn", "Thị trấn"),
    "dac_khu": ("đặc khu", "Đặc khu"),
    "so": ("Sở", "Sở (cơ quan chuyên môn cấp tỉnh)"),
    "phong": ("Phòng", "Phòng (cơ quan chuyên môn cấp huyện, cũ)"),
    "ubnd": ("UBND", "Ủy ban nhân dân"),
    "ban_vstbpn": ("Ban VSTBPN", "Ban vì sự tiến bộ của phụ nữ"),
    "hoi": ("Hội", "Hội (Liên hiệp Phụ nữ, Nông dân, …)"),
    "doan_the": ("", "Đoàn thể (Đoàn Thanh niên, Công đoàn, MTTQ, …)"),
    "khac": ("", "Khác (trường học, doanh nghiệp, …)"),
}
TERRITORY_KINDS = frozenset({"tinh", "thanh_pho", "huyen", "quan", "thi_xa", "xa", "phuong", "thi_tran", "dac_khu"})
KIND_CHOICES = [(code, description) for code, (_, description) in KINDS.items()]


def is_closed(valid_to: date | None, today: date) -> bool:
    """A unit is closed from the day after its ``valid_to``."""
    return valid_to is not None and valid_to < today


def is_active_on(valid_from: date | None, valid_to: date | None, day: date) -> bool:
    """Valid on ``day``: open-ended dates are unbounded; both bounds are inclusive."""
    return (valid_from is None or valid_from <= day) and (valid_to is None or day <= valid_to)


def display_name(kind: str, name: str, valid_to: date | None = None, today: date | None = None) -> str:
    """The name with its kind: ``xã Cờ Đỏ``; ``huyện Cờ Đỏ (cũ)`` once closed.

    The kind is not repeated when the name already starts with it ("Sở Nội vụ" stays as is).
    """
    prefix = KINDS.get(kind, ("", ""))[0]
    label = name.strip()
    if prefix and not label.casefold().startswith(prefix.casefold() + " "):
        label = f"{prefix} {label}"
    if today is not None and is_closed(valid_to, today):
        label += " (cũ)"
    return label


@dataclass(frozen=True)
class UnitData:
    kind: str
    name: str
    short_code: str | None
    valid_from: date | None
    valid_to: date | None


def validate_unit(data: UnitData) -> None:
    """Kind known, name present, short code of capitals/digits, ``valid_to`` ≥ ``valid_from``."""
    errors = RuleViolation()
    if data.kind not in KINDS:
        errors.add("kind", "Loại đơn vị không hợp lệ.")
    if not data.name.strip():
        errors.add("name", "Vui lòng nhập tên đơn vị.")
    code = data.short_code or ""
    if code and not all(ch.isupper() or ch.isdigit() or ch == "-" for ch in code):
        errors.add("short_code", "Mã viết tắt chỉ gồm chữ in hoa, chữ số và dấu gạch ngang (ví dụ SNV, UBND-CĐ).")
    if data.valid_from and data.valid_to and data.valid_to < data.valid_from:
        errors.add("valid_to", "Ngày kết thúc hiệu lực phải sau ngày bắt đầu.")
    errors.raise_if_any()


def check_parent(unit_id: int | None, parent_id: int | None, ancestors_of_parent: list[int]) -> None:
    """A unit cannot be its own parent or the parent of one of its ancestors (no cycles)."""
    if parent_id is None or unit_id is None:
        return
    if parent_id == unit_id or unit_id in ancestors_of_parent:
        RuleViolation.single("parent_id", "Đơn vị cấp trên không thể là chính nó hoặc đơn vị cấp dưới của nó.")


def check_succession(predecessor_id: int, successor_id: int, successors_of_successor: list[int]) -> None:
    """A unit cannot succeed itself, and succession links cannot form a loop."""
    if predecessor_id == successor_id or predecessor_id in successors_of_successor:
        RuleViolation.single("successor_id", "Liên kết kế thừa không hợp lệ (đơn vị không thể kế thừa chính nó).")

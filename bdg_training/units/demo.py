"""Demo units and signers of Cần Thơ, before and after the 2025 reform (idempotent).

Data, not code: real deployments enter their own units. Sources: DOMAIN.md §2 (9 district-level
units until 30/06/2025; 103 commune-level units from 01/07/2025; merger with Sóc Trăng and Hậu Giang).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bdg_training.extensions import db
from bdg_training.units.models import Signer, Unit

REFORM_END = date(2025, 6, 30)  # last day of district-level government
REFORM_START = date(2025, 7, 1)
MOLISA_END = date(2025, 2, 28)  # Sở LĐ-TB&XH functions moved to Sở Nội vụ from 01/03/2025

DISTRICTS = [  # (kind, name, urban, successors formed on 01/07/2025)
    ("quan", "Ninh Kiều", True, [("phuong", "Ninh Kiều"), ("phuong", "Cái Khế")]),
    ("quan", "Bình Thủy", True, [("phuong", "Bình Thủy")]),
    ("quan", "Cái Răng", True, [("phuong", "Cái Răng")]),
    ("quan", "Ô Môn", True, [("phuong", "Ô Môn")]),
    ("quan", "Thốt Nốt", True, [("phuong", "Thốt Nốt")]),
    ("huyen", "Phong Điền", False, [("xa", "Phong Điền")]),
    ("huyen", "Thới Lai", False, [("xa", "Thới Lai")]),
    ("huyen", "Cờ Đỏ", False, [("xa", "Cờ Đỏ"), ("xa", "Trung Hưng")]),
    ("huyen", "Vĩnh Thạnh", False, [("xa", "Vĩnh Thạnh")]),
]
MERGED_PROVINCES = [("Sóc Trăng", [("phuong", "Sóc Trăng"), ("phuong", "Vĩnh Châu")]), ("Hậu Giang", [("phuong", "Vị Thanh"), ("phuong", "Ngã Bảy")])]
SHORT_CODES = {("xa", "Cờ Đỏ"): "CĐ", ("xa", "Vĩnh Thạnh"): "VT", ("phuong", "Ninh Kiều"): "NK"}


def _get(kind: str, name: str, parent: Unit | None, **values) -> Unit:
    query = select(Unit).where(Unit.kind == kind, Unit.name == name)
    query = query.where(Unit.parent_id == (parent.id if parent else None)) if parent else query.where(Unit.parent_id.is_(None))
    unit = db.session.scalar(query)
    if unit is None:
        unit = Unit(kind=kind, name=name, parent=parent, **values)
        db.session.add(unit)
        db.session.flush()
    return unit


def _link(predecessor: Unit, successor: Unit) -> None:
    if successor not in predecessor.successors:
        predecessor.successors.append(successor)


def seed(today: date) -> dict[str, Unit]:
    """Create the demo tree; returns the units other seeders need, by key."""
    city = _get("thanh_pho", "Cần Thơ", None, official_code="92", short_code="CT", is_urban=True)
    units: dict[str, Unit] = {"city": city}
    units["molisa"] = _get(
        "so", "Sở Lao động - Thương binh và Xã hội", city, short_code="SLĐTBXH", valid_to=MOLISA_END
    )
    units["snv"] = _get("so", "Sở Nội vụ", city, short_code="SNV")
    _link(units["molisa"], units["snv"])
    units["women_union"] = _get("hoi", "Liên hiệp Phụ nữ thành phố Cần Thơ", city, short_code="HLHPN")
    units["city_vstbpn"] = _get("ban_vstbpn", "thành phố Cần Thơ", city, short_code="VSTBPN")
    for province, successors in MERGED_PROVINCES:
        old = _get("tinh", province, None, valid_to=REFORM_END)
        _link(old, city)
        for kind, name in successors:
            _link(old, _get(kind, name, city, valid_from=REFORM_START, is_urban=True))
    for kind, name, urban, successors in DISTRICTS:
        district = _get(kind, name, city, valid_to=REFORM_END, is_urban=urban)
        units[f"district:{name}"] = district
        for new_kind, new_name in successors:
            new = _get(new_kind, new_name, city, valid_from=REFORM_START, is_urban=urban, short_code=SHORT_CODES.get((new_kind, new_name)))
            units[f"{new_kind}:{new_name}"] = new
            _link(district, new)
    codo_old = units["district:Cờ Đỏ"]
    units["phong_codo"] = _get("phong", "Lao động - Thương binh và Xã hội huyện Cờ Đỏ", codo_old, short_code="LĐTBXH-CĐ", valid_to=REFORM_END)
    units["tt_codo"] = _get("thi_tran", "Cờ Đỏ", codo_old, valid_to=REFORM_END)
    _link(units["tt_codo"], units["xa:Cờ Đỏ"])
    units["phong_vinhthanh"] = _get("phong", "Lao động - Thương binh và Xã hội huyện Vĩnh Thạnh", units["district:Vĩnh Thạnh"], valid_to=REFORM_END)
    units["vstbpn_codo"] = _get("ban_vstbpn", "xã Cờ Đỏ", units["xa:Cờ Đỏ"], valid_from=REFORM_START)
    units["hoi_codo"] = _get("hoi", "Liên hiệp Phụ nữ xã Cờ Đỏ", units["xa:Cờ Đỏ"], valid_from=REFORM_START)
    db.session.flush()
    _signers(units)
    return units


def _signer(unit: Unit, full_name: str, **values) -> Signer:
    signer = db.session.scalar(select(Signer).where(Signer.unit_id == unit.id, Signer.full_name == full_name))
    if signer is None:
        signer = Signer(unit=unit, full_name=full_name, **values)
        db.session.add(signer)
    return signer


def _signers(units: dict[str, Unit]) -> None:
    _signer(units["molisa"], "Huỳnh Văn Đức", authority_prefix="KT.", on_behalf_title="GIÁM ĐỐC", title="PHÓ GIÁM ĐỐC", valid_to=MOLISA_END)
    _signer(units["snv"], "Trần Thị Mỹ Linh", authority_prefix="KT.", on_behalf_title="GIÁM ĐỐC", title="PHÓ GIÁM ĐỐC", valid_from=date(2025, 3, 1))
    _signer(units["xa:Cờ Đỏ"], "Lê Văn Hùng", authority_prefix="TM.", on_behalf_title="ỦY BAN NHÂN DÂN", title="CHỦ TỊCH", valid_from=REFORM_START)
    _signer(units["phong_codo"], "Nguyễn Thị Thu Hà", title="TRƯỞNG PHÒNG", valid_to=REFORM_END)
    db.session.flush()

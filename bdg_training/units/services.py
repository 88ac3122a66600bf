"""Units and signers: queries and changes. Services flush and audit; callers commit."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bdg_training.access import scope_filter
from bdg_training.audit.services import diff, record
from bdg_training.extensions import db
from bdg_training.rules_base import RuleViolation
from bdg_training.text import sort_key
from bdg_training.units import rules
from bdg_training.units.models import Signer, Unit

UNIT_FIELDS = ("kind", "name", "short_code", "official_code", "parent_id", "valid_from", "valid_to", "is_urban", "note")
SIGNER_FIELDS = ("full_name", "title", "authority_prefix", "on_behalf_title", "unit_id", "valid_from", "valid_to")


def tree_rows(*, user=None, include_closed: bool = True, today: date | None = None) -> list[tuple[Unit, int]]:
    """Units in the user's scope as (unit, depth), parents before children, siblings by name.

    One query: the whole scoped set is loaded and ordered in Python (a few hundred rows).
    A unit whose parent is outside the scope is shown at depth 0.
    """
    today = today or date.today()
    units = db.session.scalars(
        select(Unit).where(scope_filter(Unit.id, user)).options(selectinload(Unit.successors), selectinload(Unit.predecessors))
    ).all()
    by_parent: dict[int | None, list[Unit]] = {}
    ids = {u.id for u in units}
    for unit in units:
        if not include_closed and unit.is_closed(today):
            continue
        by_parent.setdefault(unit.parent_id if unit.parent_id in ids else None, []).append(unit)
    rows: list[tuple[Unit, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for unit in sorted(by_parent.get(parent_id, []), key=lambda u: (u.is_closed(today), sort_key(u.label(today)))):
            rows.append((unit, depth))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return rows


def unit_choices(*, user=None, active_on: date | None = None) -> list[tuple[int, str]]:
    """(id, label) for select boxes, indented by depth; only units valid on ``active_on`` if given."""
    rows = tree_rows(user=user)
    return [
        (unit.id, "\u2003" * depth + unit.label())
        for unit, depth in rows
        if active_on is None or rules.is_active_on(unit.valid_from, unit.valid_to, active_on)
    ]


def ancestor_ids(unit_id: int | None) -> list[int]:
    ids: list[int] = []
    seen: set[int] = set()
    while unit_id is not None and unit_id not in seen:
        seen.add(unit_id)
        ids.append(unit_id)
        unit_id = db.session.scalar(select(Unit.parent_id).where(Unit.id == unit_id))
    return ids


def _validate(unit_id: int | None, values: dict) -> None:
    rules.validate_unit(
        rules.UnitData(values["kind"], values["name"], values.get("short_code"), values.get("valid_from"), values.get("valid_to"))
    )
    rules.check_parent(unit_id, values.get("parent_id"), ancestor_ids(values.get("parent_id")))


def create_unit(actor, **values) -> Unit:
    values = {k: values.get(k) for k in UNIT_FIELDS if k in values}
    _validate(None, values)
    unit = Unit(**values)
    db.session.add(unit)
    db.session.flush()
    record(actor, "unit.create", unit, f"Tạo đơn vị {unit.label()}", unit_id=unit.id)
    return unit


def update_unit(actor, unit: Unit, **values) -> Unit:
    values = {k: values.get(k) for k in UNIT_FIELDS if k in values}
    merged = {k: getattr(unit, k) for k in UNIT_FIELDS} | values
    _validate(unit.id, merged)
    before = {k: getattr(unit, k) for k in values}
    for key, value in values.items():
        setattr(unit, key, value)
    db.session.flush()
    record(actor, "unit.update", unit, f"Sửa đơn vị {unit.label()}", unit_id=unit.id, changes=diff(before, values))
    return unit


def close_unit(actor, unit: Unit, valid_to: date, successor_ids: list[int] | None = None) -> Unit:
    """Close a unit on ``valid_to`` (it stays in history) and optionally link its successors."""
    if unit.valid_from and valid_to < unit.valid_from:
        RuleViolation.single("valid_to", "Ngày kết thúc hiệu lực phải sau ngày bắt đầu.")
    unit.valid_to = valid_to
    db.session.flush()
    record(actor, "unit.close", unit, f"Đóng đơn vị {unit.name} từ {valid_to:%d/%m/%Y}", unit_id=unit.id)
    for successor_id in successor_ids or []:
        link_successor(actor, unit, db.session.get(Unit, successor_id))
    return unit


def successor_closure(unit_id: int) -> list[int]:
    """Every unit reachable through successor links from ``unit_id`` (for loop checks)."""
    seen: list[int] = []
    frontier = [unit_id]
    while frontier:
        current = frontier.pop()
        unit = db.session.get(Unit, current)
        for successor in unit.successors if unit else []:
            if successor.id not in seen:
                seen.append(successor.id)
                frontier.append(successor.id)
    return seen


def link_successor(actor, unit: Unit, successor: Unit | None) -> None:
    if successor is None:
        RuleViolation.single("successor_id", "Không tìm thấy đơn vị kế thừa.")
    rules.check_succession(unit.id, successor.id, successor_closure(successor.id))
    if successor in unit.successors:
        return
    unit.successors.append(successor)
    db.session.flush()
    record(actor, "unit.link_successor", unit, f"{unit.label()} → {successor.label()}", unit_id=unit.id)


def unlink_successor(actor, unit: Unit, successor: Unit) -> None:
    if successor in unit.successors:
        unit.successors.remove(successor)
        db.session.flush()
        record(actor, "unit.unlink_successor", unit, f"Bỏ liên kết {unit.label()} → {successor.label()}", unit_id=unit.id)


# --- signers -------------------------------------------------------------------------------


def _validate_signer(values: dict) -> None:
    errors = RuleViolation()
    if values.get("authority_prefix") and not values.get("on_behalf_title"):
        errors.add("on_behalf_title", "Khi ký thay (KT., TM., …) cần ghi chức danh người đứng đầu, ví dụ GIÁM ĐỐC.")
    if values.get("valid_from") and values.get("valid_to") and values["valid_to"] < values["valid_from"]:
        errors.add("valid_to", "Ngày kết thúc phải sau ngày bắt đầu.")
    errors.raise_if_any()


def create_signer(actor, **values) -> Signer:
    values = {k: values.get(k) for k in SIGNER_FIELDS if k in values}
    values["authority_prefix"] = values.get("authority_prefix") or ""
    _validate_signer(values)
    signer = Signer(**values)
    db.session.add(signer)
    db.session.flush()
    record(actor, "signer.create", signer, f"Thêm người ký {signer.full_name}")
    return signer


def update_signer(actor, signer: Signer, **values) -> Signer:
    values = {k: values.get(k) for k in SIGNER_FIELDS if k in values}
    values["authority_prefix"] = values.get("authority_prefix") or ""
    _validate_signer(values)
    before = {k: getattr(signer, k) for k in values}
    for key, value in values.items():
        setattr(signer, key, value)
    db.session.flush()
    record(actor, "signer.update", signer, f"Sửa người ký {signer.full_name}", changes=diff(before, values))
    return signer


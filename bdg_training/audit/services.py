"""Writing the audit trail. Services call ``record`` for every change a person makes."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from bdg_training.audit.models import AuditEvent
from bdg_training.extensions import db


def record(
    actor,
    action: str,
    obj: Any = None,
    summary: str = "",
    *,
    object_type: str | None = None,
    object_id: Any = None,
    unit_id: int | None = None,
    changes: dict | None = None,
) -> AuditEvent:
    """Add one AuditEvent to the session (the caller commits with the change itself).

    ``obj`` gives the object type (its table name) and id unless they are passed explicitly;
    ``unit_id`` defaults to ``obj.unit_id`` when the object has one.
    """
    if obj is not None:
        object_type = object_type or getattr(obj, "__tablename__", type(obj).__name__)
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
        if unit_id is None:
            unit_id = getattr(obj, "unit_id", None)
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", None) or "hệ thống",
        action=action,
        object_type=object_type or "-",
        object_id=None if object_id is None else str(object_id),
        unit_id=unit_id,
        summary=summary[:2000],
        changes=changes,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Fields whose value changed: {field: [old, new]} (values made JSON-friendly)."""

    def plain(value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return str(value)

    return {key: [plain(before.get(key)), plain(after.get(key))] for key in after if before.get(key) != after.get(key)}

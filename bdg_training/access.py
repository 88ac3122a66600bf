"""Access control, one mechanism for every feature.

- Deny by default: ``require_login`` runs before every request and sends anonymous users to
  the login page unless the view is marked ``@public``.
- ``@roles_required(...)`` checks the role on the server (403 otherwise).
- Unit scope: a staff user sees and changes objects of their unit's subtree only (admins see
  everything). ``scope_filter(column)`` narrows a query; ``ensure_in_scope(unit_id)`` guards a
  single object and answers 404, so another unit's objects are not even confirmed to exist.

The subtree of a unit is the unit, its descendants (closed ones included, so history stays
visible) and, through succession links, the subtrees of the units it replaced: after the 2025
reform xã Cờ Đỏ keeps the records of huyện Cờ Đỏ (cũ).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, request
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, false, select, true

from bdg_training.extensions import db, login_manager

F = TypeVar("F", bound=Callable[..., Any])


def public(view: F) -> F:
    """Mark a view as reachable without login (catalogue, verification, login page)."""
    view._public = True  # type: ignore[attr-defined]
    return view


def is_public_endpoint(endpoint: str | None) -> bool:
    if endpoint is None:
        return True  # no route: let the 404 handler answer
    if endpoint == "static" or endpoint.endswith(".static"):
        return True
    view = current_app.view_functions.get(endpoint)
    return bool(getattr(view, "_public", False))


def require_login():
    """``before_request``: deny by default."""
    if is_public_endpoint(request.endpoint):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow only these roles (the admin always passes)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role != "admin" and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def trainee_required(view: F) -> F:
    """The trainee's own pages: role "trainee" only (an admin has no trainee record to show)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.role != "trainee":
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


admin_required = roles_required("admin")
staff_required = roles_required("organizer", "signer")


# --- unit scope ----------------------------------------------------------------------------


def subtree_select(root_id: int, *, include_predecessors: bool = True) -> Select:
    """SELECT of the ids in the subtree of ``root_id`` (recursive; SQLite and PostgreSQL).

    UNION (not UNION ALL) drops repeats, so even a bad loop in the data terminates.
    """
    from bdg_training.units.models import Unit, unit_successions

    # Edges "child → the unit it belongs to": the parent link, and (optionally) the succession
    # link read backwards, so a successor's subtree takes in its predecessors. One recursive term
    # (PostgreSQL allows only one reference to the CTE in it).
    edges = select(Unit.id.label("child"), Unit.parent_id.label("owner"))
    if include_predecessors:
        edges = edges.union_all(
            select(unit_successions.c.predecessor_id.label("child"), unit_successions.c.successor_id.label("owner"))
        )
    edges = edges.subquery("unit_edges")
    tree = select(Unit.id.label("id")).where(Unit.id == root_id).cte("unit_tree", recursive=True)
    tree = tree.union(select(edges.c.child).join(tree, edges.c.owner == tree.c.id))
    return select(tree.c.id)


def subtree_ids(root_id: int, *, include_predecessors: bool = True) -> set[int]:
    return set(db.session.scalars(subtree_select(root_id, include_predecessors=include_predecessors)))


def _scope_root(user) -> int | None | bool:
    """The unit whose subtree the user sees; ``True`` = everything (admin); ``None`` = nothing."""
    if not user.is_authenticated:
        return None
    if user.role == "admin":
        return True
    if user.role == "trainee":
        return None
    return user.unit_id


def scope_filter(column: ColumnElement, user=None) -> ColumnElement[bool]:
    """A WHERE clause limiting ``column`` (a unit id column) to the user's scope (one subquery)."""
    root = _scope_root(user if user is not None else current_user)
    if root is True:
        return true()
    if root is None:
        return false()
    return column.in_(subtree_select(root))


def scope_unit_ids(user=None) -> set[int] | None:
    """The unit ids the user may see; ``None`` means every unit (admin)."""
    root = _scope_root(user if user is not None else current_user)
    if root is True:
        return None
    return set() if root is None else subtree_ids(root)


def in_scope(unit_id: int | None, user=None) -> bool:
    root = _scope_root(user if user is not None else current_user)
    if root is True:
        return True
    if root is None or unit_id is None:
        return False
    tree = subtree_select(root).subquery()
    return db.session.scalar(select(tree.c.id).where(tree.c.id == unit_id).limit(1)) is not None


def ensure_in_scope(unit_id: int | None, user=None) -> None:
    """404 unless the object's unit is in the user's scope."""
    if not in_scope(unit_id, user):
        abort(404)


def get_scoped_or_404(model, object_id: int, unit_attr: str = "unit_id", user=None):
    """Load one object by id and check its unit is in scope (404 otherwise)."""
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    ensure_in_scope(getattr(obj, unit_attr), user)
    return obj

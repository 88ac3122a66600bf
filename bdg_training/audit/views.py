"""The audit trail, for administrators."""

from __future__ import annotations

from datetime import datetime, time

from flask import Blueprint, render_template, request
from sqlalchemy import select

from bdg_training.access import admin_required
from bdg_training.audit.models import AuditEvent
from bdg_training.clock import local_tz
from bdg_training.extensions import db
from bdg_training.vn import parse_date

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


def _day(value: str | None):
    try:
        return parse_date(value) if value else None
    except ValueError:
        return None


@bp.get("/")
@admin_required
def index():
    args = request.args
    query = select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    if args.get("actor"):
        query = query.where(AuditEvent.actor_name.like(f"%{args['actor'].strip().lower()}%"))
    if args.get("action"):
        query = query.where(AuditEvent.action.like(f"{args['action'].strip()}%"))
    if args.get("object_type"):
        query = query.where(AuditEvent.object_type == args["object_type"].strip())
    if args.get("object_id"):
        query = query.where(AuditEvent.object_id == args["object_id"].strip())
    tz = local_tz()
    if day := _day(args.get("from")):
        query = query.where(AuditEvent.created_at >= datetime.combine(day, time.min, tz))
    if day := _day(args.get("to")):
        query = query.where(AuditEvent.created_at <= datetime.combine(day, time.max, tz))
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("audit/index.html", page=page, args=args)

"""Demo data for certificates (idempotent).

* Issuer settings for Sở Nội vụ ("UBND THÀNH PHỐ CẦN THƠ / SỞ NỘI VỤ", Cần Thơ) and xã Cờ Đỏ
  ("ỦY BAN NHÂN DÂN / XÃ CỜ ĐỎ", Cờ Đỏ).
* In the finished course of xã Cờ Đỏ, certificates for about half of the eligible trainees (the demo
  trainee "hocvien" first, so "Giấy chứng nhận của tôi" has one), issued the day after the course by
  ``nguoiky.codo``, and one of them reissued for an error — so the register book shows numbers, a
  replaced one and its reissue. The other eligible trainees of that course, and the finished course of the
  city (issued by Sở Nội vụ, signer ``nguoiky.snv``), are left for the signer to issue.

Tolerant: a missing unit, user or course (another seeder not installed) just means less demo data.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from bdg_training.certificates import services
from bdg_training.certificates.models import Certificate
from bdg_training.enrollment.models import Trainee
from bdg_training.extensions import db
from bdg_training.rules_base import RuleViolation

log = logging.getLogger(__name__)

ISSUERS = {  # unit key → settings
    "snv": {"governing_body": "UBND THÀNH PHỐ CẦN THƠ", "issuing_body": "SỞ NỘI VỤ", "place_name": "Cần Thơ"},
    "xa:Cờ Đỏ": {"governing_body": "ỦY BAN NHÂN DÂN", "issuing_body": "XÃ CỜ ĐỎ", "place_name": "Cờ Đỏ"},
}
PARTLY_ISSUED = "codo_finished"
ISSUER_LOGIN = "nguoiky.codo"


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=services.local_tz())


def seed(today: date, units: dict, users: dict, courses: dict | None = None) -> dict[str, int]:
    configured = 0
    for key, values in ISSUERS.items():
        unit = units.get(key)
        if unit is None or not unit.short_code:
            continue
        if services.settings_for(unit.id) is None:
            services.save_settings(None, unit, number_pattern="", result_line="", **values)
        configured += 1
    issued = _issue_part(users, (courses or {}).get(PARTLY_ISSUED))
    return {"đơn vị cấp GCN": configured, "giấy chứng nhận": issued}


def _issue_part(users: dict, course) -> int:
    actor = users.get(ISSUER_LOGIN)
    if course is None or actor is None:
        return 0
    if db.session.scalar(select(Certificate.id).where(Certificate.course_id == course.id).limit(1)) is not None:
        return 0
    when = _at(course.end_date + timedelta(days=1), 9)
    eligible = [row for row in services.review(course, today=when.date()) if row.can_issue]
    hocvien = users.get("hocvien")
    own = db.session.scalar(select(Trainee.id).where(Trainee.user_id == hocvien.id)) if hocvien is not None else None
    eligible.sort(key=lambda row: row.trainee.id != own)  # the demo trainee first
    chosen = [row.enrollment.id for row in eligible[: max(1, len(eligible) // 2)]] if eligible else []
    if not chosen:
        return 0
    try:
        certificates = services.issue_selected(actor, course.id, chosen, now=when)
        others = [c for c in certificates if c.trainee_id != own]
        if len(certificates) > 1 and others:
            services.reissue(
                actor,
                others[-1],
                reason="Sai chính tả đơn vị công tác; đã sửa trong hồ sơ học viên",
                now=_at(course.end_date + timedelta(days=3), 10),
            )
    except RuleViolation as exc:  # e.g. the course's signer is not valid on that day: no demo certificates
        log.warning("demo certificates not issued: %s", exc)
        return 0
    db.session.flush()
    return len(certificates) + (1 if len(certificates) > 1 and others else 0)

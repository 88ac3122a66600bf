"""Delivering the outbox: claim due messages, send them, record the outcome.

One pass (:func:`deliver_pass`):

1. **Claim** — in one short transaction, pick due messages (``pending`` with ``next_attempt_at <=
   now``, or ``sending`` whose lease expired), mark them ``sending``, count the attempt, and set
   ``next_attempt_at = now + lease``. On PostgreSQL the SELECT uses ``FOR UPDATE SKIP LOCKED``,
   so several senders (cron + background threads in every worker) never claim the same row; on
   SQLite the transaction begins IMMEDIATE, which serializes claims.
2. **Send** — outside any transaction (a slow mail server never holds a database lock).
3. **Record** — one short transaction per message: ``sent``, or back to ``pending`` with back-off,
   or ``failed``/``dead`` (:func:`rules.after_failure`). A row that is no longer ours (its lease
   expired and someone else claimed it) is left alone.

The pass commits; call it only where a commit is expected (the CLI, the background thread).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import or_, select

from bdg_training.audit.services import record
from bdg_training.database import serialized_writes, utcnow
from bdg_training.extensions import db
from bdg_training.notifications import rules
from bdg_training.notifications.delivery import Attachment, DeliveryError, OutgoingMessage, Sender, backend_name, sender_for
from bdg_training.notifications.models import OutboxMessage
from bdg_training.rules_base import RuleViolation

log = logging.getLogger(__name__)

BATCH_SIZE = 20


@dataclass
class PassResult:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: PassResult) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.dead += other.dead
        self.errors += other.errors

    def summary(self) -> str:
        return f"đã nhận {self.claimed} thư: gửi được {self.sent}, chờ thử lại {self.retrying}, lỗi {self.failed}, hết lượt thử {self.dead}"


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _message_id(row: OutboxMessage) -> str:
    domain = current_app.config.get("BASE_URL", "").split("://")[-1].split("/")[0].split(":")[0] or "localhost"
    return f"<outbox-{row.id}@{domain}>"


def _outgoing(row: OutboxMessage) -> OutgoingMessage:
    return OutgoingMessage(
        id=row.id,
        channel=row.channel,
        to_address=row.to_address,
        to_name=row.to_name,
        subject=row.subject,
        body_text=row.body_text,
        body_html=row.body_html,
        attachments=tuple(Attachment.from_stored(a) for a in row.attachments or []),
        message_id=_message_id(row),
    )


def claim_due(*, now: datetime, limit: int = BATCH_SIZE, lease=rules.CLAIM_LEASE) -> list[tuple[OutgoingMessage, int]]:
    """Claim up to ``limit`` due messages (committed). Returns (message, attempt number) pairs."""
    db.session.commit()  # start from a clean slate: the claim must be its own transaction
    with serialized_writes():
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status.in_((rules.PENDING, rules.SENDING)),
                or_(OutboxMessage.next_attempt_at <= now, OutboxMessage.next_attempt_at.is_(None)),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
        if _is_postgresql():
            query = query.with_for_update(skip_locked=True)
        claimed = []
        for row in db.session.scalars(query).all():
            row.status = rules.SENDING
            row.attempts = (row.attempts or 0) + 1
            row.next_attempt_at = now + lease
            claimed.append((_outgoing(row), row.attempts))
        db.session.commit()
    return claimed


def _record(
    message: OutgoingMessage, attempt: int, *, error: str | None, permanent: bool, via: str, now: datetime, result: PassResult
) -> None:
    with serialized_writes():
        query = select(OutboxMessage).where(OutboxMessage.id == message.id).execution_options(populate_existing=True)
        if _is_postgresql():
            query = query.with_for_update()
        row = db.session.scalar(query)
        if row is None or row.status != rules.SENDING or row.attempts != attempt:
            db.session.rollback()  # someone else owns it now (lease expired and re-claimed)
            return
        if error is None:
            row.status, row.sent_at, row.sent_via, row.next_attempt_at, row.last_error = rules.SENT, now, via, None, None
            result.sent += 1
        else:
            outcome = rules.after_failure(row.attempts, now, permanent=permanent)
            row.status, row.next_attempt_at, row.last_error = outcome.status, outcome.next_attempt_at, rules.short_error(error)
            if outcome.status == rules.PENDING:
                result.retrying += 1
            elif outcome.status == rules.FAILED:
                result.failed += 1
            else:
                result.dead += 1
            result.errors.append(f"#{row.id}: {error}")
        db.session.commit()


def deliver_pass(
    *, now: datetime | None = None, limit: int = BATCH_SIZE, senders: Mapping[str, Sender] | None = None, config: Mapping | None = None
) -> PassResult:
    """Claim one batch of due messages, send them, record the outcomes (commits)."""
    config = config if config is not None else current_app.config
    result = PassResult()
    claimed = claim_due(now=now or utcnow(), limit=limit)
    result.claimed = len(claimed)
    cache: dict[str, Sender] = dict(senders or {})
    for message, attempt in claimed:
        error, permanent = None, False
        try:
            sender = cache.get(message.channel)
            if sender is None:
                sender = cache[message.channel] = sender_for(message.channel, config)
            sender.send(message)
        except DeliveryError as exc:
            error, permanent = str(exc), exc.permanent
        except Exception as exc:  # noqa: BLE001 - whatever a sender raises, the row must record it
            log.exception("outbox: gửi thư #%s lỗi", message.id)
            error = f"{type(exc).__name__}: {exc}"
        try:
            via = backend_name(message.channel, config)
        except DeliveryError:
            via = message.channel
        _record(message, attempt, error=error, permanent=permanent, via=via, now=now or utcnow(), result=result)
    return result


def drain(
    *, now: datetime | None = None, limit: int = BATCH_SIZE, senders: Mapping[str, Sender] | None = None, max_batches: int = 100
) -> PassResult:
    """Passes until nothing due is left (failed messages are rescheduled into the future, so this ends)."""
    total = PassResult()
    for _ in range(max_batches):
        result = deliver_pass(now=now, limit=limit, senders=senders)
        total.add(result)
        if result.claimed < limit:
            break
    return total


def retry_message(actor, message: OutboxMessage, *, now: datetime) -> None:
    """ "Gửi lại ngay": a pending, failed or dead message becomes due now (one more attempt even
    past the limit); audited. Sent and in-flight messages are refused."""
    if not rules.can_retry(message.status):
        RuleViolation.single("", f"Không thể gửi lại thư đang ở trạng thái “{message.status_label}”.")
    before = message.status
    message.status = rules.PENDING
    message.next_attempt_at = now
    db.session.flush()
    record(
        actor,
        "outbox.retry",
        message,
        f"Gửi lại thư #{message.id} ({rules.event_label(message.event)}) tới {message.to_address}",
        changes={"status": [before, rules.PENDING]},
    )
    wake()


# --------------------------------------------------------------------------------------------
# Background sender (OUTBOX_BACKGROUND=1)
# --------------------------------------------------------------------------------------------
_wake_event = threading.Event()
_worker: threading.Thread | None = None
_worker_lock = threading.Lock()
_worker_stop = threading.Event()


def wake() -> None:
    """Ask the background sender (if running in this process) for a pass now."""
    _wake_event.set()


def _loop(app: Flask, interval: float, stop: threading.Event) -> None:
    while not stop.is_set():
        _wake_event.wait(interval)
        _wake_event.clear()
        if stop.is_set():
            return
        with app.app_context():
            try:
                result = drain()
                if result.claimed:
                    log.info("outbox (nền): %s", result.summary())
            except Exception:  # noqa: BLE001 - the thread must survive a database hiccup
                log.exception("outbox (nền): lượt gửi lỗi")
                db.session.rollback()
            finally:
                db.session.remove()


def start_background_sender(app: Flask) -> threading.Thread | None:
    """Start this process's sender thread once (daemon: it dies with the process)."""
    global _worker
    with _worker_lock:
        if _worker is not None and _worker.is_alive():
            return _worker
        interval = max(float(app.config.get("OUTBOX_INTERVAL") or 30), 1.0)
        _worker_stop.clear()
        _worker = threading.Thread(target=_loop, args=(app, interval, _worker_stop), name="outbox-sender", daemon=True)
        _worker.start()
        log.info("outbox: đã khởi động luồng gửi thư nền (mỗi %ss)", interval)
        _wake_event.set()
        return _worker


def stop_background_sender(timeout: float = 10) -> None:
    """Stop this process's sender thread (tests; a server just exits)."""
    global _worker
    with _worker_lock:
        if _worker is None:
            return
        _worker_stop.set()
        _wake_event.set()
        _worker.join(timeout)
        _worker = None


def run_forever(*, interval: float, limit: int = BATCH_SIZE, echo=print) -> None:  # pragma: no cover - loops forever
    """``flask send-outbox --loop``."""
    while True:
        result = drain(limit=limit)
        if result.claimed:
            echo(result.summary())
        db.session.remove()
        time.sleep(interval)

"""CLI: ``flask send-outbox [--loop]`` and ``flask send-reminders [--date dd/mm/yyyy]``.

Cron example (production)::

    * * * * *     cd /srv/bdg && flask send-outbox                     # or `flask send-outbox --loop` as a service
    0 17 * * *    cd /srv/bdg && flask send-reminders --what courses   # the day before, at 17:00
    */15 * * * *  cd /srv/bdg && flask send-reminders --what pretests  # pre-tests whose window opened
"""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask

from bdg_training.database import utcnow
from bdg_training.extensions import db


def init_app(app: Flask) -> None:
    app.cli.add_command(send_outbox)
    app.cli.add_command(send_reminders)


@click.command("send-outbox")
@click.option("--loop", is_flag=True, help="Chạy liên tục, mỗi --interval giây một lượt.")
@click.option("--interval", type=float, default=30.0, show_default=True, help="Số giây giữa hai lượt (với --loop).")
@click.option("--limit", type=int, default=20, show_default=True, help="Số thư nhận mỗi lô.")
def send_outbox(loop: bool, interval: float, limit: int) -> None:
    """Send the due messages of the outbox (one pass; retries with back-off, dead letters)."""
    from bdg_training.notifications import outbox

    if loop:  # pragma: no cover - runs until stopped
        click.echo(f"Đang gửi thư liên tục (mỗi {interval:g} giây); Ctrl+C để dừng.")
        outbox.run_forever(interval=interval, limit=limit, echo=click.echo)
        return
    result = outbox.drain(limit=limit)
    click.echo("Hộp thư đi: " + result.summary())
    for error in result.errors[:20]:
        click.echo("  " + error, err=True)


@click.command("send-reminders")
@click.option("--date", "day", default=None, help="Ngày khai giảng của các lớp cần nhắc (dd/mm/yyyy); mặc định: ngày mai.")
@click.option(
    "--what",
    type=click.Choice(["all", "courses", "pretests"]),
    default="all",
    show_default=True,
    help="courses: nhắc lịch lớp khai giảng ngày mai; pretests: báo bài kiểm tra đầu vào vừa mở.",
)
def send_reminders(day: str | None, what: str) -> None:
    """Queue reminder mails (idempotent: running it again queues nothing new); send-outbox sends them.

    - courses: every confirmed trainee of courses starting tomorrow, with the sessions and an .ics;
    - pretests: every confirmed trainee of a course whose pre-test window is open (a window that
      opened by itself; saving an open pre-test notifies at once).
    """
    from bdg_training.courses.services import local_today
    from bdg_training.database import serialized_writes
    from bdg_training.notifications import services
    from bdg_training.vn import parse_date

    now = utcnow()
    try:
        start_day = parse_date(day) if day else local_today(now) + timedelta(days=1)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--date") from None
    with serialized_writes():
        if what in ("all", "courses"):
            count = services.queue_course_reminders(start_day=start_day, now=now)
            click.echo(f"Đã xếp {count} thư nhắc lịch cho các lớp khai giảng ngày {start_day:%d/%m/%Y}.")
        if what in ("all", "pretests"):
            count = services.queue_open_pretests(now=now)
            click.echo(f"Đã xếp {count} thư báo mở bài kiểm tra đầu vào.")
        db.session.commit()

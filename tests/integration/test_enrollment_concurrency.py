"""The seat check and the insert cannot overbook: 50 parallel registrations for 10 free seats."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from bdg_training.database import serialized_writes, utcnow
from bdg_training.enrollment import services
from bdg_training.enrollment.models import Enrollment, Trainee
from bdg_training.extensions import db
from tests.conftest import fresh

PARALLEL = 50
SEATS = 10


@pytest.mark.both_dbs
def test_50_parallel_registrations_for_10_free_seats(app, make, backend):
    course = make.course(status="open", capacity=SEATS + 2)
    # Two seats already taken, so exactly SEATS are free.
    make.enrollment(course, make.trainee("Lê Văn Một", sex="nam"))
    make.enrollment(course, make.trainee("Lê Văn Hai", sex="nam"))
    trainee_ids = [make.trainee(f"Nguyễn Thị Người{i}", commit=False).id for i in range(PARALLEL)]
    db.session.commit()
    course_id = course.id
    db.session.close()

    barrier = threading.Barrier(PARALLEL)
    errors: list[BaseException] = []

    def register(trainee_id: int) -> None:
        with app.app_context(), serialized_writes():
            try:
                barrier.wait(timeout=30)
                trainee = db.session.get(Trainee, trainee_id)
                services.register(None, course_id, trainee, now=utcnow())
                db.session.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=register, args=(tid,)) for tid in trainee_ids]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.perf_counter() - started

    assert errors == []
    fresh()
    rows = db.session.scalars(select(Enrollment).where(Enrollment.course_id == course_id, Enrollment.trainee_id.in_(trainee_ids))).all()
    confirmed = [e for e in rows if e.status == "confirmed"]
    waitlisted = [e for e in rows if e.status == "waitlisted"]
    print(f"\n[{backend}] {PARALLEL} parallel registrations, {SEATS} free seats: {len(confirmed)} confirmed, {len(waitlisted)} waitlisted in {elapsed:.2f} s")
    assert len(confirmed) == SEATS
    assert len(waitlisted) == PARALLEL - SEATS
    assert sorted(e.waitlist_position for e in waitlisted) == list(range(1, PARALLEL - SEATS + 1))
    total_confirmed = db.session.scalar(select(db.func.count(Enrollment.id)).where(Enrollment.course_id == course_id, Enrollment.status == "confirmed"))
    assert total_confirmed == SEATS + 2  # the capacity, never more

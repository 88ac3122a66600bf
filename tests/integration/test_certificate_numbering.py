"""Register numbers: a counter per (issuer, year), bumped inside the issuing transaction — distinct, gapless,
never reused, also under 100 parallel issues (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bdg_training.certificates import services
from bdg_training.certificates.models import Certificate, CertificateCounter
from bdg_training.database import serialized_writes, utcnow
from bdg_training.extensions import db


@pytest.mark.both_dbs
def test_100_parallel_issues_get_100_distinct_gapless_numbers(app, make):
    people = [{"name": f"Nguyễn Thị Học Viên{i:03d}"} for i in range(100)]
    world = make.certificate_class(people, sessions=1)
    actor = make.user("signer", unit=world["issuer"])
    who = SimpleNamespace(id=actor.id, username=actor.username)  # plain data: safe to share between threads
    ids = [e.id for e in world["enrollments"]]
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []
    now = utcnow()

    def issue(enrollment_id: int) -> None:
        with app.app_context(), serialized_writes():
            try:
                barrier.wait(timeout=30)
                services.issue_one(who, enrollment_id, now=now)
                db.session.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                db.session.rollback()
                errors.append(exc)

    threads = [threading.Thread(target=issue, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    db.session.rollback()
    certificates = db.session.scalars(select(Certificate)).all()
    year = services.local_date(now).year
    assert sorted(c.sequence for c in certificates) == list(range(1, 101))
    assert len({c.number for c in certificates}) == 100
    assert {c.number for c in certificates} == {f"{n:02d}/{year}/GCN-SNV" for n in range(1, 101)}
    assert sorted(c.enrollment_id for c in certificates) == sorted(ids)  # one each, none twice
    assert len({c.verify_code for c in certificates}) == 100
    counter = db.session.get(CertificateCounter, (world["issuer"].id, year))
    assert counter.last_seq == 100


@pytest.mark.both_dbs
def test_parallel_issues_of_the_same_trainee_give_one_certificate(app, make):
    world = make.certificate_class([{"name": "Phạm Thị Lan"}])
    actor = make.user("signer", unit=world["issuer"])
    who = SimpleNamespace(id=actor.id, username=actor.username)
    enrollment_id = world["enrollments"][0].id
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def issue() -> None:
        with app.app_context(), serialized_writes():
            try:
                barrier.wait(timeout=30)
                services.issue_one(who, enrollment_id, now=utcnow())
                db.session.commit()
                outcomes.append("issued")
            except Exception as exc:  # noqa: BLE001
                db.session.rollback()
                outcomes.append(str(exc))

    threads = [threading.Thread(target=issue) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("issued") == 1
    assert all("Đã có giấy chứng nhận còn hiệu lực" in o for o in outcomes if o != "issued")
    db.session.rollback()
    assert [c.sequence for c in db.session.scalars(select(Certificate))] == [1]


@pytest.mark.both_dbs
def test_a_rolled_back_issue_gives_its_number_back(app, make):
    world = make.certificate_class()
    actor = make.user("signer", unit=world["issuer"])
    first, second, third = world["enrollments"]
    with serialized_writes():
        services.issue_one(actor, first.id, now=utcnow())
        db.session.commit()
        services.issue_one(actor, second.id, now=utcnow())
        db.session.rollback()  # e.g. the request failed after numbering
        services.issue_one(actor, third.id, now=utcnow())
        db.session.commit()
    numbers = db.session.scalars(select(Certificate.sequence).order_by(Certificate.sequence)).all()
    assert numbers == [1, 2]


@pytest.mark.both_dbs
def test_counters_are_per_issuer_and_year(app, make):
    snv = make.issuer()
    other = make.issuer(make.unit("Cờ Đỏ", kind="xa", commit=False), short_code="CĐ", issuing_body="UBND XÃ CỜ ĐỎ")
    with serialized_writes():
        assert services.allocate_sequences(snv.unit_id, 2026) == 1
        assert services.allocate_sequences(snv.unit_id, 2026, 3) == 2
        assert services.allocate_sequences(snv.unit_id, 2027) == 1
        assert services.allocate_sequences(other.unit_id, 2026) == 1
        assert services.allocate_sequences(snv.unit_id, 2026) == 5
        db.session.commit()
    assert db.session.get(CertificateCounter, (snv.unit_id, 2026)).last_seq == 5


def test_issue_all_numbers_in_class_list_order_with_one_pattern(app, make):
    settings = make.issuer(number_pattern="{seq:03d}/GCN-{short_code}/{year}")
    world = make.certificate_class(
        [{"name": "Võ Văn Tú", "sex": "nam"}, {"name": "Lê Thị An"}, {"name": "Trần Minh Bảo", "sex": "nam"}], settings=settings
    )
    actor = make.user("signer", unit=world["issuer"])
    certificates = services.issue_all(actor, world["course"].id, now=utcnow())
    db.session.commit()
    year = services.local_date(utcnow()).year
    # tên → tên đệm → họ: An, Bảo, Tú
    assert [(c.holder_name, c.number) for c in certificates] == [
        ("Lê Thị An", f"001/GCN-SNV/{year}"),
        ("Trần Minh Bảo", f"002/GCN-SNV/{year}"),
        ("Võ Văn Tú", f"003/GCN-SNV/{year}"),
    ]

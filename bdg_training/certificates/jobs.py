"""Background printing of many certificates (a class of 500 must not tie up a request).

A :class:`~bdg_training.certificates.models.CertificateJob` row is the whole state: which certificates,
progress, and the results (merged PDF and ZIP, stored in the database so any app server can serve them).
:func:`start` runs it

* synchronously when ``CERTIFICATE_JOBS_SYNC`` is set (tests);
* on an RQ queue (``certificates``) when ``REDIS_URL`` is configured and ``rq`` is importable — run a worker
  with ``rq worker certificates --url $REDIS_URL``;
* otherwise in a thread of this process (a ``ThreadPoolExecutor`` started on first use), which works with the
  default setup and needs nothing else.

The job reads the snapshots from the database in its own app context, renders them with
``certificates.render.render_batch`` (chunks of ≤ 50 pages, up to ``CERTIFICATE_RENDER_WORKERS`` processes) and
writes its progress after every chunk, each write in its own short transaction so that nothing stays locked
while it renders.
"""

from __future__ import annotations

import logging
import threading
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from io import BytesIO

from flask import Flask, current_app
from sqlalchemy import select, update

from bdg_training.certificates import services
from bdg_training.certificates.models import Certificate, CertificateJob, CertificateTemplate
from bdg_training.database import serialized_writes, utcnow
from bdg_training.extensions import db

log = logging.getLogger(__name__)

QUEUE_NAME = "certificates"
_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            # One job at a time per process: each job already renders with up to two worker processes.
            _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bdg-certificate-job")
        return _EXECUTOR


def backend(app: Flask) -> str:
    """Where jobs run: "sync", "rq" or "thread"."""
    if app.config.get("CERTIFICATE_JOBS_SYNC"):
        return "sync"
    if app.config.get("REDIS_URL"):
        try:
            import rq  # noqa: F401
        except ImportError:
            return "thread"
        return "rq"
    return "thread"


def start(job_id: int, app: Flask | None = None) -> Future | None:
    """Run a committed job in the configured backend. Returns the thread's future (thread backend)."""
    app = app or current_app._get_current_object()
    kind = backend(app)
    if kind != "rq":
        # End the caller's transaction (already committed): on SQLite an open writing transaction of the
        # request would keep the job, which writes from its own session, waiting for the lock.
        db.session.commit()
    if kind == "sync":
        run(app, job_id)
        return None
    if kind == "rq":
        from redis import Redis
        from rq import Queue

        Queue(QUEUE_NAME, connection=Redis.from_url(app.config["REDIS_URL"])).enqueue(
            "bdg_training.certificates.jobs.run_rq", job_id, job_timeout=3600
        )
        return None
    return _executor().submit(run, app, job_id)


def run_rq(job_id: int) -> None:  # pragma: no cover - runs in an RQ worker process
    from bdg_training import create_app
    from bdg_training.certificates import render

    render.start_pool()  # idempotent: the render processes start (warm) once per worker process
    run(create_app(), job_id)


def _write(job_id: int, **values) -> None:
    """One short writing transaction (BEGIN IMMEDIATE on SQLite) for the job row."""
    with serialized_writes():
        db.session.execute(update(CertificateJob).where(CertificateJob.id == job_id).values(updated_at=utcnow(), **values))
        db.session.commit()


def run(app: Flask, job_id: int) -> None:
    """Render the job's certificates and store the merged PDF and the ZIP. Never raises: a failure is
    recorded on the job (status "failed", with the message) for the page to show."""
    with app.app_context():
        try:
            job = db.session.get(CertificateJob, job_id)
            if job is None or job.status not in ("queued", "running"):
                return
            ids = list(job.certificate_ids)
            certificates = db.session.scalars(select(Certificate).where(Certificate.id.in_(ids))).all()
            order = {cid: i for i, cid in enumerate(ids)}
            certificates = sorted(certificates, key=lambda c: order[c.id])
            templates = {
                t.id: t
                for t in db.session.scalars(
                    select(CertificateTemplate).where(
                        CertificateTemplate.id.in_({c.template_version_id for c in certificates if c.template_version_id})
                    )
                )
            }
            items = [(services.print_snapshot(c), templates.get(c.template_version_id)) for c in certificates]
            db.session.commit()  # end the read transaction before the long render
            if not items:
                raise ValueError("không còn giấy chứng nhận nào để in")
            _write(job_id, status="running", started_at=utcnow(), done=0, total=len(items), error=None)

            def progress(done: int, total: int) -> None:
                _write(job_id, done=min(done, len(items)))

            merged, zipped = render_items(
                items,
                on_progress=progress,
                chunk_size=app.config.get("CERTIFICATE_CHUNK_SIZE", 50),
                workers=app.config.get("CERTIFICATE_RENDER_WORKERS", 2),
            )
            _write(job_id, status="done", done=len(items), merged_pdf=merged, zip_bytes=zipped, finished_at=utcnow())
        except Exception as exc:  # noqa: BLE001 - any failure is reported on the job page
            log.exception("certificate job %s failed", job_id)
            db.session.rollback()
            try:
                _write(job_id, status="failed", error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=utcnow())
            except Exception:  # noqa: BLE001 - the database itself is gone: nothing more to do
                log.exception("could not record the failure of certificate job %s", job_id)
                db.session.rollback()
        finally:
            db.session.remove()


def render_items(
    items: Sequence[tuple[dict, CertificateTemplate | None]],
    *,
    on_progress: Callable[[int, int], None] | None = None,
    chunk_size: int = 50,
    workers: int = 2,
) -> tuple[bytes, bytes]:
    """(merged PDF, ZIP) of snapshots that may use different template versions: each run of consecutive
    certificates with the same template is one ``render_batch``; the runs are then joined in order."""
    from bdg_training.certificates import render

    runs: list[tuple[CertificateTemplate | None, list[dict]]] = []
    for snapshot, template in items:
        if runs and (runs[-1][0].id if runs[-1][0] else None) == (template.id if template else None):
            runs[-1][1].append(snapshot)
        else:
            runs.append((template, [snapshot]))
    total = len(items)
    offset = 0
    results = []
    for template, snapshots in runs:
        base = offset

        def progress(done: int, _total: int, base: int = base) -> None:
            if on_progress is not None and base + done < total:
                on_progress(base + done, total)

        results.append(
            render.render_batch(
                snapshots,
                chunk_size=chunk_size,
                workers=workers,
                on_progress=progress,
                template_source=template.html if template else None,
                css=(template.css or None) if template else None,
            )
        )
        offset += len(snapshots)
    if len(results) == 1:
        return results[0].merged_pdf, results[0].zip_bytes
    return _join_pdfs([r.merged_pdf for r in results]), _join_zips([r.zip_bytes for r in results])


def _join_pdfs(documents: Sequence[bytes]) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for document in documents:
        for page in PdfReader(BytesIO(document)).pages:
            writer.add_page(page)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _join_zips(archives: Sequence[bytes]) -> bytes:
    buffer = BytesIO()
    seen: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as out:
        for archive in archives:
            with zipfile.ZipFile(BytesIO(archive)) as source:
                for name in source.namelist():
                    unique, n = name, 1
                    while unique in seen:
                        n += 1
                        unique = f"{name[:-4]}_{n}.pdf"
                    seen.add(unique)
                    out.writestr(unique, source.read(name))
    return buffer.getvalue()

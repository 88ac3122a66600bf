"""Certificates on the web: review and issue, print jobs and downloads, the PDF as issued, verification,
lifecycle, register book, scope, a trainee's own certificates, the template editor."""

from __future__ import annotations

import json
import re
import time
import zipfile
from datetime import date
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from bdg_training.certificates.models import Certificate, CertificateJob, CertificateTemplate
from bdg_training.extensions import db
from tests.conftest import csrf_token, fresh, login


@pytest.fixture(autouse=True)
def sync_jobs(app, monkeypatch):
    """Print jobs run inside the request (a thread left running would outlive its test's data); one test
    below switches the thread back on and waits for it."""
    monkeypatch.setitem(app.config, "CERTIFICATE_JOBS_SYNC", True)


def pdf_text(data: bytes) -> str:
    assert data[:5] == b"%PDF-"
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def _world(make, people=None, **values):
    world = make.certificate_class(people, **values)
    world["signer_user"] = make.user("signer", unit=world["issuer"])
    return world


def _issue_all(client, world) -> CertificateJob:
    response = client.post(f"/certificates/courses/{world['course'].id}/issue")
    assert response.status_code == 302 and "/certificates/jobs/" in response.headers["Location"]
    fresh()
    return db.session.scalar(select(CertificateJob).order_by(CertificateJob.id.desc()))


def _certificates():
    fresh()
    return db.session.scalars(select(Certificate).order_by(Certificate.sequence)).all()


# --------------------------------------------------------------------------------------------
# Review, issue, print
# --------------------------------------------------------------------------------------------
def test_review_page_shows_each_failed_reason_and_the_override(client, make):
    world = _world(make, [{"name": "Nguyễn Thị Đủ"}, {"name": "Trần Văn Vắng", "sex": "nam", "attended": 1, "score": "4.5"}])
    login(client, world["signer_user"])
    html = client.get(f"/certificates/courses/{world['course'].id}").get_data(as_text=True)
    assert "Chuyên cần 25% &lt; 80% yêu cầu (1/4 buổi)" in html
    assert "Điểm kiểm tra sau 4,50 &lt; 5,00" in html
    assert "Cấp cho tất cả học viên đủ điều kiện (1)" in html
    absent = world["enrollments"][1]
    response = client.post(f"/certificates/enrollments/{absent.id}/override", data={"reason": ""})
    assert "Trường này là bắt buộc." in response.get_data(as_text=True)
    response = client.post(f"/certificates/enrollments/{absent.id}/override", data={"reason": "Ốm có giấy xác nhận, đã học bù"})
    assert response.status_code == 302
    html = client.get(f"/certificates/courses/{world['course'].id}").get_data(as_text=True)
    assert "Xét đặc cách:" in html and "Ốm có giấy xác nhận, đã học bù" in html
    assert "Cấp cho tất cả học viên đủ điều kiện (2)" in html


def test_signer_issues_all_and_downloads_the_merged_pdf_and_the_zip(client, make):
    world = _world(make)
    login(client, world["signer_user"])
    job = _issue_all(client, world)
    assert job.status == "done" and (job.done, job.total) == (3, 3)
    page = client.get(f"/certificates/jobs/{job.id}").get_data(as_text=True)
    assert "Tải PDF gộp để in (3 trang)" in page
    state = client.get(f"/certificates/jobs/{job.id}.json").get_json()
    assert state["status"] == "done" and state["percent"] == 100
    merged = client.get(state["downloads"]["pdf"])
    assert merged.status_code == 200 and merged.mimetype == "application/pdf"
    assert len(PdfReader(BytesIO(merged.data)).pages) == 3
    archive = zipfile.ZipFile(BytesIO(client.get(state["downloads"]["zip"]).data))
    names = archive.namelist()
    assert len(names) == 3
    certificates = _certificates()
    for certificate in certificates:
        member = next(n for n in names if n.startswith(re.sub(r"[^A-Za-z0-9-]+", "-", certificate.number)))
        text = pdf_text(archive.read(member))
        assert certificate.snapshot["full_name"] in text and certificate.number in text
    # The progress page's script is a static file, not inline.
    assert '<script src="/static/js/certificate-job.js"></script>' in page
    assert "<script>" not in page


def test_the_issued_pdf_contains_the_exact_name_number_and_title(client, make):
    import unicodedata

    name = "Nguyễn Thị Ẫặữự Đoàn"
    decomposed = unicodedata.normalize("NFD", name)  # e.g. imported from a legacy file without the form's cleaning
    assert decomposed != name
    world = _world(make, [{"name": decomposed}], title="Tập huấn Luật Bình đẳng giới")
    login(client, world["signer_user"])
    client.post(f"/certificates/enrollments/{world['enrollments'][0].id}/issue")
    certificate = _certificates()[0]
    assert certificate.snapshot["full_name"] == name
    response = client.get(f"/certificates/{certificate.id}/pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert name in text
    assert f"Số: {certificate.number}" in text
    assert "Tập huấn Luật Bình đẳng giới" in text
    assert certificate.verify_code in text


def test_an_issued_pdf_does_not_change_when_person_course_or_template_change(client, make):
    world = _world(make, [{"name": "Lâm Thị Cố Định"}], title="Lớp gốc về bình đẳng giới")
    admin = make.user("admin", unit=world["issuer"])
    login(client, world["signer_user"])
    client.post(f"/certificates/enrollments/{world['enrollments'][0].id}/issue")
    certificate = _certificates()[0]
    before = pdf_text(client.get(f"/certificates/{certificate.id}/pdf").data)
    # Edit the trainee, the course and the issuer's template (a new version becomes active).
    trainee = certificate.trainee
    trainee.full_name, trainee.given_name = "Lâm Thị Đã Đổi", "Đổi"
    world["course"].title = "Tiêu đề đã sửa"
    db.session.commit()
    login(client, admin)
    response = client.post(
        f"/certificates/issuers/{world['issuer'].id}/template",
        data={"html": "<h1>MẪU MỚI {{ c.full_name }}</h1><p>{{ c.number_line }}</p>", "css": "h1 { font-size: 30pt; }", "note": "Thử"},
    )
    assert response.status_code == 302
    fresh()
    assert db.session.scalar(select(CertificateTemplate.version)) == 1
    after = pdf_text(client.get(f"/certificates/{certificate.id}/pdf").data)
    assert after == before
    assert "Lâm Thị Cố Định" in after and "Lớp gốc về bình đẳng giới" in after and "MẪU MỚI" not in after


def test_a_template_version_prints_its_certificates_and_new_issues_use_the_new_version(client, make):
    world = _world(make, [{"name": "Mai Thị Một"}, {"name": "Mai Thị Hai"}])
    admin = make.user("admin", unit=world["issuer"])
    login(client, admin)
    client.post(
        f"/certificates/issuers/{world['issuer'].id}/template",
        data={"html": "<h1>PHIÊN BẢN MỘT</h1><p>{{ c.full_name }} {{ c.number_line }}</p>", "css": ""},
    )
    login(client, world["signer_user"])
    client.post(f"/certificates/enrollments/{world['enrollments'][0].id}/issue")
    certificate = _certificates()[0]
    assert certificate.template_version.version == 1
    text = pdf_text(client.get(f"/certificates/{certificate.id}/pdf").data)
    assert "PHIÊN BẢN MỘT" in text and "Mai Thị Một" in text


def test_the_background_thread_finishes_the_job(client, make, app, monkeypatch):
    from bdg_training.certificates import jobs

    monkeypatch.setitem(app.config, "CERTIFICATE_JOBS_SYNC", False)
    assert jobs.backend(app) == "thread"
    world = _world(make)
    login(client, world["signer_user"])
    job = _issue_all(client, world)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = client.get(f"/certificates/jobs/{job.id}.json").get_json()
        if state["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert state["status"] == "done", state
    assert client.get(state["downloads"]["zip"]).status_code == 200


def test_a_failed_job_shows_an_error_and_can_be_retried(client, make, monkeypatch):
    from bdg_training.certificates import jobs

    world = _world(make)
    login(client, world["signer_user"])

    def broken(*args, **kwargs):
        raise RuntimeError("máy in hỏng")

    monkeypatch.setattr(jobs, "render_items", broken)
    job = _issue_all(client, world)
    assert job.status == "failed" and "máy in hỏng" in job.error
    html = client.get(f"/certificates/jobs/{job.id}").get_data(as_text=True)
    assert "Không tạo được tệp in" in html and "máy in hỏng" not in html
    assert client.get(f"/certificates/jobs/{job.id}/giay-chung-nhan.pdf").status_code == 404
    monkeypatch.undo()
    monkeypatch.setitem(client.application.config, "CERTIFICATE_JOBS_SYNC", True)
    client.post(f"/certificates/jobs/{job.id}/retry")
    fresh()
    assert db.session.get(CertificateJob, job.id).status == "done"


def test_a_job_left_running_by_a_dead_process_can_be_started_again(client, make):
    from datetime import timedelta

    from bdg_training.certificates import services
    from bdg_training.database import utcnow

    world = _world(make)
    login(client, world["signer_user"])
    client.post(f"/certificates/courses/{world['course'].id}/issue")
    fresh()
    ids = [c.id for c in _certificates()]
    job = services.create_job(world["signer_user"], world["course"], ids)
    job.status, job.done = "running", 1
    db.session.commit()
    assert "Chạy lại" not in client.get(f"/certificates/jobs/{job.id}").get_data(as_text=True)
    assert client.post(f"/certificates/jobs/{job.id}/retry").status_code == 302
    fresh()
    assert db.session.get(CertificateJob, job.id).status == "running"  # a live job is not started twice
    db.session.get(CertificateJob, job.id).updated_at = utcnow() - timedelta(minutes=30)
    db.session.commit()
    assert "Chạy lại" in client.get(f"/certificates/jobs/{job.id}").get_data(as_text=True)
    client.post(f"/certificates/jobs/{job.id}/retry")
    fresh()
    assert db.session.get(CertificateJob, job.id).status == "done"


# --------------------------------------------------------------------------------------------
# Verification (public)
# --------------------------------------------------------------------------------------------
def test_verify_page_states_and_no_personal_data(client, make):
    world = _world(
        make,
        [
            {"name": "Trương Thị Hợp Lệ", "birth_date": date(1985, 2, 5), "personal_id": "092185000123"},
            {"name": "Đinh Văn Thu Hồi", "sex": "nam"},
            {"name": "Quách Thị Thay Thế"},
        ],
    )
    login(client, world["signer_user"])
    client.post(f"/certificates/courses/{world['course'].id}/issue")
    by_name = {c.holder_name: c for c in _certificates()}
    valid, revoked, replaced = by_name["Trương Thị Hợp Lệ"], by_name["Đinh Văn Thu Hồi"], by_name["Quách Thị Thay Thế"]
    assert client.post(f"/certificates/{revoked.id}/revoke", data={"reason": "fraud"}).status_code == 302
    assert client.post(f"/certificates/{replaced.id}/reissue", data={"reason": "Sai tên lớp"}).status_code == 302
    fresh()
    successor = db.session.scalar(select(Certificate).where(Certificate.replaces_id == replaced.id))
    anonymous = client.application.test_client()

    html = anonymous.get(f"/verify/{valid.verify_code}").get_data(as_text=True)
    assert "Giấy chứng nhận hợp lệ" in html and "Trương Thị Hợp Lệ" in html and valid.number in html
    assert world["course"].title in html and "SỞ NỘI VỤ" in html
    assert "05/02/1985" not in html and "1985" not in html and "092185000123" not in html and "0123" not in html

    html = anonymous.get(f"/verify/{revoked.verify_code}").get_data(as_text=True)
    assert "đã bị thu hồi" in html and revoked.revoked_at.strftime("%Y") in html

    response = anonymous.get(f"/verify/{replaced.verify_code}")
    html = response.get_data(as_text=True)
    assert "đã được thay thế" in html and f'href="/verify/{successor.verify_code}"' in html and successor.number in html

    response = anonymous.get("/verify/MaKhongTonTai123456")
    assert response.status_code == 404 and "Không tìm thấy giấy chứng nhận" in response.get_data(as_text=True)
    assert anonymous.get("/verify/%3Cscript%3E").status_code == 404

    data = anonymous.get(f"/verify/{valid.verify_code}.json").get_json()
    assert data["status"] == "valid" and data["holder"] == "Trương Thị Hợp Lệ" and data["number"] == valid.number
    assert "1985" not in json.dumps(data) and "092185000123" not in json.dumps(data)
    data = anonymous.get(f"/verify/{replaced.verify_code}.json").get_json()
    assert data["status"] == "replaced" and data["replaced_by"]["number"] == successor.number
    assert anonymous.get(f"/verify/{revoked.verify_code}.json").get_json()["status"] == "revoked"
    response = anonymous.get("/verify/MaKhongTonTai123456.json")
    assert response.status_code == 404 and response.get_json() == {"status": "unknown"}


def test_verify_form_redirects_to_the_code_and_qr_url_matches(client, make):
    world = _world(make, [{"name": "Kiều Thị Quét"}])
    login(client, world["signer_user"])
    client.post(f"/certificates/enrollments/{world['enrollments'][0].id}/issue")
    certificate = _certificates()[0]
    anonymous = client.application.test_client()
    assert "Mã xác thực" in anonymous.get("/verify/").get_data(as_text=True)
    response = anonymous.get("/verify/", query_string={"code": f"  {certificate.verify_code} "})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/verify/{certificate.verify_code}")
    assert certificate.snapshot["verify_url"] == f"{client.application.config['BASE_URL']}/verify/{certificate.verify_code}"


def test_verify_is_rate_limited(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "CERTIFICATE_VERIFY_LIMIT", "3 per minute")
    codes = [client.get(f"/verify/MaKhongTonTai00000{i}").status_code for i in range(3)]
    assert codes == [404, 404, 404]
    assert client.get("/verify/MaKhongTonTai000009.json").status_code == 429


# --------------------------------------------------------------------------------------------
# Lifecycle on the web
# --------------------------------------------------------------------------------------------
def test_revoke_reissue_duplicate_pages(client, make):
    world = _world(make, [{"name": "Tô Thị Một"}, {"name": "Tô Thị Hai"}])
    login(client, world["signer_user"])
    client.post(f"/certificates/courses/{world['course'].id}/issue")
    first, second = _certificates()
    html = client.get(f"/certificates/{first.id}/revoke").get_data(as_text=True)
    assert "Lý do thu hồi" in html and "data-confirm" in html
    response = client.post(f"/certificates/{first.id}/revoke", data={"reason": "other", "note": ""})
    assert "Vui lòng ghi rõ lý do thu hồi khác." in response.get_data(as_text=True)
    client.post(f"/certificates/{first.id}/revoke", data={"reason": "other", "note": "Trùng hồ sơ"})
    response = client.post(f"/certificates/{second.id}/duplicate", data={"note": "Mất do thiên tai"})
    assert response.status_code == 302
    fresh()
    copy = db.session.scalar(select(Certificate).where(Certificate.kind == "duplicate"))
    html = client.get(f"/certificates/{copy.id}").get_data(as_text=True)
    assert "Bản sao do mất/hỏng" in html and second.number in html
    text = pdf_text(client.get(f"/certificates/{copy.id}/pdf").data)
    assert "BẢN SAO" in text and second.holder_name in text
    # A revoked certificate prints with its marker, and cannot be changed any more
    assert "ĐÃ THU HỒI" in pdf_text(client.get(f"/certificates/{first.id}/pdf").data)
    response = client.post(f"/certificates/{first.id}/reissue", data={"reason": "Sai"})
    assert response.status_code == 302
    fresh()
    assert db.session.scalar(select(db.func.count(Certificate.id))) == 3


def test_organizer_reviews_but_cannot_issue_or_revoke(client, make):
    world = _world(make)
    login(client, world["signer_user"])
    client.post(f"/certificates/enrollments/{world['enrollments'][0].id}/issue")
    certificate = _certificates()[0]
    login(client, make.user("organizer", unit=world["issuer"]))
    assert client.get(f"/certificates/courses/{world['course'].id}").status_code == 200
    assert client.get(f"/certificates/register/{world['issuer'].id}/{certificate.year}").status_code == 200
    assert client.post(f"/certificates/courses/{world['course'].id}/issue").status_code == 403
    assert client.post(f"/certificates/enrollments/{world['enrollments'][1].id}/issue").status_code == 403
    assert client.post(f"/certificates/{certificate.id}/revoke", data={"reason": "fraud"}).status_code == 403
    assert client.get(f"/certificates/issuers/{world['issuer'].id}/template").status_code == 403
    fresh()
    assert db.session.scalar(select(db.func.count(Certificate.id))) == 1


# --------------------------------------------------------------------------------------------
# Scope
# --------------------------------------------------------------------------------------------
def test_signer_of_vinh_thanh_cannot_see_or_issue_co_do_certificates(client, make):
    t = make.reform_tree()
    codo = make.issuer(
        t["x_codo"], short_code="CĐ", governing_body="UBND THÀNH PHỐ CẦN THƠ", issuing_body="UBND XÃ CỜ ĐỎ", place_name="Cờ Đỏ"
    )
    world = make.certificate_class(settings=codo)
    codo_signer = make.user("signer", unit=t["x_codo"])
    login(client, codo_signer)
    client.post(f"/certificates/courses/{world['course'].id}/issue")
    certificates = _certificates()
    first = certificates[0]
    job = db.session.scalar(select(CertificateJob))
    assert first.number.endswith("/GCN-CĐ")

    vt_signer = make.user("signer", unit=t["x_vt"])
    login(client, vt_signer)
    urls = [
        f"/certificates/courses/{world['course'].id}",
        f"/certificates/{first.id}",
        f"/certificates/{first.id}/pdf",
        f"/certificates/{first.id}/revoke",
        f"/certificates/enrollments/{world['enrollments'][0].id}/override",
        f"/certificates/jobs/{job.id}",
        f"/certificates/jobs/{job.id}.json",
        f"/certificates/jobs/{job.id}/giay-chung-nhan.pdf",
        f"/certificates/jobs/{job.id}/giay-chung-nhan.zip",
        f"/certificates/register/{t['x_codo'].id}/{first.year}",
        f"/certificates/register/{t['x_codo'].id}/{first.year}.xlsx",
        f"/certificates/register/{t['x_codo'].id}/{first.year}.pdf",
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    posts = [
        f"/certificates/courses/{world['course'].id}/issue",
        f"/certificates/courses/{world['course'].id}/print",
        f"/certificates/enrollments/{world['enrollments'][0].id}/issue",
        f"/certificates/{first.id}/revoke",
        f"/certificates/{first.id}/reissue",
        f"/certificates/{first.id}/duplicate",
    ]
    for url in posts:
        assert client.post(url, data={"reason": "fraud", "note": "x"}).status_code == 404, url
    assert "Cờ Đỏ" not in client.get("/certificates/").get_data(as_text=True).replace("Cờ Đỏ (cũ)", "")
    assert world["course"].title not in client.get("/certificates/").get_data(as_text=True)
    assert "Chưa có giấy chứng nhận nào" in client.get("/certificates/register").get_data(as_text=True)
    fresh()
    assert {c.status for c in db.session.scalars(select(Certificate))} == {"valid"}
    assert db.session.scalar(select(db.func.count(CertificateJob.id))) == 1


def test_issuing_with_csrf_on_needs_the_token(client, make, csrf_on):
    world = _world(make, [{"name": "Vương Thị Bảo Mật"}])
    login(client, world["signer_user"])
    url = f"/certificates/enrollments/{world['enrollments'][0].id}/issue"
    assert client.post(url).status_code == 400
    token = csrf_token(client, f"/certificates/courses/{world['course'].id}")
    assert client.post(url, data={"csrf_token": token}).status_code == 302
    assert len(_certificates()) == 1


# --------------------------------------------------------------------------------------------
# Register book
# --------------------------------------------------------------------------------------------
def test_register_lists_every_number_in_order_including_revoked_and_exports(client, make):
    from openpyxl import load_workbook

    world = _world(
        make, [{"name": "Âu Thị Ba"}, {"name": "Bùi Văn Hai", "sex": "nam", "birth_date": date(1979, 12, 1)}, {"name": "Cao Thị Một"}]
    )
    login(client, world["signer_user"])
    client.post(f"/certificates/courses/{world['course'].id}/issue")
    certificates = _certificates()
    client.post(f"/certificates/{certificates[1].id}/revoke", data={"reason": "ineligible"})
    year = certificates[0].year
    html = client.get(f"/certificates/register/{world['issuer'].id}/{year}").get_data(as_text=True)
    table = html[html.index("<tbody>") :]
    positions = [table.index(c.number) for c in certificates]
    assert positions == sorted(positions)
    assert "Thu hồi ngày" in html and "Người được cấp không đủ điều kiện" in html
    assert "01/12/1979" in html and "Nam" in html
    assert "3 số, liên tục từ 1 đến 3." in html
    assert f"/certificates/register/{world['issuer'].id}/{year}" in client.get("/certificates/register").get_data(as_text=True)

    response = client.get(f"/certificates/register/{world['issuer'].id}/{year}.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.data)).active
    rows = [row for row in sheet.iter_rows(min_row=5, values_only=True)]
    assert [r[1] for r in rows] == [c.number for c in certificates]
    assert rows[1][7] == "Đã thu hồi" and "Thu hồi ngày" in rows[1][8]

    response = client.get(f"/certificates/register/{world['issuer'].id}/{year}.pdf")
    text = " ".join(pdf_text(response.data).split())
    assert "SỔ CẤP GIẤY CHỨNG NHẬN NĂM" in text and certificates[2].number in text and "Bùi Văn Hai" in text


# --------------------------------------------------------------------------------------------
# A trainee's own certificates
# --------------------------------------------------------------------------------------------
def test_trainee_sees_and_downloads_only_own_certificates(client, make):
    world = _world(make, [{"name": "Thạch Thị Sa Rươl"}, {"name": "Lý Văn Khác", "sex": "nam"}])
    login(client, world["signer_user"])
    client.post(f"/certificates/courses/{world['course'].id}/issue")
    mine_cert, other_cert = sorted(_certificates(), key=lambda c: c.holder_name != "Thạch Thị Sa Rươl")
    user = make.user("trainee", username="hocvien-sa")
    trainee = mine_cert.trainee
    trainee.user_id = user.id
    db.session.commit()
    client = client.application.test_client()  # a fresh browser: no flash left over from the signer
    login(client, user)
    html = client.get("/certificates/mine").get_data(as_text=True)
    assert mine_cert.number in html and other_cert.number not in html
    assert client.get(f"/certificates/{mine_cert.id}/pdf").status_code == 200
    assert client.get(f"/certificates/{other_cert.id}/pdf").status_code == 404
    assert client.get(f"/certificates/{mine_cert.id}").status_code == 403
    assert client.get(f"/certificates/courses/{world['course'].id}").status_code == 403
    assert client.get("/certificates/register").status_code == 403
    nav = client.get("/").get_data(as_text=True)
    assert "Giấy chứng nhận của tôi" in nav


def test_trainee_without_certificates_sees_an_empty_state(client, make):
    login(client, make.user("trainee"))
    assert "Bạn chưa có giấy chứng nhận nào" in client.get("/certificates/mine").get_data(as_text=True)


# --------------------------------------------------------------------------------------------
# Issuer settings and the template editor (admin)
# --------------------------------------------------------------------------------------------
def test_admin_configures_an_issuer(client, make):
    unit = make.unit("Cờ Đỏ", kind="xa", short_code="CĐ")
    login(client, make.user("admin", unit=unit))
    assert "Cờ Đỏ" in client.get("/certificates/issuers").get_data(as_text=True)
    response = client.post(
        f"/certificates/issuers/{unit.id}",
        data={
            "governing_body": "UBND THÀNH PHỐ CẦN THƠ",
            "issuing_body": "UBND XÃ CỜ ĐỎ",
            "place_name": "Cờ Đỏ",
            "number_pattern": "{seq:02d}/{year}/{nope}",
        },
    )
    assert "không được phép" in response.get_data(as_text=True)
    response = client.post(
        f"/certificates/issuers/{unit.id}",
        data={
            "governing_body": "UBND THÀNH PHỐ CẦN THƠ",
            "issuing_body": "UBND XÃ CỜ ĐỎ",
            "place_name": "Cờ Đỏ",
            "number_pattern": "{seq:02d}/GCN-{short_code}",
        },
    )
    assert response.status_code == 302
    assert "07/GCN-CĐ" in client.get(f"/certificates/issuers/{unit.id}").get_data(as_text=True)


def test_template_editor_preview_save_and_sandbox(client, make):
    settings = make.issuer()
    login(client, make.user("admin", unit=settings.unit))
    url = f"/certificates/issuers/{settings.unit_id}/template"
    html = client.get(url).get_data(as_text=True)
    assert "c.full_name" in html and 'formtarget="_blank"' in html and "Mặc định" in html
    preview = client.post(url + "/preview", data={"html": "<p>{{ c.full_name }} – {{ c.number_line }}</p>", "css": "p { color: #333; }"})
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    assert "Nguyễn Thị Ẫặữự Đoàn" in pdf_text(preview.data)
    bad = client.post(url + "/preview", data={"html": "{{ c.__class__.__mro__ }}", "css": ""})
    assert bad.status_code == 400 and "Không xem trước được" in bad.get_data(as_text=True)
    bad = client.post(url + "/preview", data={"html": '<img src="file:///etc/passwd">', "css": ""})
    assert bad.status_code == 400
    response = client.post(url, data={"html": "{% for x in %}", "css": ""})
    assert response.status_code == 200 and "Lỗi cú pháp mẫu" in response.get_data(as_text=True)
    fresh()
    assert db.session.scalar(select(db.func.count(CertificateTemplate.id))) == 0
    for text in ("<p>Một {{ c.full_name }}</p>", "<p>Hai {{ c.full_name }}</p>"):
        assert client.post(url, data={"html": text, "css": ""}).status_code == 302
    fresh()
    versions = db.session.scalars(select(CertificateTemplate).order_by(CertificateTemplate.version)).all()
    assert [v.version for v in versions] == [1, 2] and versions[0].html == "<p>Một {{ c.full_name }}</p>"
    client.post(url + "/activate", data={"template_id": ""})
    fresh()
    from bdg_training.certificates.models import IssuerSettings

    assert db.session.scalar(select(IssuerSettings.template_id)) is None


# --------------------------------------------------------------------------------------------
# Query counts
# --------------------------------------------------------------------------------------------
def test_review_and_register_pages_make_a_fixed_number_of_queries(client, make, count_queries):
    small = _world(make, [{"name": "Hà Thị Một"}])
    big = make.certificate_class(
        [{"name": f"Hà Thị Người{i}", "attended": i % 5, "score": 3 + i % 6} for i in range(20)], settings=small["settings"]
    )
    login(client, small["signer_user"])
    client.post(f"/certificates/courses/{small['course'].id}/issue")
    client.post(f"/certificates/courses/{big['course'].id}/issue")
    fresh()
    for certificate in db.session.scalars(select(Certificate).where(Certificate.course_id == big["course"].id).limit(2)):
        client.post(f"/certificates/{certificate.id}/revoke", data={"reason": "fraud"})
    small_url, big_url = f"/certificates/courses/{small['course'].id}", f"/certificates/courses/{big['course'].id}"
    with count_queries() as few:
        assert client.get(small_url).status_code == 200
    with count_queries() as many:
        assert client.get(big_url).status_code == 200
    assert many.count == few.count
    year = _certificates()[0].year
    url = f"/certificates/register/{small['issuer'].id}/{year}"
    with count_queries() as register:
        assert client.get(url).status_code == 200
    extra = make.certificate_class([{"name": f"Lò Văn Thêm{i}", "sex": "nam"} for i in range(5)], settings=small["settings"])
    client.post(f"/certificates/courses/{extra['course'].id}/issue")
    fresh()
    with count_queries() as more:
        assert client.get(url).status_code == 200
    assert more.count == register.count

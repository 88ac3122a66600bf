"""An organizer of xã Cờ Đỏ cannot read or change anything of xã Vĩnh Thạnh; an admin can."""

from __future__ import annotations

from bdg_training.extensions import db
from bdg_training.units.models import Signer, Unit
from tests.conftest import fresh, login


def test_organizer_sees_own_subtree_only(client, make):
    t = make.reform_tree()
    login(client, make.user("organizer", unit=t["x_codo"]))
    html = client.get("/units/").get_data(as_text=True)
    assert "xã Cờ Đỏ" in html and "huyện Cờ Đỏ (cũ)" in html
    assert "Vĩnh Thạnh" not in html
    assert client.get(f"/units/{t['x_codo'].id}").status_code == 200
    assert client.get(f"/units/{t['h_codo'].id}").status_code == 200  # history of its predecessor
    assert client.get(f"/units/{t['x_vt'].id}").status_code == 404
    assert client.get(f"/units/{t['h_vt'].id}").status_code == 404


def test_organizer_cannot_change_units(client, make):
    t = make.reform_tree()
    login(client, make.user("organizer", unit=t["x_codo"]))
    assert client.post(f"/units/{t['x_vt'].id}/edit", data={"kind": "xa", "name": "Đổi tên"}).status_code == 403
    assert client.post(f"/units/{t['x_codo'].id}/close", data={"valid_to": "01/01/2027"}).status_code == 403
    fresh()
    assert db.session.get(Unit, t["x_vt"].id).name == "Vĩnh Thạnh"
    assert db.session.get(Unit, t["x_codo"].id).valid_to is None


def test_signer_sees_signers_of_own_subtree_only(client, make):
    t = make.reform_tree()
    make.signer(t["x_codo"], full_name="Lê Văn Hùng")
    make.signer(t["x_vt"], full_name="Đặng Thị Vân")
    login(client, make.user("signer", unit=t["x_codo"]))
    html = client.get("/units/signers").get_data(as_text=True)
    assert "Lê Văn Hùng" in html and "Đặng Thị Vân" not in html
    assert client.get("/units/").status_code == 403


def test_admin_reads_and_changes_any_unit(client, make):
    t = make.reform_tree()
    login(client, make.user("admin", unit=t["x_codo"]))
    assert client.get(f"/units/{t['x_vt'].id}").status_code == 200
    response = client.post(
        f"/units/{t['x_vt'].id}/edit",
        data={"kind": "xa", "name": "Vĩnh Thạnh", "short_code": "vt", "valid_from": "01/07/2025", "parent_id": t["city"].id},
    )
    assert response.status_code == 302
    fresh()
    assert db.session.get(Unit, t["x_vt"].id).short_code == "VT"


def test_admin_closes_unit_and_links_successor_with_audit(client, make):
    from bdg_training.audit.models import AuditEvent

    t = make.reform_tree()
    new = make.unit("Thới Lai", kind="xa", parent=t["city"])
    old = make.unit("Thới Lai", kind="huyen", parent=t["city"])
    login(client, make.user("admin", unit=t["city"]))
    client.post(f"/units/{old.id}/close", data={"valid_to": "30/06/2025"})
    client.post(f"/units/{old.id}/successors", data={"successor_id": new.id})
    fresh()
    old = db.session.get(Unit, old.id)
    assert str(old.valid_to) == "2025-06-30"
    assert [s.id for s in old.successors] == [new.id]
    actions = set(db.session.scalars(db.select(AuditEvent.action).where(AuditEvent.object_id == str(old.id))))
    assert {"unit.close", "unit.link_successor"} <= actions
    html = client.get("/admin/audit/?action=unit.").get_data(as_text=True)
    assert "unit.close" in html


def test_unit_form_shows_field_errors_and_saves_nothing(client, make):
    t = make.reform_tree()
    login(client, make.user("admin", unit=t["city"]))
    before = db.session.scalar(db.select(db.func.count(Unit.id)))
    response = client.post("/units/new", data={"kind": "xa", "name": "", "valid_from": "31/02/2025", "short_code": "a b"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Trường này là bắt buộc." in html
    assert "dd/mm/yyyy" in html
    fresh()
    assert db.session.scalar(db.select(db.func.count(Unit.id))) == before


def test_signer_form_requires_head_title_with_prefix(client, make):
    t = make.reform_tree()
    login(client, make.user("admin", unit=t["city"]))
    response = client.post("/units/signers/new", data={"full_name": "Trần Văn B", "authority_prefix": "KT.", "title": "PHÓ GIÁM ĐỐC", "unit_id": t["city"].id})
    assert "cần ghi chức danh người đứng đầu" in response.get_data(as_text=True)
    response = client.post(
        "/units/signers/new",
        data={"full_name": "Trần Văn B", "authority_prefix": "KT.", "on_behalf_title": "GIÁM ĐỐC", "title": "PHÓ GIÁM ĐỐC", "unit_id": t["city"].id},
    )
    assert response.status_code == 302
    fresh()
    signer = db.session.scalar(db.select(Signer))
    assert signer.block == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Trần Văn B"]

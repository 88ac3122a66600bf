"""Subtree queries across closed units and successors, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from bdg_training.access import in_scope, scope_unit_ids, subtree_ids
from bdg_training.rules_base import RuleViolation
from bdg_training.units import services

pytestmark = pytest.mark.both_dbs


def test_subtree_includes_closed_descendants_and_predecessors(make):
    t = make.reform_tree()
    ids = subtree_ids(t["x_codo"].id)
    assert ids == {t["x_codo"].id, t["vstbpn_codo"].id, t["h_codo"].id, t["tt_codo"].id}
    assert t["h_vt"].id not in ids and t["x_vt"].id not in ids


def test_subtree_without_predecessors_is_the_plain_tree(make):
    t = make.reform_tree()
    assert subtree_ids(t["x_codo"].id, include_predecessors=False) == {t["x_codo"].id, t["vstbpn_codo"].id}


def test_city_subtree_has_everything_and_closed_units_stay_in_history(make):
    t = make.reform_tree()
    assert subtree_ids(t["city"].id) == {u.id for u in t.values()}
    assert t["h_codo"].is_closed(date(2026, 1, 1))
    assert t["h_codo"].label(date(2026, 1, 1)) == "huyện Cờ Đỏ (cũ)"
    assert t["h_codo"].label(date(2025, 6, 30)) == "huyện Cờ Đỏ"
    assert t["x_codo"].label(date(2026, 1, 1)) == "xã Cờ Đỏ"


def test_succession_loop_terminates(make):
    t = make.reform_tree()
    from bdg_training.extensions import db

    t["x_codo"].successors.append(t["h_codo"])  # bad data: a loop
    db.session.commit()
    assert subtree_ids(t["x_codo"].id) >= {t["h_codo"].id, t["tt_codo"].id}


def test_scope_of_each_role(make):
    t = make.reform_tree()
    organizer = make.user("organizer", unit=t["x_codo"])
    admin = make.user("admin", unit=t["x_vt"])
    trainee = make.user("trainee")
    assert in_scope(t["tt_codo"].id, organizer)
    assert not in_scope(t["x_vt"].id, organizer)
    assert scope_unit_ids(admin) is None and in_scope(t["x_codo"].id, admin)
    assert scope_unit_ids(trainee) == set() and not in_scope(t["x_codo"].id, trainee)


def test_service_refuses_cycles_and_bad_dates(make):
    t = make.reform_tree()
    with pytest.raises(RuleViolation) as err:
        services.update_unit(None, t["city"], parent_id=t["vstbpn_codo"].id)
    assert "parent_id" in err.value.errors
    with pytest.raises(RuleViolation) as err:
        services.update_unit(None, t["x_codo"], valid_to=date(2020, 1, 1), valid_from=date(2025, 7, 1))
    assert "valid_to" in err.value.errors
    with pytest.raises(RuleViolation):
        services.link_successor(None, t["x_codo"], t["h_codo"])  # h_codo → x_codo exists: a loop


def test_tree_rows_orders_parents_first_and_by_vietnamese_name(make):
    t = make.reform_tree()
    organizer = make.user("organizer", unit=t["city"])
    rows = services.tree_rows(user=organizer, today=date(2026, 1, 1))
    labels = [(unit.label(date(2026, 1, 1)), depth) for unit, depth in rows]
    assert labels[0] == ("thành phố Cần Thơ", 0)
    top = [label for label, depth in labels if depth == 1]
    # open units first (Vietnamese order: xã Cờ Đỏ before xã Vĩnh Thạnh), closed ones after
    assert top == ["xã Cờ Đỏ", "xã Vĩnh Thạnh", "huyện Cờ Đỏ (cũ)", "huyện Vĩnh Thạnh (cũ)"]
    assert ("thị trấn Cờ Đỏ (cũ)", 2) in labels

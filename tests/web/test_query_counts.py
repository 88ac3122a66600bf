"""List pages make a number of queries that does not depend on their rows."""

from __future__ import annotations

from tests.conftest import login


def test_user_list_query_count_does_not_grow(client, make, count_queries):
    admin = make.user("admin")
    login(client, admin)
    with count_queries() as few:
        assert client.get("/admin/users").status_code == 200
    for _ in range(20):
        make.user("organizer")
    with count_queries() as many:
        assert client.get("/admin/users").status_code == 200
    assert many.count == few.count


def test_unit_tree_query_count_does_not_grow(client, make, count_queries):
    t = make.reform_tree()
    login(client, make.user("admin", unit=t["city"]))
    with count_queries() as few:
        client.get("/units/")
    for i in range(15):
        make.unit(f"Phường {i}", kind="phuong", parent=t["city"])
    with count_queries() as many:
        client.get("/units/")
    assert many.count == few.count

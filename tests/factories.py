"""Factories: the few lines every test needs to build its world, in one place."""

from __future__ import annotations

import itertools
from datetime import date

from werkzeug.security import generate_password_hash

from bdg_training.auth.models import User
from bdg_training.extensions import db
from bdg_training.units.models import Signer, Unit

PASSWORD = "mat-khau-thu-nghiem"
_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
_counter = itertools.count(1)


class Factory:
    def unit(self, name: str | None = None, *, kind: str = "xa", parent: Unit | None = None, commit: bool = True, **values) -> Unit:
        unit = Unit(kind=kind, name=name or f"Đơn vị {next(_counter)}", parent=parent, **values)
        db.session.add(unit)
        self._done(commit)
        return unit

    def user(self, role: str = "organizer", *, unit: Unit | None = None, username: str | None = None, commit: bool = True, **values) -> User:
        if unit is None and role != "trainee":
            unit = self.unit(commit=False)
        user = User(
            username=username or f"{role}{next(_counter)}",
            full_name=values.pop("full_name", "Người Thử Nghiệm"),
            role=role,
            unit=unit,
            password_hash=_HASH,
            **values,
        )
        db.session.add(user)
        self._done(commit)
        return user

    def signer(self, unit: Unit, *, commit: bool = True, **values) -> Signer:
        values.setdefault("full_name", "Trần Thị Mỹ Linh")
        values.setdefault("title", "PHÓ GIÁM ĐỐC")
        signer = Signer(unit=unit, **values)
        db.session.add(signer)
        self._done(commit)
        return signer

    def reform_tree(self) -> dict[str, Unit]:
        """A small Cần Thơ: the city, huyện Cờ Đỏ and huyện Vĩnh Thạnh (closed 30/06/2025),
        and their successors xã Cờ Đỏ and xã Vĩnh Thạnh (from 01/07/2025)."""
        end, start = date(2025, 6, 30), date(2025, 7, 1)
        city = self.unit("Cần Thơ", kind="thanh_pho", commit=False)
        h_codo = self.unit("Cờ Đỏ", kind="huyen", parent=city, valid_to=end, commit=False)
        tt_codo = self.unit("Cờ Đỏ", kind="thi_tran", parent=h_codo, valid_to=end, commit=False)
        h_vt = self.unit("Vĩnh Thạnh", kind="huyen", parent=city, valid_to=end, commit=False)
        x_codo = self.unit("Cờ Đỏ", kind="xa", parent=city, valid_from=start, commit=False)
        x_vt = self.unit("Vĩnh Thạnh", kind="xa", parent=city, valid_from=start, commit=False)
        vstbpn = self.unit("xã Cờ Đỏ", kind="ban_vstbpn", parent=x_codo, valid_from=start, commit=False)
        h_codo.successors.append(x_codo)
        tt_codo.successors.append(x_codo)
        h_vt.successors.append(x_vt)
        db.session.commit()
        return {"city": city, "h_codo": h_codo, "tt_codo": tt_codo, "h_vt": h_vt, "x_codo": x_codo, "x_vt": x_vt, "vstbpn_codo": vstbpn}

    @staticmethod
    def _done(commit: bool) -> None:
        db.session.flush()
        if commit:
            db.session.commit()

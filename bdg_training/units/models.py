"""Units (đơn vị) and signers (người ký)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Column, Date, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bdg_training.database import TimestampMixin
from bdg_training.extensions import db
from bdg_training.units import rules
from bdg_training.units.rules import KINDS

unit_successions = Table(
    "unit_successions",
    db.Model.metadata,
    Column("predecessor_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
    Column("successor_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
    CheckConstraint("predecessor_id <> successor_id", name="not_self"),
)


class Unit(TimestampMixin, db.Model):
    """An organisation or territory, valid between two dates, in one tree.

    Closing a unit sets ``valid_to``; rows are never deleted once referenced, so history keeps
    the unit as it was. Mergers and splits are ``successors`` links (many to many).
    """

    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")",
            name="kind_known",
        ),
        CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from", name="valid_dates"),
        Index("ix_units_parent_id", "parent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    short_code: Mapped[str | None] = mapped_column(String(20))
    official_code: Mapped[str | None] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    is_urban: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent")
    successors: Mapped[list[Unit]] = relationship(
        secondary=unit_successions,
        primaryjoin=lambda: Unit.id == unit_successions.c.predecessor_id,
        secondaryjoin=lambda: Unit.id == unit_successions.c.successor_id,
        back_populates="predecessors",
        order_by=lambda: Unit.name,
    )
    predecessors: Mapped[list[Unit]] = relationship(
        secondary=unit_successions,
        primaryjoin=lambda: Unit.id == unit_successions.c.successor_id,
        secondaryjoin=lambda: Unit.id == unit_successions.c.predecessor_id,
        back_populates="successors",
        order_by=lambda: Unit.name,
    )

    def label(self, today: date | None = None) -> str:
        """Name with kind, and "(cũ)" when closed before ``today`` (default: today)."""
        return rules.display_name(self.kind, self.name, self.valid_to, today or date.today())

    @property
    def display(self) -> str:
        return self.label()

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, ("", self.kind))[1]

    def is_closed(self, today: date | None = None) -> bool:
        return rules.is_closed(self.valid_to, today or date.today())

    def __repr__(self) -> str:
        return f"<Unit {self.id} {self.kind} {self.name!r}>"


class Signer(TimestampMixin, db.Model):
    """An official who signs certificates, with the signing-authority block of ND 30/2020."""

    __tablename__ = "signers"
    __table_args__ = (
        CheckConstraint("authority_prefix IN ('', 'KT.', 'TM.', 'Q.', 'TL.', 'TUQ.')", name="prefix_known"),
        CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from", name="valid_dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))  # e.g. PHÓ GIÁM ĐỐC
    authority_prefix: Mapped[str] = mapped_column(String(5), default="")  # KT., TM., …
    on_behalf_title: Mapped[str | None] = mapped_column(String(200))  # e.g. GIÁM ĐỐC (after KT.)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    unit: Mapped[Unit] = relationship()

    @property
    def block(self) -> list[str]:
        """The printed signer block, e.g. ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn A"]."""
        lines = []
        if self.authority_prefix and self.on_behalf_title:
            lines.append(f"{self.authority_prefix} {self.on_behalf_title}".upper())
        lines.append(self.title.upper())
        lines.append(self.full_name)
        return lines

    def is_active_on(self, day: date) -> bool:
        return rules.is_active_on(self.valid_from, self.valid_to, day)

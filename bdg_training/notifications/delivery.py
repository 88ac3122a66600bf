"""Delivery: the narrow interface between the outbox and the outside world.

A channel ("email" today; "sms" or "zalo" later) has a *sender*: anything with
``send(message: OutgoingMessage) -> None`` that raises :class:`DeliveryError` when the message was
not delivered (``permanent=True`` when retrying cannot help). Features never see senders: they
queue with :func:`bdg_training.notifications.services.notify`, the outbox pass picks the sender
with :func:`sender_for`. A new channel is one :func:`register_channel` call — no feature changes.

E-mail backends (``MAIL_BACKEND``):

- ``smtp`` — :class:`SmtpSender`, settings from the environment (``MAIL_SERVER``, ``MAIL_PORT``,
  ``MAIL_USERNAME``, ``MAIL_PASSWORD``, ``MAIL_USE_TLS`` (STARTTLS), ``MAIL_USE_SSL`` (implicit
  TLS), ``MAIL_FROM``, ``MAIL_TIMEOUT``). The default in production.
- ``console`` — :class:`ConsoleSender` prints each mail to the log/terminal; nothing leaves the machine.
- ``outbox-only`` — :class:`KeepInOutbox`: the mail stays in the outbox, readable on the
  development mailbox page; nothing is sent. The default outside production.
"""

from __future__ import annotations

import base64
import logging
import smtplib
import ssl
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Protocol, TextIO

log = logging.getLogger(__name__)

MAIL_BACKENDS = ("smtp", "console", "outbox-only")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes

    @classmethod
    def from_stored(cls, item: Mapping) -> Attachment:
        return cls(item["filename"], item.get("content_type") or "application/octet-stream", base64.b64decode(item["data"]))

    def stored(self) -> dict:
        return {"filename": self.filename, "content_type": self.content_type, "data": base64.b64encode(self.data).decode("ascii")}


@dataclass(frozen=True)
class OutgoingMessage:
    """What a sender needs, detached from the database (senders run outside any transaction)."""

    id: int
    channel: str
    to_address: str
    to_name: str | None
    subject: str
    body_text: str
    body_html: str | None = None
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    message_id: str | None = None  # stable across retries, so clients fold duplicates


class DeliveryError(Exception):
    """Not delivered. ``permanent``: retrying will not help (e.g. the address does not exist)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Sender(Protocol):
    def send(self, message: OutgoingMessage) -> None: ...


# --- e-mail ------------------------------------------------------------------------------------
def build_email(message: OutgoingMessage, sender: str) -> EmailMessage:
    """The MIME message: text part, optional (escaped) HTML alternative, attachments."""
    email = EmailMessage()
    name, address = parseaddr(sender)
    email["From"] = formataddr((name, address)) if name else address
    email["To"] = formataddr((message.to_name, message.to_address)) if message.to_name else message.to_address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(_now())
    email["Message-ID"] = message.message_id or make_msgid(domain=address.partition("@")[2] or None)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    for item in message.attachments:
        maintype, _, subtype = item.content_type.partition(";")[0].strip().partition("/")
        email.add_attachment(item.data, maintype=maintype or "application", subtype=subtype or "octet-stream", filename=item.filename)
    return email


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


class SmtpSender:
    """Sends through an SMTP server with :mod:`smtplib`; one connection per message (simple, and a
    broken connection never takes other messages down with it).

    Classification: a server refusing *every* recipient with a 5xx code is permanent (``failed``);
    anything else — connection refused, timeouts, 4xx, a 421/554 greeting — is transient and retried
    with back-off.
    """

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
        use_ssl: bool = False,
        sender: str = "no-reply@localhost",
        timeout: float = 20.0,
    ) -> None:
        self.host, self.port = host, int(port)
        self.username, self.password = username or None, password or None
        self.use_tls, self.use_ssl = use_tls, use_ssl
        self.sender = sender
        self.timeout = timeout

    @classmethod
    def from_config(cls, config: Mapping) -> SmtpSender:
        return cls(
            config.get("MAIL_SERVER") or "localhost",
            int(config.get("MAIL_PORT") or 25),
            username=config.get("MAIL_USERNAME"),
            password=config.get("MAIL_PASSWORD"),
            use_tls=bool(config.get("MAIL_USE_TLS")),
            use_ssl=bool(config.get("MAIL_USE_SSL")),
            sender=config.get("MAIL_FROM") or "no-reply@localhost",
            timeout=float(config.get("MAIL_TIMEOUT") or 20),
        )

    def send(self, message: OutgoingMessage) -> None:
        email = build_email(message, self.sender)
        envelope_from = parseaddr(self.sender)[1]
        try:
            if self.use_ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except smtplib.SMTPConnectError as exc:
            raise DeliveryError(f"Máy chủ thư từ chối kết nối: {exc.smtp_code} {_text(exc.smtp_error)}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"Không kết nối được máy chủ thư {self.host}:{self.port}: {exc}") from None
        try:
            if self.use_tls and not self.use_ssl:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(email, from_addr=envelope_from, to_addrs=[message.to_address])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(f"{addr}: {code} {_text(text)}" for addr, (code, text) in exc.recipients.items())
            raise DeliveryError(
                f"Máy chủ thư từ chối địa chỉ nhận: {detail}", permanent=bool(codes) and all(c >= 500 for c in codes)
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"Máy chủ thư trả lỗi {exc.smtp_code}: {_text(exc.smtp_error)}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"Lỗi khi gửi thư: {exc}") from None
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class ConsoleSender:
    """Prints each mail (headers, text, attachment names) instead of sending it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, message: OutgoingMessage) -> None:
        stream = self.stream or sys.stdout
        names = ", ".join(a.filename for a in message.attachments) or "—"
        stream.write(
            f"\n===== THƯ #{message.id} ({message.channel}) =====\n"
            f"Đến: {message.to_name or ''} <{message.to_address}>\n"
            f"Tiêu đề: {message.subject}\n"
            f"Đính kèm: {names}\n\n"
            f"{message.body_text}\n"
            f"===== HẾT THƯ #{message.id} =====\n"
        )
        stream.flush()


class KeepInOutbox:
    """Sends nothing: in development the mail is read on the outbox's mailbox page."""

    def send(self, message: OutgoingMessage) -> None:
        log.info("outbox-only: thư #%s tới %s giữ lại trong hộp thư phát triển", message.id, message.to_address)


# --- registry ----------------------------------------------------------------------------------
SenderFactory = Callable[[Mapping], Sender]
_CHANNELS: dict[str, SenderFactory] = {}


def register_channel(channel: str, factory: SenderFactory) -> None:
    """Make ``channel`` deliverable: ``factory(app.config)`` returns its sender."""
    _CHANNELS[channel] = factory


def channels() -> tuple[str, ...]:
    return tuple(_CHANNELS)


def mail_backend(config: Mapping) -> str:
    backend = (config.get("MAIL_BACKEND") or "outbox-only").strip().lower()
    if backend not in MAIL_BACKENDS:
        raise DeliveryError(f"MAIL_BACKEND không hợp lệ: {backend!r} (smtp|console|outbox-only)", permanent=False)
    return backend


def backend_name(channel: str, config: Mapping) -> str:
    """What ``sent_via`` records: the e-mail backend, or the channel's name."""
    return mail_backend(config) if channel == "email" else channel


def _email_sender(config: Mapping) -> Sender:
    backend = mail_backend(config)
    if backend == "smtp":
        return SmtpSender.from_config(config)
    if backend == "console":
        return ConsoleSender()
    return KeepInOutbox()


register_channel("email", _email_sender)


def sender_for(channel: str, config: Mapping) -> Sender:
    try:
        factory = _CHANNELS[channel]
    except KeyError:
        raise DeliveryError(f"Chưa có cách gửi cho kênh “{channel}”.") from None
    return factory(config)

"""A tiny SMTP server for tests (Python 3.11's ``smtpd`` is deprecated and gone in 3.12).

Modes: ``"accept"`` (stores each message), ``"refuse"`` (greets with ``421`` and hangs up, like a
server in maintenance), ``"reject-rcpt"`` (``550`` for every recipient: the address does not exist).
"""

from __future__ import annotations

import socketserver
import threading
from email import message_from_bytes, policy


class _Handler(socketserver.StreamRequestHandler):
    timeout = 10

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        server: SmtpStub = self.server  # type: ignore[assignment]
        server.connections += 1
        if server.mode == "refuse":
            self.reply("421 4.3.2 Dich vu tam ngung, vui long thu lai sau")
            return
        self.reply("220 stub.local ESMTP")
        recipients: list[str] = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.strip().decode("ascii", "replace")
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250-stub.local\r\n250 8BITMIME\r\n")
                self.wfile.flush()
            elif verb == "MAIL":
                recipients = []
                self.reply("250 2.1.0 OK")
            elif verb == "RCPT":
                if server.mode == "reject-rcpt":
                    self.reply("550 5.1.1 No such user")
                else:
                    recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                    self.reply("250 2.1.5 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                chunks = []
                while True:
                    data = self.rfile.readline()
                    if not data or data == b".\r\n":
                        break
                    chunks.append(data[1:] if data.startswith(b"..") else data)
                server.messages.append((recipients, message_from_bytes(b"".join(chunks), policy=policy.default)))
                self.reply("250 2.0.0 queued")
            elif verb == "QUIT":
                self.reply("221 2.0.0 bye")
                return
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            else:
                self.reply("502 5.5.2 not implemented")


class SmtpStub(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mode: str = "accept") -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = mode
        self.messages: list = []
        self.connections = 0
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def __enter__(self) -> SmtpStub:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)

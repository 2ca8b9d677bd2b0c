"""A real SMTP server on loopback that keeps what it receives, so tests read links from mail."""

import re
import socket
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://\S+")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def text_of(message) -> str:
    """The plain-text part of a mail (every mail has one beside its HTML)."""
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


class _Collector:
    def __init__(self, messages: list):
        self.messages = messages

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


class SmtpServer:
    def __init__(self):
        self.messages: list = []
        self.port = _free_port()
        self._controller = Controller(_Collector(self.messages), hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]

    def last_link(self, address: str, containing: str = "") -> str:
        """The first link of the newest mail to `address` (with `containing` in it, if given)."""
        for message in reversed(self.to(address)):
            for link in LINK.findall(text_of(message)):
                if containing in link:
                    return link
        raise AssertionError(f"no mail with a link{' to ' + containing if containing else ''} for {address}")

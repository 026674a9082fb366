"""Non-ASCII addresses (issue 13 finding 4): sent with SMTPUTF8 when the server offers it, else failed.

Decision: an address is stored in its canonical form (NFC local part, IDNA domain: actiontool.addresses), so a
non-ASCII domain needs nothing special; a non-ASCII local part needs SMTPUTF8. The web app cannot know at
submit time what the mail server will offer, so the worker asks it: offered, the letter goes with SMTPUTF8;
not offered, it fails at once with that reason (a permanent failure, not eight attempts of backoff). An error
while building a message is permanent too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from actiontool.delivery import smtp
from actiontool.delivery.errors import PermanentFailure
from actiontool.models import DELIVERED, FAILED
from tests.delivery.conftest import (
    SENATOR,
    SmtpSink,
    add_messages,
    delivery_config,
    free_port,
    message,
    run_worker,
)


@dataclass
class Utf8Sink(SmtpSink):
    """The sink, also recording whether each envelope came with SMTPUTF8."""

    utf8: list[bool] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.utf8.append(bool(envelope.smtp_utf8))
        self.raw.append(envelope.original_content)
        return await super().handle_DATA(server, session, envelope)


def _server(utf8: bool) -> Iterator[Utf8Sink]:
    sink = Utf8Sink("127.0.0.1", free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port, enable_SMTPUTF8=utf8)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture(params=[True, False], ids=["smtputf8", "ascii-only"])
def smtp_server(request: pytest.FixtureRequest) -> Iterator[Utf8Sink]:
    """A real SMTP server (aiosmtpd) that offers SMTPUTF8, or does not."""
    yield from _server(request.param)


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path, smtp_server: Utf8Sink) -> dict[str, Any]:
    app_config.update(delivery_config(tmp_path, smtp_server))
    return app_config


def test_a_letter_from_a_non_ascii_address(app: Flask, smtp_server: Utf8Sink,
                                           request: pytest.FixtureRequest) -> None:
    offered = "smtputf8" in request.node.callspec.id
    [mid] = add_messages(app, members=(SENATOR,), email="José@Exämple.org")

    run_worker(app)

    stored = message(app, mid)
    if offered:
        assert (stored.status, stored.attempts) == (DELIVERED, 1)
        [raw] = smtp_server.raw  # UTF-8 headers as they are, the local part's case kept
        assert "Reply-To: Jane Doe <José@xn--exmple-cua.org>" in raw.decode("utf-8")
        assert smtp_server.utf8 == [True]
    else:
        # Failed at once, with the reason; nothing half-sent.
        assert (stored.status, stored.attempts) == (FAILED, 1)
        assert stored.last_error == smtp.NO_SMTPUTF8
        assert smtp_server.messages == []


def test_an_ascii_letter_goes_without_smtputf8(app: Flask, smtp_server: Utf8Sink) -> None:
    # The domain was typed in Unicode; stored in its IDNA form it needs no SMTPUTF8 on any server.
    [mid] = add_messages(app, members=(SENATOR,), email="jane@exämple.org")

    run_worker(app)

    assert message(app, mid).status == DELIVERED
    [mail] = smtp_server.messages
    assert mail["Reply-To"].addresses[0].addr_spec == "jane@xn--exmple-cua.org"
    assert smtp_server.utf8 == [False]


def test_an_error_while_building_a_message_is_permanent(app: Flask, smtp_server: Utf8Sink,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: EmailMessage, *args: Any, **kwargs: Any) -> None:
        raise UnicodeEncodeError("ascii", "é", 0, 1, "ordinal not in range(128)")

    monkeypatch.setattr(EmailMessage, "set_content", broken)
    [mid] = add_messages(app, members=(SENATOR,))

    run_worker(app)

    stored = message(app, mid)
    assert (stored.status, stored.attempts) == (FAILED, 1)  # not eight attempts of backoff
    assert stored.last_error.startswith("the message could not be built: UnicodeEncodeError")
    assert smtp_server.messages == []


def test_built_turns_library_errors_into_permanent_failures() -> None:
    def fails() -> None:
        raise ValueError("invalid arguments")

    with pytest.raises(PermanentFailure, match="could not be built: ValueError: invalid arguments"):
        smtp.built(fails)
    assert smtp.built(lambda: 3) == 3

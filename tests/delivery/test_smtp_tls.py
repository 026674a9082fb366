"""The e-mail channel over TLS: STARTTLS (the default) and implicit TLS, against aiosmtpd with a test cert."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from actiontool.models import DELIVERED, FAILED
from tests.delivery.conftest import SENATOR, SmtpSink, add_messages, free_port, message, run_worker

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    """Return (certificate, key) of a self-signed certificate for 127.0.0.1."""
    crt, key = tmp_path / "smtp.crt", tmp_path / "smtp.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(crt)], check=True, capture_output=True, timeout=60)
    return crt, key


@pytest.fixture
def trust_test_cert(cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the channel's TLS context trust the test certificate (as a private CA would be trusted)."""
    import actiontool.delivery.smtp as smtp_module

    real = ssl.create_default_context
    monkeypatch.setattr(smtp_module.ssl, "create_default_context",
                        lambda *a, **k: real(cafile=str(cert[0])))


def tls_server(cert: tuple[Path, Path], *, implicit: bool) -> Iterator[SmtpSink]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)  # not create_default_context: the client's is patched
    context.load_cert_chain(str(cert[0]), str(cert[1]))
    sink = SmtpSink("127.0.0.1", free_port())
    kwargs: dict[str, Any] = {"ssl_context": context} if implicit else {"tls_context": context,
                                                                       "require_starttls": True}
    controller = Controller(sink, hostname=sink.host, port=sink.port, **kwargs)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def starttls_server(cert: tuple[Path, Path]) -> Iterator[SmtpSink]:
    yield from tls_server(cert, implicit=False)


@pytest.fixture
def ssl_server(cert: tuple[Path, Path]) -> Iterator[SmtpSink]:
    yield from tls_server(cert, implicit=True)


def use(app: Flask, sink: SmtpSink, tls: str) -> None:
    app.config.update(SMTP_HOST=sink.host, SMTP_PORT=sink.port, SMTP_TLS=tls)


@pytest.mark.usefixtures("trust_test_cert")
def test_starttls_delivers(app: Flask, starttls_server: SmtpSink) -> None:
    use(app, starttls_server, "starttls")
    [mid] = add_messages(app, members=(SENATOR,))

    run_worker(app)

    assert message(app, mid).status == DELIVERED
    assert len(starttls_server.messages) == 1


@pytest.mark.usefixtures("trust_test_cert")
def test_implicit_tls_delivers(app: Flask, ssl_server: SmtpSink) -> None:
    use(app, ssl_server, "ssl")
    [mid] = add_messages(app, members=(SENATOR,))

    run_worker(app)

    assert message(app, mid).status == DELIVERED
    assert len(ssl_server.messages) == 1


def test_untrusted_certificate_is_not_accepted(app: Flask, starttls_server: SmtpSink) -> None:
    use(app, starttls_server, "starttls")
    [mid] = add_messages(app, members=(SENATOR,))

    run_worker(app)

    stored = message(app, mid)
    assert stored.status == FAILED and "CERTIFICATE_VERIFY_FAILED" in stored.last_error
    assert starttls_server.messages == []


def test_server_that_requires_tls_refuses_plain_mail(app: Flask, starttls_server: SmtpSink) -> None:
    use(app, starttls_server, "none")
    [mid] = add_messages(app, members=(SENATOR,))

    run_worker(app)

    stored = message(app, mid)
    assert stored.status == FAILED and "530" in stored.last_error
    assert starttls_server.messages == []

"""Headers built once and appended without Werkzeug's per-response checks, and the remembered sync check."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import Headers

from actiontool.web.application import ActionToolFlask
from actiontool.web.headers import append_checked, checked, headers_of

PAIRS = (("Content-Type", "application/json"), ("Cache-Control", "public, max-age=5"))


def test_checked_headers_are_appended_exactly_as_extend_would() -> None:
    extended, appended = Headers([("Vary", "Accept")]), Headers([("Vary", "Accept")])
    extended.extend(PAIRS)
    append_checked(appended, checked(PAIRS))
    assert appended.to_wsgi_list() == extended.to_wsgi_list()
    assert headers_of(checked(PAIRS)).to_wsgi_list() == Headers(PAIRS).to_wsgi_list()


def test_a_header_value_with_a_line_break_is_refused_when_built() -> None:
    with pytest.raises(ValueError):
        checked((("X-Test", "a\r\nSet-Cookie: evil=1"),))


def test_the_app_remembers_plain_functions_and_still_wraps_coroutines() -> None:
    app = ActionToolFlask(__name__)

    def plain() -> str:
        return "ok"

    async def coroutine() -> str:
        return "ok"

    assert app.ensure_sync(plain) is plain and app.ensure_sync(plain) is plain
    assert plain in app._plain
    try:
        wrapped = app.ensure_sync(coroutine)
    except RuntimeError:  # Flask runs async views only with asgiref installed
        wrapped = None
    assert wrapped is not coroutine
    assert coroutine not in app._plain

"""The app's Flask class remembers which hooks are plain functions, without keeping per-request ones."""

from __future__ import annotations

import gc
from typing import Any

from flask import Flask

from actiontool.web.application import ActionToolFlask


def _plain_count(app: Any) -> int:
    gc.collect()
    return len(app._plain)


def test_a_plain_function_is_returned_as_it_is_and_a_coroutine_is_wrapped(app: Flask) -> None:
    assert isinstance(app, ActionToolFlask)

    def hook() -> None:
        return None

    async def coroutine() -> None:
        return None

    assert app.ensure_sync(hook) is hook
    assert app.ensure_sync(hook) is hook  # the remembered answer
    try:
        wrapped = app.ensure_sync(coroutine)
    except RuntimeError:  # Flask's async extra is not installed: it refuses, as Flask itself would
        return
    assert wrapped is not coroutine


def test_closures_made_per_request_are_not_kept(app: Flask) -> None:
    before = _plain_count(app)
    for i in range(500):
        def write_after_answer(response: Any, i: int = i) -> Any:  # as after_this_request makes one
            return response

        assert app.ensure_sync(write_after_answer) is write_after_answer
    del write_after_answer
    assert _plain_count(app) <= before + 1


def test_the_funnel_s_after_request_hooks_do_not_pile_up(app: Flask) -> None:
    client = app.test_client()
    client.get("/")
    before = _plain_count(app)
    for _ in range(50):
        client.get("/", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"})
    assert _plain_count(app) <= before + 2

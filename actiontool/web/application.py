"""The app's Flask class: Flask, with the check that a hook or view is synchronous remembered.

Flask asks `inspect.iscoroutinefunction` of every before-request, after-request and teardown hook and
of the view, on every request (`ensure_sync`): eight checks of the same functions on a cached API
answer, a noticeable share of its time. A function does not change kind, so the answer is kept.
Weakly: `after_this_request` hands Flask a new closure per request (the funnel's write), and a plain set
would keep every one of them, and what they hold, for the life of the worker.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from flask import Flask


class ActionToolFlask(Flask):
    """Flask, remembering which hooks and views are plain functions."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain: weakref.WeakSet[Callable[..., Any]] = weakref.WeakSet()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Return `func` as it is when it is a plain function (remembered), else Flask's sync wrapper."""
        if func in self._plain:
            return func
        wrapped = super().ensure_sync(func)
        if wrapped is func:
            self._plain.add(func)
        return wrapped

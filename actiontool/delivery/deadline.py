"""One wall-clock deadline per delivery: the whole CWC POST, the whole SMTP session.

Socket timeouts bound each read, not the exchange: a server that trickles its answer a byte every two
seconds never trips a 3 s read timeout, and one delivery can outlast the worker's lease (then a second
worker sends the letter again). A `Deadline` is entered around one delivery; the sockets opened inside it
register with it, and when it passes a timer shuts them down, which ends any blocked read or write at
once. The caller then sees an OSError and `expired` says why.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

_current = threading.local()


class Deadline:
    """A wall-clock limit of `seconds` for the sockets opened inside the `with` block (in this thread)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._outer: Deadline | None = None

    def remaining(self) -> float:
        """Return the seconds left (never below a millisecond, so it stays a valid socket timeout)."""
        return max(0.001, self.expires - time.monotonic())

    def register(self, sock: socket.socket) -> None:
        """Shut `sock` down when the deadline passes (at once if it already has)."""
        with self._lock:
            if not self.expired:
                self._sockets.append(sock)
                return
        _shutdown(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shutdown(sock)

    def __enter__(self) -> Deadline:
        self._outer = getattr(_current, "deadline", None)
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._timer.cancel()
        _current.deadline = self._outer


def current() -> Deadline | None:
    """Return the deadline this thread is inside, if any."""
    return getattr(_current, "deadline", None)


def register(sock: socket.socket) -> None:
    """Put `sock` under the current thread's deadline, when there is one."""
    deadline = current()
    if deadline is not None:
        deadline.register(sock)


def op_timeout(configured: float) -> float:
    """Return a socket timeout: the configured one, cut to what is left of the current deadline."""
    deadline = current()
    return configured if deadline is None else min(configured, deadline.remaining())


def expired() -> bool:
    """Return True when the current thread's deadline has passed."""
    deadline = current()
    return deadline is not None and deadline.expired


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed or never connected: nothing blocks on it
        pass

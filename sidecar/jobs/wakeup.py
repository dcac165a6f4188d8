"""Waking the worker the moment a job is queued: one datagram to a Unix socket the worker binds.

Jobs are queued inside a caller's transaction, and the worker must not look before it commits, so
``enqueue`` only marks the thread (``mark_pending``); once the web request is over (its
transactions committed) ``send_pending`` sends one byte. The worker's idle wait is a select() on
its socket with the poll interval as timeout: polling stays the safety net, so a lost datagram, a
worker restarting or no socket at all costs at most one poll interval. Sending never blocks and
never fails the request; a failure is logged at most once per THROTTLE_SECONDS.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import socket
import threading
import time

from sidecar.core.throttled_log import Throttle

log = logging.getLogger(__name__)
THROTTLE_SECONDS = 300.0
_pending = threading.local()
_throttle = Throttle(THROTTLE_SECONDS)


def mark_pending() -> None:
    """Note that this thread queued a job: ``send_pending`` will wake the worker."""
    _pending.flag = True


def send_pending(path: str | None) -> bool:
    """Wake the worker if this thread queued a job since the last call; return whether sent."""
    if not getattr(_pending, "flag", False):
        return False
    _pending.flag = False
    return wake(path)


def wake(path: str | None) -> bool:
    """Send one byte to the worker's socket at ``path`` without blocking; return whether sent."""
    if path is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            sock.sendto(b"!", path)
        return True
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
            return True  # the worker's queue of wake-ups is full: it is awake already
        held_back = _throttle.admit("wake", time.monotonic())
        if held_back is not None:
            more = f" ({held_back} more since)" if held_back else ""
            log.warning("could not wake the worker at %s: %s%s", path, exc.strerror, more)
        return False


class Listener:
    """The worker's side: the bound socket (if it could be bound) and a private one to stop."""

    def __init__(self, path: str | None) -> None:
        self.path: str | None = None
        self._inode: int | None = None
        self._stop_in, self._stop_out = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._stop_out.setblocking(False)
        self._sock: socket.socket | None = None
        if path is not None:
            self._bind(path)

    def _bind(self, path: str) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            # A socket file left by a worker that was killed would refuse the bind.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            sock.bind(path)
        except OSError as exc:
            sock.close()
            log.warning("no wake-up socket at %s (%s): polling only", path, exc.strerror)
            return
        self._sock, self.path, self._inode = sock, path, os.stat(path).st_ino
        log.info("woken through %s", path)

    def wait(self, timeout: float) -> bool:
        """Wait until woken (or stopped) or ``timeout`` s pass; return whether woken."""
        watched = [self._stop_in] + ([self._sock] if self._sock is not None else [])
        ready, _, _ = select.select(watched, [], [], max(0.0, timeout))
        for sock in ready:
            _drain(sock)
        return bool(ready)

    def interrupt(self) -> None:
        """Make a waiting ``wait`` return at once (safe in a signal handler)."""
        with contextlib.suppress(OSError):
            self._stop_out.send(b"!")

    def close(self) -> None:
        """Close the sockets; remove the socket file unless another worker has replaced it."""
        if self._sock is not None and self.path is not None:
            with contextlib.suppress(OSError):
                if os.stat(self.path).st_ino == self._inode:
                    os.unlink(self.path)
            self._sock.close()
            self._sock = None
        self._stop_in.close()
        self._stop_out.close()


def _drain(sock: socket.socket) -> None:
    """Read every waiting datagram: many wake-ups at once need one drain of the queue."""
    sock.setblocking(False)
    with contextlib.suppress(BlockingIOError, InterruptedError):
        while True:
            sock.recv(16)

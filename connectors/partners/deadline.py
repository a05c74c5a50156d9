"""A total deadline per partner request, not only per read.

requests (urllib3) applies its timeout to each socket operation: a partner that sends one byte
every two seconds never trips a 10-second read timeout and could hold a test, a worker or a
gunicorn process for as long as it likes. No well-kept library bounds a whole request, so this
module does: the sockets a request uses are registered with a watch, and when the request's
deadline passes the watch shuts them down, which ends any read in progress at once.
"""

import heapq
import itertools
import socket
import threading
import time
from contextlib import contextmanager

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_local = threading.local()


class Watch:
    """Shuts down the registered sockets once `seconds` have passed."""

    def __init__(self, seconds):
        self.expired = False
        self.cancelled = False
        self._sockets = []
        self._lock = threading.Lock()
        _watchdog.add(time.monotonic() + seconds, self)

    def register(self, sock):
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def _expire(self):
        with self._lock:
            if self.cancelled:
                return
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def cancel(self):
        with self._lock:
            self.cancelled = True


class _Watchdog:
    """One thread for every watch of the process, waking at the earliest deadline. (A
    threading.Timer per request started a thread per partner call, which cost more than a call
    to a partner nearby: docs/api.md, Speed.) Cancelled watches leave the queue when they reach
    its head."""

    def __init__(self):
        self._queue = []
        self._order = itertools.count()
        self._condition = threading.Condition()
        self._thread = None

    def add(self, when, watch):
        with self._condition:
            # Started on first use, and again in a process forked from one that had it (a
            # thread does not survive fork).
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="partner-deadlines", daemon=True)
                self._thread.start()
            heapq.heappush(self._queue, (when, next(self._order), watch))
            if self._queue[0][2] is watch:
                self._condition.notify()

    def _run(self):
        while True:
            with self._condition:
                due = self._next_due()
            due._expire()

    def _next_due(self):
        while True:
            while self._queue and self._queue[0][2].cancelled:
                heapq.heappop(self._queue)
            if not self._queue:
                self._condition.wait()
                continue
            when = self._queue[0][0]
            now = time.monotonic()
            if when <= now:
                return heapq.heappop(self._queue)[2]
            self._condition.wait(when - now)


_watchdog = _Watchdog()


def _shut(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


@contextmanager
def watch(seconds):
    """Within the block, every partner socket in this thread is shut down after `seconds`."""
    outer = getattr(_local, "watch", None)
    current = Watch(seconds)
    _local.watch = current
    try:
        yield current
    finally:
        current.cancel()
        _local.watch = outer


def _register(sock):
    current = getattr(_local, "watch", None)
    if current is not None:
        current.register(sock)


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self):
        super().connect()
        _register(self.sock)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self):
        super().connect()
        _register(self.sock)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection

    def _make_request(self, conn, *args, **kwargs):
        _register(getattr(conn, "sock", None))  # a kept-alive connection from an earlier request
        return super()._make_request(conn, *args, **kwargs)


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection

    def _make_request(self, conn, *args, **kwargs):
        _register(getattr(conn, "sock", None))
        return super()._make_request(conn, *args, **kwargs)


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections register their sockets with the current watch."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}

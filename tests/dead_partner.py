"""A partner host that accepts connections and never answers (a hung server behind a load
balancer): every request to it ends in the client's read timeout. Records when each connection
came and went, so a benchmark can tell how long clients spent waiting on it."""

import selectors
import socket
import threading
import time

HOST = "127.0.0.1"


class DeadPartner:
    def __init__(self):
        self._listener = socket.create_server((HOST, 0), backlog=1024)
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self.token_url = f"http://{HOST}:{self.port}/v2/auth/token"
        self.endpoint = f"http://{HOST}:{self.port}/v2"
        self.intervals = []  # (accepted, closed) in time.monotonic() seconds
        self._lock = threading.Lock()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._running = True
        self._thread = threading.Thread(target=self._serve, name="dead-partner", daemon=True)
        self._thread.start()

    def _serve(self):
        opened = {}
        while self._running:
            for key, _ in self._selector.select(timeout=0.1):
                if key.fileobj is self._listener:
                    try:
                        client, _ = self._listener.accept()
                    except BlockingIOError:
                        continue
                    client.setblocking(False)
                    opened[client] = time.monotonic()
                    self._selector.register(client, selectors.EVENT_READ)
                    continue
                client = key.fileobj
                try:
                    data = client.recv(65536)  # the request: read and never answered
                except BlockingIOError:
                    continue
                except ConnectionError:
                    data = b""  # the client gave up and reset the connection
                if not data:
                    self._selector.unregister(client)
                    client.close()
                    with self._lock:
                        self.intervals.append((opened.pop(client), time.monotonic()))

    @property
    def requests(self):
        with self._lock:
            return len(self.intervals)

    def waiting_seconds(self, since=0.0):
        """Seconds during which at least one client was waiting (the union of the intervals)."""
        with self._lock:
            spans = sorted((max(a, since), b) for a, b in self.intervals if b > since)
        total, end = 0.0, None
        for start, stop in spans:
            if end is None or start > end:
                total += stop - start
                end = stop
            elif stop > end:
                total += stop - end
                end = stop
        return total

    def stop(self):
        self._running = False
        self._thread.join(timeout=5)
        self._listener.close()

"""A unix socket that plays an engine byte for byte: each connection is handed to `handle` in its own thread.

For tests of what a real engine cannot be made to do (trickle a body, send a malformed answer).
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path


class RawEngine:
    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(8)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn: socket.socket) -> None:
        conn.close()

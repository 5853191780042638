"""A program on a pseudo-terminal of the test's own, as a user's terminal emulator runs it: a window size, keys
typed in, what it prints read back, and a resize (the window's size changed, then SIGWINCH to the program, as
the terminal's kernel driver sends to the foreground process group).

Used to drive real kubectl and the real `debugbox shell` with a TTY: they see a terminal (`isatty`), put it in
raw mode and send its size; nothing here interprets the bytes beyond finding text in them.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Mapping, Sequence

#: Escape sequences (colours, cursor movement, bracketed paste) that a shell or line editor may print.
_ESCAPES = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][0-9A-Za-z]|[=>])")


class Terminal:
    def __init__(
        self, argv: Sequence[str], env: Mapping[str, str], *, rows: int = 24, cols: int = 80
    ) -> None:
        self.master, slave = pty.openpty()
        self.resize(rows, cols, signal_program=False)
        try:
            self.proc = subprocess.Popen(
                list(argv), stdin=slave, stdout=slave, stderr=slave, env=dict(env), start_new_session=True
            )
        finally:
            os.close(slave)
        self.raw = b""
        self._seen = 0

    @property
    def text(self) -> str:
        """Everything printed so far, escape sequences removed, line ends normalised."""
        plain = _ESCAPES.sub(b"", self.raw).replace(b"\r\n", b"\n").replace(b"\r", b"")
        return plain.decode("utf-8", "replace")

    def _read(self, timeout: float) -> bytes | None:
        """What is printed within `timeout` (b"" for nothing); None once the program closed the terminal."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: every holder of the terminal's other end has gone
            return None
        self.raw += chunk
        return chunk or None

    def expect(self, pattern: str, timeout: float) -> str:
        """Wait for `pattern` (a regular expression) in what was printed since the last match; returns that
        text up to the match's end. Fails with everything printed when it does not come."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.text[self._seen :])
            if found:
                matched = self.text[self._seen : self._seen + found.end()]
                self._seen += found.end()
                return matched
            alive = self._read(min(0.5, max(0.0, deadline - time.monotonic()))) is not None
            if not alive or time.monotonic() >= deadline:
                raise AssertionError(f"{pattern!r} not printed (exit {self.proc.poll()}):\n{self.text}")

    def type(self, keys: str) -> None:
        """Keys as a user types them: Enter is a carriage return, which the terminal's line discipline (in
        raw mode, the program) reads as the end of a line."""
        os.write(self.master, keys.replace("\n", "\r").encode())

    def resize(self, rows: int, cols: int, *, signal_program: bool = True) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        if signal_program:
            self.proc.send_signal(signal.SIGWINCH)

    def wait(self, timeout: float) -> int:
        """The program's exit code once it ended, reading what it still prints."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.2)
        while self.proc.poll() is not None and self._read(0.2) and time.monotonic() < deadline:
            pass  # what it printed last
        code = self.proc.poll()
        if code is None:
            raise AssertionError(f"still running after {timeout}s:\n{self.text}")
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        os.close(self.master)

"""SPDY/3.1 framing, as the kubelet's streaming server speaks it to kubectl for `port-forward`.

Follows the SPDY Protocol draft 3.1 (https://www.chromium.org/spdy/spdy-protocol/spdy-protocol-draft3-1/) as
implemented by moby/spdystream (`spdy/read.go`, `spdy/write.go`, `spdy/types.go`), the framer under
`staging/src/k8s.io/apimachinery/pkg/util/httpstream/spdy` on both sides of a real cluster:

- a control frame is `1 | version(15)=3 | type(16) | flags(8) | length(24) | body`; a data frame is
  `0 | stream id(31) | flags(8) | length(24) | data`; flag FIN (0x01) ends a direction of a stream;
- SYN_STREAM (1): stream id, associated stream id, priority (3 bits) and slot, then a header block;
  SYN_REPLY (2): stream id, header block; RST_STREAM (3): stream id, status (`CANCEL` = 5 is what
  spdystream's `Stream.Reset` sends); SETTINGS (4); PING (6): an id the receiver echoes; GOAWAY (7): last good
  stream id, status; HEADERS (8); WINDOW_UPDATE (9) (spdystream sends none and ignores them: it has no flow
  control, so neither has this);
- a header block is `count(32)` then, per header, `len(32) name len(32) value` with lower-case names and several
  values joined by NUL; every header block of one direction of a connection is a piece of a single zlib stream
  with the draft's dictionary (§2.6.10.1), each ended with a sync flush.

Pure: bytes in, frames out (and back); the session that uses it is `portforward.py`.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN, FLAG_UNIDIRECTIONAL = 0x01, 0x02
PROTOCOL_ERROR, INVALID_STREAM, REFUSED_STREAM, UNSUPPORTED_VERSION, CANCEL = 1, 2, 3, 4, 5
#: Largest payload the fake puts in one data frame (the length field allows 2**24 - 1).
MAX_DATA = 32 * 1024


def _entries(*names: str) -> bytes:
    return b"".join(struct.pack(">I", len(n)) + n.encode() for n in names)


#: The zlib dictionary of SPDY/3 header compression (draft 3.1 §2.6.10.1): length-prefixed header names and
#: common values, then a run of status codes, reason phrases, dates and media types without prefixes.
DICTIONARY = _entries(
    "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
    "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
    "content-base", "content-encoding", "content-language", "content-length", "content-location",
    "content-md5", "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host",
    "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified",
    "location", "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
    "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via",
    "warning", "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url",
    "public", "set-cookie", "keep-alive", "origin",
) + (
    b"100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    b"203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
    b"403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
    b"Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    b"chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    b"text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)  # fmt: skip


class ProtocolError(Exception):
    """A frame this side cannot read: the connection ends (spdystream stops reading at a framing error)."""


@dataclass
class Frame:
    """One frame. `kind` is a control type, or 0 for data; `stream` is 0 for connection-wide frames."""

    kind: int
    flags: int = 0
    stream: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    data: bytes = b""
    #: RST_STREAM / GOAWAY status, PING id, WINDOW_UPDATE delta, GOAWAY's last good stream.
    value: int = 0

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


class HeaderCodec:
    """The two zlib streams of one connection: what this side compresses and what it decompresses."""

    def __init__(self) -> None:
        self._out = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, 15, 8, zdict=DICTIONARY)
        self._in = zlib.decompressobj(zdict=DICTIONARY)

    def encode(self, headers: dict[str, str]) -> bytes:
        block = struct.pack(">I", len(headers))
        for name, value in headers.items():
            raw_name, raw_value = name.lower().encode(), value.encode()
            block += (
                struct.pack(">I", len(raw_name)) + raw_name + struct.pack(">I", len(raw_value)) + raw_value
            )
        return self._out.compress(block) + self._out.flush(zlib.Z_SYNC_FLUSH)

    def decode(self, compressed: bytes) -> dict[str, str]:
        try:
            block = self._in.decompress(compressed)
        except zlib.error as exc:
            raise ProtocolError(f"header block does not decompress: {exc}") from exc
        return parse_header_block(block)


def parse_header_block(block: bytes) -> dict[str, str]:
    """Name → value (values of one name NUL-joined, as on the wire); refuses what spdystream's reader refuses:
    a truncated block or an upper-case name."""
    try:
        (count,) = struct.unpack_from(">I", block)
        at, headers = 4, {}
        for _ in range(count):
            (n,) = struct.unpack_from(">I", block, at)
            name = block[at + 4 : at + 4 + n].decode()
            at += 4 + n
            (n,) = struct.unpack_from(">I", block, at)
            value = block[at + 4 : at + 4 + n].decode()
            at += 4 + n
            if at > len(block):
                raise ProtocolError("header block is truncated")
            if name != name.lower():
                raise ProtocolError(f"header name {name!r} is not lower case")
            headers[name] = value
    except (struct.error, UnicodeDecodeError) as exc:
        raise ProtocolError(f"malformed header block: {exc}") from exc
    return headers


def read_frame(read_exact: Callable[[int], bytes], codec: HeaderCodec) -> Frame:
    """The next frame; `read_exact(n)` returns n bytes or raises EOFError."""
    head = read_exact(8)
    word, flags_length = struct.unpack(">II", head)
    flags, length = flags_length >> 24, flags_length & 0xFFFFFF
    body = read_exact(length) if length else b""
    if not word & 0x80000000:
        return Frame(0, flags, word & 0x7FFFFFFF, data=body)
    version, kind = (word >> 16) & 0x7FFF, word & 0xFFFF
    if version != VERSION:
        raise ProtocolError(f"SPDY version {version} is not 3")
    try:
        if kind == SYN_STREAM:
            (stream,) = struct.unpack_from(">I", body)
            return Frame(kind, flags, stream & 0x7FFFFFFF, headers=codec.decode(body[10:]))
        if kind in (SYN_REPLY, HEADERS):
            (stream,) = struct.unpack_from(">I", body)
            return Frame(kind, flags, stream & 0x7FFFFFFF, headers=codec.decode(body[4:]))
        if kind in (RST_STREAM, WINDOW_UPDATE):
            stream, value = struct.unpack_from(">II", body)
            return Frame(kind, flags, stream & 0x7FFFFFFF, value=value & 0x7FFFFFFF)
        if kind == PING:
            return Frame(kind, flags, value=struct.unpack_from(">I", body)[0])
        if kind == GOAWAY:
            last, status = struct.unpack_from(">II", body)
            return Frame(kind, flags, last & 0x7FFFFFFF, value=status)
    except struct.error as exc:
        raise ProtocolError(f"control frame {kind} is too short") from exc
    return Frame(kind, flags, data=body)  # SETTINGS and unknown types: read and ignored (draft §2.2.1)


def _control(kind: int, flags: int, body: bytes) -> bytes:
    return struct.pack(">HHI", 0x8000 | VERSION, kind, (flags << 24) | len(body)) + body


def syn_stream(stream: int, headers: dict[str, str], codec: HeaderCodec, flags: int = 0) -> bytes:
    return _control(SYN_STREAM, flags, struct.pack(">IIBB", stream, 0, 0, 0) + codec.encode(headers))


def syn_reply(stream: int, headers: dict[str, str], codec: HeaderCodec, flags: int = 0) -> bytes:
    return _control(SYN_REPLY, flags, struct.pack(">I", stream) + codec.encode(headers))


def rst_stream(stream: int, status: int) -> bytes:
    return _control(RST_STREAM, 0, struct.pack(">II", stream, status))


def ping(ping_id: int) -> bytes:
    return _control(PING, 0, struct.pack(">I", ping_id))


def goaway(last_good: int, status: int = 0) -> bytes:
    return _control(GOAWAY, 0, struct.pack(">II", last_good, status))


def data(stream: int, payload: bytes, fin: bool = False) -> bytes:
    if len(payload) > 0xFFFFFF:
        raise ValueError("a data frame carries at most 2**24 - 1 bytes")
    return struct.pack(">II", stream & 0x7FFFFFFF, ((FLAG_FIN if fin else 0) << 24) | len(payload)) + payload

"""Open Badges 3.0 baking, "Baked Badge / PNG": one ``iTXt`` chunk, keyword
``openbadgecredential``, no compression, empty language tag and translated keyword, the
compact JWS as its text. ``read_baked`` reads files from strangers: it caps their size,
walks the chunks itself and checks every CRC before believing a byte."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = "openbadgecredential"
MAX_BAKED_BYTES = 5 * 1024 * 1024
_MAX_CHUNK = 2**31 - 1


class BakedBadgeError(ValueError):
    """A file that is not a readable baked badge; the message says why."""


@dataclass(frozen=True)
class _Chunk:
    kind: bytes
    data: bytes
    raw: bytes  # length, type, data and CRC, as found


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _chunks(png: bytes) -> list[_Chunk]:
    """The chunks up to IEND, every length and CRC checked; anything after IEND ignored."""
    if not isinstance(png, bytes | bytearray | memoryview):
        raise TypeError("a PNG is bytes")
    png = bytes(png)
    if len(png) > MAX_BAKED_BYTES:
        raise BakedBadgeError(
            f"The file is larger than {MAX_BAKED_BYTES // (1024 * 1024)} MB; "
            "a badge image is far smaller."
        )
    if not png.startswith(PNG_SIGNATURE):
        raise BakedBadgeError("This file is not a PNG image (its first bytes are not a PNG's).")
    chunks: list[_Chunk] = []
    pos = len(PNG_SIGNATURE)
    while True:
        if pos + 8 > len(png):
            raise BakedBadgeError("The PNG is truncated: it ends before its final (IEND) chunk.")
        length, kind = struct.unpack_from(">I4s", png, pos)
        if length > _MAX_CHUNK or not kind.isascii() or not kind.isalpha():
            raise BakedBadgeError(f"The PNG is corrupted: a chunk header at byte {pos} is invalid.")
        end = pos + 12 + length
        if end > len(png):
            raise BakedBadgeError(
                f"The PNG is truncated: its {kind.decode('ascii')} chunk is cut short."
            )
        data = png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack_from(">I", png, end - 4)
        if zlib.crc32(kind + data) != crc:
            raise BakedBadgeError(
                f"The PNG is corrupted: its {kind.decode('ascii')} chunk fails its CRC check."
            )
        if not chunks and kind != b"IHDR":
            raise BakedBadgeError("The PNG is corrupted: it does not start with an IHDR chunk.")
        chunks.append(_Chunk(kind, data, png[pos:end]))
        pos = end
        if kind == b"IEND":
            return chunks


def _is_ours(chunk: _Chunk) -> bool:
    return chunk.kind == b"iTXt" and chunk.data.split(b"\0", 1)[0] == KEYWORD.encode("ascii")


def bake(png: bytes, compact_jws: str) -> bytes:
    """The PNG with the credential baked in: one openbadgecredential iTXt chunk (any earlier
    one replaced), placed straight after IHDR so readers that stop early still find it."""
    if not compact_jws:
        raise ValueError("there is no credential to bake")
    try:
        text = compact_jws.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("the credential is not encodable as UTF-8") from exc
    chunks = _chunks(png)
    # keyword, NUL, compression flag 0, method 0, empty language tag, NUL,
    # empty translated keyword, NUL, text
    baked = _chunk(b"iTXt", KEYWORD.encode("ascii") + b"\0\0\0" + b"\0" + b"\0" + text)
    out = PNG_SIGNATURE + chunks[0].raw + baked
    out += b"".join(chunk.raw for chunk in chunks[1:] if not _is_ours(chunk))
    if len(out) > MAX_BAKED_BYTES:
        raise ValueError("the baked badge would be larger than read_baked accepts")
    return out


def read_baked(png: bytes) -> str:
    """The compact JWS baked into a badge PNG; BakedBadgeError says why there is none."""
    ours = [chunk for chunk in _chunks(png) if _is_ours(chunk)]
    if not ours:
        raise BakedBadgeError(
            "The PNG carries no Open Badges credential (no openbadgecredential iTXt chunk)."
        )
    if len(ours) > 1:
        raise BakedBadgeError(
            f"The PNG carries {len(ours)} openbadgecredential chunks; "
            "Open Badges allows exactly one."
        )
    rest = ours[0].data[len(KEYWORD) + 1 :]
    if len(rest) < 2:
        raise BakedBadgeError("The PNG is corrupted: its openbadgecredential chunk is malformed.")
    compressed, method, rest = rest[0], rest[1], rest[2:]
    fields = rest.split(b"\0", 2)
    if len(fields) != 3 or method != 0:
        raise BakedBadgeError("The PNG is corrupted: its openbadgecredential chunk is malformed.")
    if compressed:
        raise BakedBadgeError(
            "The openbadgecredential chunk is compressed, which Open Badges forbids."
        )
    try:
        text = fields[2].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BakedBadgeError("The openbadgecredential chunk's text is not UTF-8.") from exc
    if not text:
        raise BakedBadgeError("The openbadgecredential chunk is empty.")
    return text

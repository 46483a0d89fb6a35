"""The protobuf wire format, decoded by hand: enough to read SavedModel files without TensorFlow.

A message is a sequence of fields, each a varint key
``(field_number << 3) | wire_type`` followed by its value. Wire type 0 is a
varint (7 bits per byte, little-endian, high bit = more bytes follow, at
most 10 bytes); 1 is 8 fixed bytes; 5 is 4 fixed bytes; 2 is
length-delimited (a varint length, then that many bytes: strings, bytes,
embedded messages and packed repeated numbers). A repeated field is the
same key repeated; the last occurrence of a singular field wins. Wire types
3 and 4 (groups) are not used by the messages bnlint reads and are refused.
Every function raises ``ValueError`` on truncated or malformed input.
"""

from __future__ import annotations

from typing import Any, Iterator

__all__ = ["varint", "fields", "message"]


def varint(data: bytes, pos: int) -> tuple[int, int]:
    """The varint at *pos* and the position after it."""
    result = 0
    for shift in range(0, 70, 7):
        if pos >= len(data):
            raise ValueError(f"truncated varint at byte {pos}")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
    raise ValueError(f"varint longer than 10 bytes at byte {pos}")


def fields(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """``(field number, wire type, value)`` per field: an int for varints, bytes otherwise."""
    if not isinstance(data, bytes):  # (a damaged file: a number where a message was expected)
        raise ValueError("a number where a message was expected")
    pos, end = 0, len(data)
    while pos < end:
        key, pos = varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError(f"field number 0 at byte {pos}")
        if wire == 0:
            value, pos = varint(data, pos)
            yield number, wire, value
            continue
        if wire == 2:
            size, pos = varint(data, pos)
        elif wire == 1:
            size = 8
        elif wire == 5:
            size = 4
        else:
            raise ValueError(f"unsupported wire type {wire} at byte {pos}")
        if pos + size > end:
            raise ValueError(f"truncated: a field needs {size} bytes at byte {pos} of {end}")
        yield number, wire, data[pos:pos + size]
        pos += size


def message(data: bytes) -> dict[int, list]:
    """All fields of one message, by number (each a list of raw values)."""
    out: dict[int, list] = {}
    for number, _, value in fields(data):
        out.setdefault(number, []).append(value)
    return out

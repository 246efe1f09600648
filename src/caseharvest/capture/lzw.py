"""Decode the ``compress`` content-coding (Unix ``.Z``, LZW), which no maintained library does.

The format: ``1f 9d``, a flags byte (maximum code width, block mode), then LSB-first codes of
9 bits and up. Its one trap is inherited from the original ``compress``: codes are written in
groups of eight, and when the code width grows or a CLEAR code comes, the rest of the current
group is padding to skip. The algorithm follows Mark Adler's ``unlzw`` in pigz.
"""

from __future__ import annotations

MAGIC = b"\x1f\x9d"
_CLEAR = 256


class LzwError(ValueError):
    """The bytes are not (whole) ``compress`` data."""


def unlzw(data: bytes, limit: int) -> tuple[bytes, bool]:
    """Decompress ``compress`` data; stop once more than *limit* bytes came out.

    Returns the output (at most *limit* bytes) and whether it was cut at the limit.
    Raises LzwError for data that is not ``compress`` data or holds an impossible code.
    """
    if len(data) < 3 or data[:2] != MAGIC:
        raise LzwError("no compress (LZW) header")
    flags = data[2]
    max_bits = flags & 0x1F
    block_mode = bool(flags & 0x80)
    if flags & 0x60 or not 9 <= max_bits <= 16:
        raise LzwError(f"unsupported compress flags {flags:#x}")
    total_bits = (len(data) - 3) * 8
    # Padding lets a code be read as three bytes even at the very end.
    buf = data[3:] + b"\0\0\0"
    # Strings as bytes objects: each entry is an earlier output string plus one byte, so the
    # table never holds much more than the output itself (which *limit* bounds).
    table: list[bytes] = [bytes((i,)) for i in range(256)]
    if block_mode:
        table.append(b"")  # code 256 is CLEAR, never a string
    bits, mask = 9, 0x1FF
    bit_pos = group_start = 0
    out: list[bytes] = []
    produced = 0
    prev: bytes | None = None

    def align(width: int) -> int:
        # Skip the rest of the group of eight codes of *width* bits begun at group_start.
        group = width * 8
        used = (bit_pos - group_start) % group
        return bit_pos + (group - used if used else 0)

    while True:
        if len(table) - 1 >= mask and bits < max_bits:
            bit_pos = group_start = align(bits)
            bits += 1
            mask = (mask << 1) | 1
        if bit_pos + bits > total_bits:
            break
        at = bit_pos >> 3
        code = ((buf[at] | buf[at + 1] << 8 | buf[at + 2] << 16) >> (bit_pos & 7)) & mask
        bit_pos += bits
        if code == _CLEAR and block_mode:
            bit_pos = group_start = align(bits)
            bits, mask = 9, 0x1FF
            del table[257:]
            prev = None
            continue
        if code < len(table):
            entry = table[code]
            if prev is not None and len(table) <= mask:
                table.append(prev + entry[:1])
        elif code == len(table) and prev is not None:
            # The KwKwK case: the code being defined right now.
            entry = prev + prev[:1]
            if len(table) <= mask:
                table.append(entry)
        else:
            raise LzwError(f"invalid LZW code {code} at bit {bit_pos - bits}")
        out.append(entry)
        produced += len(entry)
        if produced > limit:
            return b"".join(out)[:limit], True
        prev = entry
    return b"".join(out), False

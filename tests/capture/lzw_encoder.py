"""A ``compress`` (LZW) encoder for tests, written from the format; gzip -d checks its output."""

from __future__ import annotations


class _Bits:
    """LSB-first bit packing in groups of eight codes, padded when the width changes."""

    def __init__(self) -> None:
        self.out = bytearray(b"\x1f\x9d")
        self.acc = 0
        self.count = 0
        self.in_group = 0

    def put(self, value: int, width: int) -> None:
        self.acc |= value << self.count
        self.count += width
        self.in_group += width
        while self.count >= 8:
            self.out.append(self.acc & 0xFF)
            self.acc >>= 8
            self.count -= 8

    def pad(self, width: int) -> None:
        rest = self.in_group % (width * 8)
        if rest:
            self.put(0, width * 8 - rest)
        self.in_group = 0

    def finish(self) -> bytes:
        if self.count:
            self.out.append(self.acc & 0xFF)
        return bytes(self.out)


def lzw_compress(data: bytes, max_bits: int = 16) -> bytes:
    """*data* as ``compress -b max_bits`` writes it (block mode: CLEAR when the table is full)."""
    bits = _Bits()
    bits.out.append(0x80 | max_bits)
    width = 9
    table = {bytes((i,)): i for i in range(256)}
    next_code = 257

    def emit(code: int) -> None:
        nonlocal width
        bits.put(code, width)
        if next_code > (1 << width) - 1 and width < max_bits:
            bits.pad(width)
            width += 1

    if not data:
        return bits.finish()
    current = data[:1]
    for byte in data[1:]:
        longer = current + bytes((byte,))
        if longer in table:
            current = longer
            continue
        emit(table[current])
        if next_code < 1 << max_bits:
            table[longer] = next_code
            next_code += 1
        else:
            bits.put(256, width)  # CLEAR, then start again at 9 bits
            bits.pad(width)
            width = 9
            table = {bytes((i,)): i for i in range(256)}
            next_code = 257
        current = bytes((byte,))
    emit(table[current])
    return bits.finish()

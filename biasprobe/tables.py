"""Truth tables: packing bits into 64-bit words and the hex names of docs/definitions.md §1.

A table of N bits f(0) f(1) ... f(N-1) is read as the big-endian number
sum_i f(i) 2^(N-1-i). Packed form: W = ceil(N/64) uint64 words, most significant
word first, so that sorting rows of words sorts the numbers. Hex form: that
number in ceil(N/4) lower-case hex digits, zero-padded.
"""

from __future__ import annotations

import re

import numpy as np

from biasprobe.errors import UserError


def n_words(n_bits: int) -> int:
    return (n_bits + 63) // 64


def pack(bits: np.ndarray) -> np.ndarray:
    """(B, N) 0/1 array -> (B, W) uint64 words, most significant word first."""
    bits = np.asarray(bits)
    b, n = bits.shape
    w = n_words(n)
    padded = np.zeros((b, 64 * w), dtype=np.uint8)
    padded[:, 64 * w - n :] = bits != 0  # left-pad: the number keeps its value
    packed = np.packbits(padded, axis=1, bitorder="big")
    return packed.view(">u8").astype(np.uint64).reshape(b, w)


def unpack(words: np.ndarray, n_bits: int) -> np.ndarray:
    """(B, W) uint64 -> (B, N) uint8 bits; inverse of `pack`."""
    words = np.ascontiguousarray(words, dtype=np.uint64)
    b, w = words.shape
    if w != n_words(n_bits):
        raise ValueError(f"{w} words cannot hold exactly {n_bits} bits")
    raw = words.astype(">u8").view(np.uint8).reshape(b, 8 * w)
    return np.unpackbits(raw, axis=1, bitorder="big")[:, 64 * w - n_bits :]


def hex_digits(n_bits: int) -> int:
    return (n_bits + 3) // 4


_HEX_PAIRS = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")


def to_hex(words: np.ndarray, n_bits: int) -> list[str]:
    """(B, W) packed words -> hex strings of ceil(N/4) digits (vectorised: a byte -> two-digit lookup)."""
    words = np.ascontiguousarray(words, dtype=np.uint64)
    if words.ndim != 2:
        raise ValueError("to_hex needs a (B, W) array of packed words")
    b, w = words.shape
    digits = hex_digits(n_bits)
    if b == 0:
        return []
    raw = words.astype(">u8").view(np.uint8).reshape(b, 8 * w)
    chars = _HEX_PAIRS[raw].view("S1").reshape(b, 16 * w)[:, 16 * w - digits :]
    return np.ascontiguousarray(chars).view(f"S{digits}").reshape(b).astype(f"U{digits}").tolist()


def _name_pattern(digits: int) -> re.Pattern:
    return re.compile(rf"(?:0[xX])?[0-9a-fA-F]{{{digits}}}")


def from_hex(names, n_bits: int) -> np.ndarray:
    """Hex strings -> (B, W) packed words; a UserError names the first bad one.

    The rule (docs/definitions.md §1): exactly ceil(N/4) ASCII hex digits, either case,
    optionally after one "0x", surrounding white space ignored. Shorter names are refused
    rather than zero-padded: "ff" on a 32-input domain is more likely a table of another
    domain than the function 000000ff.
    """
    w = n_words(n_bits)
    digits = hex_digits(n_bits)
    pattern = _name_pattern(digits)
    out = np.zeros((len(names), w), dtype=np.uint64)
    for i, name in enumerate(names):
        text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        if not isinstance(text, str) or not pattern.fullmatch(text.strip()):
            raise UserError(f"function {_show(name)} is not a truth table of {n_bits} inputs: it must be exactly "
                            f"{digits} hex digits (0-9, a-f)")
        text = text.strip()[-digits:]
        value = int(text, 16)
        if value >> n_bits:
            raise UserError(f"function {_show(name)} has more than {n_bits} bits (its first digit is too large)")
        for j in range(w - 1, -1, -1):
            out[i, j] = value & 0xFFFF_FFFF_FFFF_FFFF
            value >>= 64
    return out


def _show(name) -> str:
    text = repr(name)
    return text if len(text) <= 60 else text[:57] + "..."


_NIBBLE = np.full(256, 255, dtype=np.uint8)  # ASCII byte -> hex digit value; 255 = not a hex digit
_NIBBLE[np.frombuffer(b"0123456789abcdef", np.uint8)] = np.arange(16)
_NIBBLE[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16)


def hex_to_bits(names, n_bits: int) -> np.ndarray:
    """Hex strings (or bytes) -> (B, N) uint8 bits; vectorised when every name is exactly ceil(N/4) hex digits.

    Anything else (0x prefixes, spaces, short or bad names) goes through `from_hex`: its rule and its messages.
    """
    fast = _exact_hex_to_bits(names, n_bits)
    if fast is not None:
        return fast
    names = [x.decode() if isinstance(x, bytes) else x for x in names]
    return unpack(from_hex(names, n_bits), n_bits)


def _exact_hex_to_bits(names, n_bits: int) -> np.ndarray | None:
    arr = np.asarray(names)
    if arr.ndim != 1 or not len(arr) or arr.dtype.kind not in "SU":
        return None
    if arr.dtype.kind == "U":
        try:
            arr = arr.astype("S")
        except UnicodeEncodeError:
            return None
    digits = hex_digits(n_bits)
    if arr.dtype.itemsize != digits:  # shorter names are NUL-padded and fail the digit check below
        return None
    nibbles = _NIBBLE[np.frombuffer(arr.tobytes(), np.uint8).reshape(len(arr), digits)]
    if (nibbles == 255).any():
        return None
    if digits % 2:  # a leading zero nibble makes whole bytes
        nibbles = np.concatenate([np.zeros((len(arr), 1), np.uint8), nibbles], axis=1)
    bits = np.unpackbits((nibbles[:, 0::2] << 4) | nibbles[:, 1::2], axis=1)
    pad = bits.shape[1] - n_bits
    if bits[:, :pad].any():  # more than n_bits bits: let from_hex name the bad one
        return None
    return np.ascontiguousarray(bits[:, pad:])


def bits_to_hex(bits: np.ndarray) -> list[str]:
    bits = np.asarray(bits)
    return to_hex(pack(bits), bits.shape[1])

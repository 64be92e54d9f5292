#!/usr/bin/python3
"""Independent decoder of GGML tensor blocks, for cross-checking umi's C code.

Written from the published block layouts (GGML's ggml-common.h, restated in
docs/FORMATS.md), vectorised with numpy and sharing no code with src/quant/.
Every multiplication is done in float32 in the same grouping as the format's
defining formula (e.g. Q6_K is (d * scale) * q), so results are bit-exact.

Usage:
  decode_ref.py decode MANIFEST
      MANIFEST lines: "<type name> <input file> <output file>"; each input holds
      raw blocks, each output receives little-endian float32 values.
  decode_ref.py selftest
      Known-answer checks of a few hand-made blocks.
"""
import sys

import numpy as np

QK_K = 256
IQ4NL_LEVELS = np.array([-127, -104, -83, -65, -49, -35, -22, -10,
                         1, 13, 25, 38, 53, 69, 89, 113], dtype=np.float32)


# ----------------------------------------------------------------------------- helpers

def _blocks(raw, size):
    if len(raw) % size:
        raise ValueError(f"{len(raw)} bytes is not a whole number of {size}-byte blocks")
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, size)


def _f16(b, off):
    """fp16 field at byte offset off of every block, widened exactly to float32."""
    return b[:, off:off + 2].copy().view("<f2")[:, 0].astype(np.float32)


def _u16(b, off):
    return b[:, off:off + 2].copy().view("<u2")[:, 0].astype(np.uint32)


def _u32(b, off):
    return b[:, off:off + 4].copy().view("<u4")[:, 0]


def _f32(v):
    return np.asarray(v).astype(np.float32)


def _nibbles_32(qs):
    """16 bytes -> 32 codes: element j < 16 is the low nibble of byte j,
    element j >= 16 the high nibble of byte j - 16."""
    return np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int32)


J = np.arange(QK_K)


# ----------------------------------------------------------------------------- float types

def dec_f32(raw):
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def dec_f16(raw):
    return np.frombuffer(raw, dtype="<f2").astype(np.float32)


def dec_bf16(raw):
    u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
    return u.view(np.float32)


# ----------------------------------------------------------------------------- 32-wide blocks

def dec_q4_0(raw):
    b = _blocks(raw, 18)
    d = _f16(b, 0)[:, None]
    q = _f32(_nibbles_32(b[:, 2:18]) - 8)
    return (q * d).ravel()


def dec_q4_1(raw):
    b = _blocks(raw, 20)
    d, m = _f16(b, 0)[:, None], _f16(b, 2)[:, None]
    q = _f32(_nibbles_32(b[:, 4:20]))
    return (q * d + m).ravel()


def _fifth_bits(b, off):
    qh = _u32(b, off)
    return ((qh[:, None] >> np.arange(32, dtype=np.uint32)) & 1).astype(np.int32)


def dec_q5_0(raw):
    b = _blocks(raw, 22)
    d = _f16(b, 0)[:, None]
    q = _nibbles_32(b[:, 6:22]) | (_fifth_bits(b, 2) << 4)
    return (_f32(q - 16) * d).ravel()


def dec_q5_1(raw):
    b = _blocks(raw, 24)
    d, m = _f16(b, 0)[:, None], _f16(b, 2)[:, None]
    q = _nibbles_32(b[:, 8:24]) | (_fifth_bits(b, 4) << 4)
    return (_f32(q) * d + m).ravel()


def dec_q8_0(raw):
    b = _blocks(raw, 34)
    d = _f16(b, 0)[:, None]
    q = _f32(b[:, 2:34].view(np.int8))
    return (q * d).ravel()


def dec_q8_1(raw):
    b = _blocks(raw, 36)
    d = _f16(b, 0)[:, None]  # the second half, s = d * sum(q), is not needed
    q = _f32(b[:, 4:36].view(np.int8))
    return (q * d).ravel()


def dec_iq4_nl(raw):
    b = _blocks(raw, 18)
    d = _f16(b, 0)[:, None]
    return (d * IQ4NL_LEVELS[_nibbles_32(b[:, 2:18])]).ravel()


# ----------------------------------------------------------------------------- K-quants

# 2-bit fields (Q2_K, Q3_K low bits): 64 bytes, two 128-element halves of 32
# bytes each; within a half, element 32*g + l sits in byte l, bit pair g.
_Q2_BYTE = (J // 128) * 32 + J % 32
_Q2_SHIFT = (2 * ((J % 128) // 32)).astype(np.uint8)

# 4-bit fields (Q4_K, Q5_K): four 64-element chunks of 32 bytes; element l of a
# chunk is the low nibble of byte l, element 32 + l its high nibble.
_Q4_BYTE = (J // 64) * 32 + J % 32
_Q4_HIGH = ((J // 32) % 2).astype(bool)

# Bit j // 32 of byte j % 32 (Q3_K hmask, Q5_K qh).
_HBIT_BYTE = J % 32
_HBIT_SHIFT = (J // 32).astype(np.uint8)


def _two_bit(qs):
    return ((qs[:, _Q2_BYTE] >> _Q2_SHIFT) & 3).astype(np.int32)


def _four_bit(qs):
    byte = qs[:, _Q4_BYTE]
    return np.where(_Q4_HIGH, byte >> 4, byte & 0x0F).astype(np.int32)


def _high_bit(mask):
    return ((mask[:, _HBIT_BYTE] >> _HBIT_SHIFT) & 1).astype(np.int32)


def _six_bit_scale_min(s):
    """12 bytes -> 8 scales and 8 mins of 6 bits (Q4_K, Q5_K)."""
    s = s.astype(np.int32)
    sc = np.empty((s.shape[0], 8), np.int32)
    mn = np.empty((s.shape[0], 8), np.int32)
    sc[:, :4] = s[:, 0:4] & 63
    mn[:, :4] = s[:, 4:8] & 63
    sc[:, 4:] = (s[:, 8:12] & 0x0F) | ((s[:, 0:4] >> 6) << 4)
    mn[:, 4:] = (s[:, 8:12] >> 4) | ((s[:, 4:8] >> 6) << 4)
    return sc, mn


def dec_q2_K(raw):
    b = _blocks(raw, 84)
    scales = b[:, 0:16].astype(np.int32)
    d, dmin = _f16(b, 80)[:, None], _f16(b, 82)[:, None]
    dl = d * _f32(scales & 0x0F)          # [n, 16]
    ml = dmin * _f32(scales >> 4)
    q = _f32(_two_bit(b[:, 16:80]))
    sb = J // 16
    return (dl[:, sb] * q - ml[:, sb]).ravel()


def dec_q3_K(raw):
    b = _blocks(raw, 110)
    hmask, qs, s = b[:, 0:32], b[:, 32:96], b[:, 96:108].astype(np.int32)
    d = _f16(b, 108)[:, None]
    k = np.arange(16)
    low = np.where(k < 8, s[:, k % 8] & 0x0F, s[:, k % 8] >> 4)
    high = (s[:, 8 + k % 4] >> (2 * (k // 4))) & 3
    dl = d * _f32((low | (high << 4)) - 32)
    q = _two_bit(qs) - 4 * (1 - _high_bit(hmask))
    return (dl[:, J // 16] * _f32(q)).ravel()


def _dec_q45_K(b, q):
    d, dmin = _f16(b, 0)[:, None], _f16(b, 2)[:, None]
    sc, mn = _six_bit_scale_min(b[:, 4:16])
    dl, ml = d * _f32(sc), dmin * _f32(mn)
    sb = J // 32
    return (dl[:, sb] * _f32(q) - ml[:, sb]).ravel()


def dec_q4_K(raw):
    b = _blocks(raw, 144)
    return _dec_q45_K(b, _four_bit(b[:, 16:144]))


def dec_q5_K(raw):
    b = _blocks(raw, 176)
    return _dec_q45_K(b, _four_bit(b[:, 48:176]) | (_high_bit(b[:, 16:48]) << 4))


def dec_q6_K(raw):
    b = _blocks(raw, 210)
    ql, qh = b[:, 0:128], b[:, 128:192]
    scales = _f32(b[:, 192:208].view(np.int8))
    d = _f16(b, 208)[:, None]
    h, g, l = J // 128, (J % 128) // 32, J % 32
    low_byte = ql[:, 64 * h + 32 * (g % 2) + l]
    low = np.where(g >= 2, low_byte >> 4, low_byte & 0x0F).astype(np.int32)
    high = ((qh[:, 32 * h + l] >> (2 * g).astype(np.uint8)) & 3).astype(np.int32)
    q = _f32((low | (high << 4)) - 32)
    return ((d * scales)[:, J // 16] * q).ravel()


def dec_q8_K(raw):
    b = _blocks(raw, 292)
    d = b[:, 0:4].copy().view("<f4")[:, 0][:, None]
    return (d * _f32(b[:, 4:260].view(np.int8))).ravel()


def dec_iq4_xs(raw):
    b = _blocks(raw, 136)
    d = _f16(b, 0)[:, None]
    sh = _u16(b, 2)
    sl = b[:, 4:8].astype(np.uint32)
    k = np.arange(8)
    ls = ((sl[:, k // 2] >> (4 * (k % 2))) & 0x0F) | (((sh[:, None] >> (2 * k)) & 3) << 4)
    dl = d * _f32(ls.astype(np.int32) - 32)   # [n, 8]
    qs = b[:, 8:136].reshape(-1, 8, 16)
    codes = np.concatenate([qs & 0x0F, qs >> 4], axis=2).reshape(-1, QK_K)
    return (dl[:, J // 32] * IQ4NL_LEVELS[codes]).ravel()


DECODERS = {
    "f32": dec_f32, "f16": dec_f16, "bf16": dec_bf16,
    "q4_0": dec_q4_0, "q4_1": dec_q4_1, "q5_0": dec_q5_0, "q5_1": dec_q5_1,
    "q8_0": dec_q8_0, "q8_1": dec_q8_1,
    "q2_K": dec_q2_K, "q3_K": dec_q3_K, "q4_K": dec_q4_K, "q5_K": dec_q5_K,
    "q6_K": dec_q6_K, "q8_K": dec_q8_K,
    "iq4_nl": dec_iq4_nl, "iq4_xs": dec_iq4_xs,
}


def decode(name, raw):
    y = DECODERS[name](raw)
    assert y.dtype == np.float32, f"{name}: decoder produced {y.dtype}"
    return y


# ----------------------------------------------------------------------------- self test

def _half(v):
    return np.array([v], dtype="<f2").tobytes()


def selftest():
    fails = 0

    def expect(name, raw, want):
        nonlocal fails
        got = decode(name, raw)
        if not np.array_equal(got[:len(want)], np.array(want, dtype=np.float32)):
            print(f"selftest {name}: got {got[:len(want)]} want {want}")
            fails += 1

    # Q4_0 d = 0.5, byte 0 = 0x9F: element 0 -> 15 - 8 = 7, element 16 -> 9 - 8 = 1
    qs = bytes([0x9F]) + bytes([0x88] * 15)
    raw = _half(0.5) + qs
    got = decode("q4_0", raw)
    if got[0] != 3.5 or got[16] != 0.5 or got[1] != 0.0:
        print("selftest q4_0:", got[[0, 1, 16]])
        fails += 1
    # Q8_0 d = 2: q = -3 -> -6
    expect("q8_0", _half(2.0) + bytes([0xFD]) + bytes(31), [-6.0, 0.0])
    # Q4_K: d = 1, dmin = 1, scale 0 = 2, min 0 = 1, first byte 0x05 -> 2*5 - 1 = 9
    scales = bytes([2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    raw = _half(1.0) + _half(1.0) + scales + bytes([0x05]) + bytes(127)
    expect("q4_K", raw, [9.0, -1.0])
    # IQ4_NL: d = 1, code 0 -> -127, code 15 -> 113
    expect("iq4_nl", _half(1.0) + bytes([0xF0]) + bytes(15), [-127.0])
    return fails


def main(argv):
    if len(argv) == 2 and argv[1] == "selftest":
        fails = selftest()
        print("decode_ref selftest:", "ok" if not fails else f"{fails} failed")
        return 1 if fails else 0
    if len(argv) != 3 or argv[1] != "decode":
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[2]) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            name, src, dst = parts
            with open(src, "rb") as fi:
                raw = fi.read()
            decode(name, raw).astype("<f4").tofile(dst)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

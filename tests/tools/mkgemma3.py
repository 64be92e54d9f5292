#!/usr/bin/python3
"""mkgemma3.py - write a small random-weight gemma3 GGUF for umi's tests.

gemma3 as the reference engine loads it: tied output, per-head attn_q_norm /
attn_k_norm, pre and post norms around attention and the FFN, GeGLU,
attention.sliding_window with every sliding_window_pattern-th layer global
(default 6: layers 5, 11, ... are global), rope.freq_base for global layers
and 10000 (rope.freq_base_swa) for sliding ones, no soft-capping.

Weights are seeded: every tensor draws from its own generator seeded by
(--seed, crc32(name)). Matrices N(0,1)*--init-std (0.02) stored as --dtype, RMSNorm
weights 1 + N(0,1)*0.1 in F32. The tokenizer.* metadata is copied verbatim
from --vocab-from (any GGUF). numpy only.

  mkgemma3.py --vocab-from ../shared/models/stories260K.gguf -o tests/models/rnd-gemma3-f16.gguf
"""
import argparse
import struct
import zlib

import numpy as np

# GGUF value types (gguf.md) and the fixed-size ones' struct codes.
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SIZES = {U8: 1, I8: 1, U16: 2, I16: 2, U32: 4, I32: 4, F32: 4, BOOL: 1, U64: 8, I64: 8, F64: 8}
GGML_F32, GGML_F16 = 0, 1


def read_tokenizer_kvs(path):
    """The raw bytes (key, type and value) of every tokenizer.* entry."""
    b = open(path, "rb").read()
    assert b[:4] == b"GGUF", path
    n_kv = struct.unpack_from("<Q", b, 16)[0]
    pos = 24
    out = []

    def string(p):
        n = struct.unpack_from("<Q", b, p)[0]
        return b[p + 8:p + 8 + n].decode(), p + 8 + n

    def skip_value(t, p):
        if t == STR:
            return string(p)[1]
        if t == ARR:
            et, n = struct.unpack_from("<IQ", b, p)
            p += 12
            if et in SIZES:
                return p + n * SIZES[et]
            for _ in range(n):
                p = skip_value(et, p)
            return p
        return p + SIZES[t]

    for _ in range(n_kv):
        start = pos
        key, pos = string(pos)
        t = struct.unpack_from("<I", b, pos)[0]
        pos = skip_value(t, pos + 4)
        if key.startswith("tokenizer."):
            out.append((key, b[start:pos]))
    return out


class Writer:
    def __init__(self):
        self.kv = []       # raw encoded entries
        self.tensors = []  # (name, ne, ggml type, bytes)

    @staticmethod
    def _str(s):
        e = s.encode()
        return struct.pack("<Q", len(e)) + e

    def add(self, key, t, value):
        code = {U32: "<I", F32: "<f"}[t]
        self.kv.append(self._str(key) + struct.pack("<I", t) + struct.pack(code, value))

    def add_str(self, key, value):
        self.kv.append(self._str(key) + struct.pack("<I", STR) + self._str(value))

    def tensor(self, name, arr, ggml_type):
        """arr has the numpy shape (n_out, n_in); GGUF stores ne innermost first."""
        data = arr.astype(np.float16 if ggml_type == GGML_F16 else np.float32).tobytes()
        self.tensors.append((name, list(reversed(arr.shape)), ggml_type, data))

    def write(self, path, align=32):
        head = b"GGUF" + struct.pack("<IQQ", 3, len(self.tensors), len(self.kv)) + b"".join(self.kv)
        offset, infos, blobs = 0, [], []
        for name, ne, t, data in self.tensors:
            infos.append(self._str(name) + struct.pack("<I", len(ne)) +
                         b"".join(struct.pack("<Q", n) for n in ne) + struct.pack("<IQ", t, offset))
            pad = -len(data) % align
            blobs.append(data + b"\0" * pad)
            offset += len(data) + pad
        head += b"".join(infos)
        head += b"\0" * (-len(head) % align)
        with open(path, "wb") as f:
            f.write(head + b"".join(blobs))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vocab-from", required=True)
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--layers", type=int, default=7)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--head-dim", type=int, default=48)
    ap.add_argument("--ffn", type=int, default=256)
    ap.add_argument("--sliding-window", type=int, default=32)
    ap.add_argument("--pattern", type=int, default=0, help="write attention.sliding_window_pattern (0: leave it out)")
    ap.add_argument("--rope-base", type=float, default=1e6)
    ap.add_argument("--rms-eps", type=float, default=1e-6)
    ap.add_argument("--dtype", choices=["f32", "f16"], default="f16")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--init-std", type=float, default=0.02)
    a = ap.parse_args()

    toks = read_tokenizer_kvs(a.vocab_from)
    tok_list = [raw for key, raw in toks if key == "tokenizer.ggml.tokens"][0]
    n_vocab = struct.unpack_from("<Q", tok_list, 8 + len("tokenizer.ggml.tokens") + 4 + 4)[0]

    arch, w = "gemma3", Writer()
    w.add_str("general.architecture", arch)
    w.add_str("general.name", f"synthetic-gemma3-d{a.dim}-l{a.layers}")
    w.add("general.file_type", U32, 1 if a.dtype == "f16" else 0)
    w.add("general.quantization_version", U32, 2)
    for key, t, v in [("context_length", U32, 4096), ("embedding_length", U32, a.dim),
                      ("block_count", U32, a.layers), ("feed_forward_length", U32, a.ffn),
                      ("attention.head_count", U32, a.heads), ("attention.head_count_kv", U32, a.kv_heads),
                      ("attention.key_length", U32, a.head_dim), ("attention.value_length", U32, a.head_dim),
                      ("attention.layer_norm_rms_epsilon", F32, a.rms_eps), ("rope.freq_base", F32, a.rope_base),
                      ("attention.sliding_window", U32, a.sliding_window)]:
        w.add(f"{arch}.{key}", t, v)
    if a.pattern:
        w.add(f"{arch}.attention.sliding_window_pattern", U32, a.pattern)
    w.kv += [raw for _, raw in toks]

    wt = GGML_F16 if a.dtype == "f16" else GGML_F32

    def rng(name):
        return np.random.default_rng([a.seed, zlib.crc32(name.encode())])

    def mat(name, n_out, n_in):
        w.tensor(name, rng(name).standard_normal((n_out, n_in), dtype=np.float32) * a.init_std, wt)

    def norm(name, n):
        w.tensor(name, 1.0 + rng(name).standard_normal(n, dtype=np.float32) * 0.1, GGML_F32)

    q, kv = a.heads * a.head_dim, a.kv_heads * a.head_dim
    mat("token_embd.weight", n_vocab, a.dim)
    norm("output_norm.weight", a.dim)
    for il in range(a.layers):
        p = f"blk.{il}."
        norm(p + "attn_norm.weight", a.dim)
        mat(p + "attn_q.weight", q, a.dim)
        mat(p + "attn_k.weight", kv, a.dim)
        mat(p + "attn_v.weight", kv, a.dim)
        norm(p + "attn_q_norm.weight", a.head_dim)
        norm(p + "attn_k_norm.weight", a.head_dim)
        mat(p + "attn_output.weight", a.dim, q)
        norm(p + "post_attention_norm.weight", a.dim)
        norm(p + "ffn_norm.weight", a.dim)
        mat(p + "ffn_gate.weight", a.ffn, a.dim)
        mat(p + "ffn_up.weight", a.ffn, a.dim)
        mat(p + "ffn_down.weight", a.dim, a.ffn)
        norm(p + "post_ffw_norm.weight", a.dim)
    w.write(a.out)


if __name__ == "__main__":
    main()

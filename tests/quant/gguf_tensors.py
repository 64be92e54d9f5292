#!/usr/bin/python3
"""Extract slices of real tensors from the shared GGUF models for test_quant.

The rnd-llama-<type>.gguf files were quantized by the reference engine's
llama-quantize from rnd-llama-f32.gguf, so for each quantized tensor we also
write the same rows of its F32 source. test_quant then checks umi's decoding
against decode_ref.py (bit-exact), the decoded values against the source
(quantization error bounds: catches any misreading of a layout that both
decoders might share), and umi's simple quantizers against the reference's
bytes.

Usage: gguf_tensors.py MODELS_DIR OUT_DIR
Writes OUT_DIR/manifest.txt, one line per slice:
  <ggml type id> <n elements> <row length> <raw file> <decoded file> <source file or -> <label>
Models that are missing are skipped (the manifest may be empty).
"""
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import decode_ref  # noqa: E402

# GGML type id -> (name, elements per block, bytes per block)
TYPES = {
    0: ("f32", 1, 4), 1: ("f16", 1, 2), 2: ("q4_0", 32, 18), 3: ("q4_1", 32, 20),
    6: ("q5_0", 32, 22), 7: ("q5_1", 32, 24), 8: ("q8_0", 32, 34),
    10: ("q2_K", 256, 84), 11: ("q3_K", 256, 110), 12: ("q4_K", 256, 144),
    13: ("q5_K", 256, 176), 14: ("q6_K", 256, 210), 20: ("iq4_nl", 32, 18),
    23: ("iq4_xs", 256, 136), 30: ("bf16", 1, 2),
}

MODELS = ["f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k_m",
          "q4_k_m", "q5_k_m", "q6_k", "iq4_nl", "iq4_xs"]
TENSORS_PER_TYPE = 2
MAX_ROWS = 64


class Gguf:
    """Just enough GGUF (v2/v3, little-endian) to find tensor data."""

    SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
              10: "<Q", 11: "<q", 12: "<d"}

    def __init__(self, path):
        with open(path, "rb") as f:
            self.buf = f.read()
        if self.buf[:4] != b"GGUF":
            raise ValueError(f"{path}: not GGUF")
        self.pos = 4
        version, n_tensors, n_kv = self._take("<I"), self._take("<Q"), self._take("<Q")
        if version not in (2, 3):
            raise ValueError(f"{path}: GGUF version {version}")
        alignment = 32
        for _ in range(n_kv):
            key = self._str()
            value = self._value(self._take("<I"))
            if key == "general.alignment":
                alignment = int(value)
        self.tensors = []
        for _ in range(n_tensors):
            name = self._str()
            ne = [self._take("<Q") for _ in range(self._take("<I"))]
            ttype, off = self._take("<I"), self._take("<Q")
            self.tensors.append((name, ne, ttype, off))
        self.data = self.pos + (-self.pos) % alignment

    def _take(self, fmt):
        v = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return v

    def _str(self):
        n = self._take("<Q")
        s = self.buf[self.pos:self.pos + n]
        self.pos += n
        return s.decode("utf-8", "replace")

    def _value(self, t):
        if t == 8:
            return self._str()
        if t == 9:
            et, n = self._take("<I"), self._take("<Q")
            return [self._value(et) for _ in range(n)]
        return self._take(self.SCALAR[t])

    def rows(self, tensor, n_rows):
        name, ne, ttype, off = tensor
        _, blck, size = TYPES[ttype]
        row_bytes = ne[0] // blck * size
        start = self.data + off
        return self.buf[start:start + n_rows * row_bytes]


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    models_dir, out_dir = argv[1], argv[2]
    src_path = os.path.join(models_dir, "rnd-llama-f32.gguf")
    source = Gguf(src_path) if os.path.exists(src_path) else None
    source_by_name = {t[0]: t for t in source.tensors} if source else {}

    files = [f"rnd-llama-{m}.gguf" for m in MODELS] + ["TinyStories-656K-Q8_0.gguf"]
    lines = []
    for fname in files:
        path = os.path.join(models_dir, fname)
        if not os.path.exists(path):
            continue
        g = Gguf(path)
        per_type = {}
        for t in g.tensors:
            name, ne, ttype, _ = t
            if ttype == 0 or ttype not in TYPES or len(ne) < 2:
                continue
            if per_type.get(ttype, 0) >= TENSORS_PER_TYPE:
                continue
            per_type[ttype] = per_type.get(ttype, 0) + 1
            n_rows = min(MAX_ROWS, int(np.prod(ne[1:])))
            raw = g.rows(t, n_rows)
            idx = len(lines)
            raw_file = os.path.join(out_dir, f"t{idx}.raw")
            dec_file = os.path.join(out_dir, f"t{idx}.dec")
            with open(raw_file, "wb") as f:
                f.write(raw)
            decode_ref.decode(TYPES[ttype][0], raw).astype("<f4").tofile(dec_file)
            src_file = "-"
            st = source_by_name.get(name) if fname.startswith("rnd-llama") else None
            if st is not None and st[2] == 0 and st[1] == ne:
                src_file = os.path.join(out_dir, f"t{idx}.src")
                with open(src_file, "wb") as f:
                    f.write(source.rows(st, n_rows))
            label = f"{fname}:{name}"
            lines.append(f"{ttype} {n_rows * ne[0]} {ne[0]} {raw_file} {dec_file} {src_file} {label}\n")
    with open(os.path.join(out_dir, "manifest.txt"), "w") as f:
        f.writelines(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

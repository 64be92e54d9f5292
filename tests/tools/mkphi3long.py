#!/usr/bin/env python3
"""Write the small phi3 models with LongRoPE factor tables (Phi-3-128k,
Phi-3.5-mini and Phi-4-mini files carry them) whose reference outputs live
beside them.

../shared/tools/mkmodel.py makes the phi3 model; this adds what it has no
options for: rope_factors_long.weight and rope_factors_short.weight (one
divisor per rotated pair, f32 [n_rot/2]), rope.scaling.attn_factor, and an
original context of ORIG tokens. The reference multiplies each rotated
pair's frequency by 1/factor, taking the long table when a sequence's
context exceeds the original one and the short table otherwise, and scales
cos/sin by the attention factor.
usage: mkphi3long.py SHARED_DIR OUT.gguf ORIG
  ORIG 64 with the goldens' 128-token contexts exercises the long table,
  ORIG 4096 the short one.
"""
import importlib.util
import sys

import numpy as np

shared, out, orig = sys.argv[1], sys.argv[2], int(sys.argv[3])
spec = importlib.util.spec_from_file_location("mkmodel", f"{shared}/tools/mkmodel.py")
mk = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mk)

ROPE_DIM = 48  # of head width 64: partial rotary, as Phi-4-mini
write = mk.GGUFWriter.write


def table(kind):
    x = np.arange(ROPE_DIM // 2, dtype=np.float32) / (ROPE_DIM // 2)
    # long: low frequencies stretched up to ~20x; short: close to 1
    v = 1.0 + 19.0 * x**3 if kind == "long" else 1.0 + 0.25 * x**2
    return lambda: iter([v.astype(np.float32)])


def write_with_extras(self, path, progress=False):
    a = "phi3"
    self.add_u32(f"{a}.rope.scaling.original_context_length", orig)
    self.add_f32(f"{a}.rope.scaling.attn_factor", 1.19)  # sqrt(1 + ln(4096/orig) / ln(orig)) for orig 64
    for kind in ("long", "short"):
        self.add_tensor(f"rope_factors_{kind}.weight", (ROPE_DIM // 2,), mk.GGML_F32, table(kind))
    return write(self, path, progress)


mk.GGUFWriter.write = write_with_extras
mk.main(["--arch", "phi3", "--dim", "128", "--layers", "2", "--heads", "2", "--kv-heads", "2",
         "--rope-dim", str(ROPE_DIM), "--ffn", "256", "--ctx", "4096", "--init-std", "0.1",
         "--vocab-from", f"{shared}/models/stories260K.gguf", "--dtype", "f32", "-o", out])

#!/usr/bin/env python3
"""Write the small deepseek2 variant whose reference outputs live beside it.

../shared/tools/mkmodel.py makes the model; this adds the keys it has no
options for (YaRN rope scaling, group-limited routing) before it writes.
usage: mkvariant.py SHARED_DIR OUT.gguf
"""
import importlib.util
import sys

shared, out = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("mkmodel", f"{shared}/tools/mkmodel.py")
mk = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mk)

write = mk.GGUFWriter.write


def write_with_extras(self, path, progress=False):
    a = "deepseek2"
    self.add_str(f"{a}.rope.scaling.type", "yarn")
    self.add_f32(f"{a}.rope.scaling.factor", 4.0)
    self.add_u32(f"{a}.rope.scaling.original_context_length", 256)
    self.add_f32(f"{a}.rope.scaling.yarn_log_multiplier", 0.0707)  # 0.1 * mscale_all_dim, as converted
    self.add_u32(f"{a}.expert_group_count", 4)
    self.add_u32(f"{a}.expert_group_used_count", 2)
    return write(self, path, progress)


mk.GGUFWriter.write = write_with_extras
mk.main(["--arch", "deepseek2", "--dim", "64", "--layers", "2", "--heads", "4", "--head-dim", "48",
         "--rope-dim", "16", "--v-head-dim", "32", "--q-lora-rank", "0", "--kv-lora-rank", "64",
         "--dense-lead", "1", "--experts", "8", "--experts-used", "2", "--expert-ffn", "32",
         "--shared-experts", "2", "--ffn", "128", "--expert-gating", "softmax",
         "--expert-weights-scale", "16", "--no-expert-weights-norm", "--ctx", "1024",
         "--init-std", "0.1", "--vocab-from", f"{shared}/models/stories260K.gguf", "-o", out])

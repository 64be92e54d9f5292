#!/usr/bin/env python3
"""Rewrite a split-layout deepseek2 F32 file in the layout older converters wrote.

Before attn_k_b / attn_v_b existed, each layer had one attn_kv_b whose rows are, per
head, the nope rows of K then the rows of V (each a row over the latent), with
key_length / value_length the per-head widths, head_count_kv = head_count and no
*_mla keys; the reference then runs plain multi-head attention over expanded K and V.
usage: mkfused.py SHARED_DIR IN.gguf OUT.gguf
"""
import importlib.util
import sys

import numpy as np

shared, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
spec = importlib.util.spec_from_file_location("mkmodel", f"{shared}/tools/mkmodel.py")
mk = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mk)

r = mk.GGUFReader(src)
a = "deepseek2"
k_mla = int(r.get(f"{a}.attention.key_length_mla"))
v_mla = int(r.get(f"{a}.attention.value_length_mla"))
heads = int(r.get(f"{a}.attention.head_count"))
w = mk.GGUFWriter(r.alignment)
for key, (vt, val, et) in r.kv.items():
    if key in (f"{a}.attention.key_length_mla", f"{a}.attention.value_length_mla"):
        continue
    w.add(key, vt, val, et)
w.add_u32(f"{a}.attention.key_length", k_mla)
w.add_u32(f"{a}.attention.value_length", v_mla)
w.add_u32(f"{a}.attention.head_count_kv", heads)


def tensor(name, ne, off):
    shape = tuple(reversed(ne))  # numpy order: outermost first
    n = int(np.prod(shape))
    return np.frombuffer(r.buf, dtype="<f4", count=n, offset=r.data_start + off).reshape(shape)


def const(arr):
    return lambda: iter([arr])


infos = {name: (ne, t, off) for name, ne, t, off in r.tensors}
for name, ne, t, off in r.tensors:
    assert t == mk.GGML_F32, f"{name}: only F32 files"
    if name.endswith("attn_v_b.weight"):
        continue
    if name.endswith("attn_k_b.weight"):
        k_b = tensor(name, ne, off)                          # [heads][kv_lora][nope]
        vname = name.replace("attn_k_b", "attn_v_b")
        v_b = tensor(vname, *infos[vname][::2])              # [heads][v][kv_lora]
        kv_b = np.concatenate([k_b.transpose(0, 2, 1), v_b], axis=1)  # [heads][nope + v][kv_lora]
        kv_b = np.ascontiguousarray(kv_b.reshape(-1, kv_b.shape[2]))
        w.add_tensor(name.replace("attn_k_b", "attn_kv_b"), kv_b.shape, mk.GGML_F32, const(kv_b))
        continue
    arr = tensor(name, ne, off)
    w.add_tensor(name, arr.shape, mk.GGML_F32, const(arr))
w.write(out)

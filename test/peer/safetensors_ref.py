"""Writes a safetensors file the way the reference (Rust) writer lays it out, from the spec,
since Debian's python has no safetensors package: tensors sorted by dtype (the Dtype enum,
larger first) then by name as UTF-8 bytes, compact JSON header with __metadata__ first,
padded with spaces to a multiple of 8, little-endian data. Also saves each tensor raw (in a
dtype tlcv_peer can carry) to compare against. Usage: safetensors_ref.py OUT_DIR"""
import json
import os
import struct

import torch

import tlcv_peer

ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]
NAMES = {torch.bool: "BOOL", torch.uint8: "U8", torch.int8: "I8", torch.int16: "I16", torch.float16: "F16", torch.bfloat16: "BF16",
         torch.int32: "I32", torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}
# Carried raw as: the widest dtype tlcv_peer has that holds every value exactly.
CARRY = {torch.float16: torch.float32, torch.bfloat16: torch.float32, torch.int8: torch.int32, torch.int16: torch.int32}


def raw_bytes(t):
    t = t.contiguous()
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def write(path, tensors, metadata):
    items = sorted(tensors.items(), key=lambda kv: (-ORDER.index(NAMES[kv[1].dtype]), kv[0].encode("utf-8")))
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name, t in items:
        data = raw_bytes(t)
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    js = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    js += b" " * ((8 - len(js) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)) + js + b"".join(blobs))


def main():
    out = tlcv_peer.out_dir()
    torch.manual_seed(7)
    tensors = {
        "conv.weight": torch.randn(4, 3, 3, 3),
        "double": torch.randn(5, dtype=torch.float64),
        "half": torch.randn(2, 3).half(),
        "bf16": torch.randn(3, 2).bfloat16(),
        "steps": torch.tensor(123456789012, dtype=torch.int64),
        "ints": torch.randint(-2**31, 2**31 - 1, (6,), dtype=torch.int32),
        "shorts": torch.randint(-2**15, 2**15 - 1, (3,), dtype=torch.int16),
        "bytes": torch.randint(-128, 127, (5,), dtype=torch.int8),
        "u8": torch.randint(0, 255, (2, 2), dtype=torch.uint8),
        "mask": torch.rand(7) > 0.5,
        "empty": torch.zeros(0, 3),
        "9": torch.ones(1),
        "10": torch.ones(2),
        "café": torch.arange(3, dtype=torch.float32),
    }
    os.makedirs(out, exist_ok=True)
    write(os.path.join(out, "ref.safetensors"), tensors, {"format": "pt", "note": "ünïcode"})
    carried = {name: t.to(CARRY.get(t.dtype, t.dtype)) for name, t in tensors.items()}
    tlcv_peer.save(out, carried, {"dtypes": {name: NAMES[t.dtype] for name, t in tensors.items()}})


main()

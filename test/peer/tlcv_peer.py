"""Shared I/O for the PyTorch peer scripts: tensors travel as raw little-endian files
plus an index.json, so neither side needs a safetensors package."""
import json
import os
import sys

import torch

DTYPES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64", torch.int32: "int32", torch.uint8: "uint8", torch.bool: "bool"}


def save(out_dir, tensors, meta=None):
    os.makedirs(out_dir, exist_ok=True)
    index = {"tensors": {}, "meta": meta or {}}
    for i, (name, t) in enumerate(tensors.items()):
        t = t.detach().contiguous().cpu()
        fname = f"t{i}.bin"
        with open(os.path.join(out_dir, fname), "wb") as f:
            f.write(t.numpy().tobytes())
        index["tensors"][name] = {"shape": list(t.shape), "dtype": DTYPES[t.dtype], "file": fname}
    with open(os.path.join(out_dir, "index.json"), "w") as f:
        json.dump(index, f)


def load(in_dir):
    import numpy as np
    with open(os.path.join(in_dir, "index.json")) as f:
        index = json.load(f)
    np_types = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "int32": np.int32, "uint8": np.uint8, "bool": np.bool_}
    out = {}
    for name, e in index["tensors"].items():
        arr = np.fromfile(os.path.join(in_dir, e["file"]), dtype=np_types[e["dtype"]]).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out, index.get("meta", {})


def out_dir():
    return sys.argv[1]

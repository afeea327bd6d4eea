"""Fixtures for readPth, all written by torch.save (PyTorch 1.13):
  resnet18.pth     torchvision resnet18 state_dict, random init from a fixed seed
  views.pth        views (transpose, slice with a storage offset, stride-0 expand) sharing
                   storages, every dtype, a scalar, an empty tensor, an nn.Parameter
  checkpoint.pth   {'epoch': 3, 'state_dict': ...}
  deflate.pth      views.pth re-zipped with deflate
  legacy.pth       views in the legacy (pre-1.6, non-zip) format
  bigendian.pth    a few tensors with byteorder 'big' and byte-swapped storages
  evil.pth         a state dict holding an object whose __reduce__ is os.system(touch MARKER)
  evil-exec.pth    the same through builtins.exec
  evil-legacy.pth  evil.pth in the legacy format
Each tensor is also saved raw (in a dtype tlcv_peer carries) to compare against.
Usage: pth_fixtures.py OUT_DIR MARKER_PATH"""
import collections
import os
import sys
import zipfile

import numpy as np
import torch
import torchvision

import tlcv_peer

CARRY = {torch.float16: torch.float32, torch.bfloat16: torch.float32, torch.int8: torch.int32, torch.int16: torch.int32}


class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class EvilExec:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').close()",))


def views():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    sd = collections.OrderedDict()
    sd["base"] = base
    sd["transposed"] = base.t()
    sd["sliced"] = base[1:3, 2:5]
    sd["expanded"] = torch.arange(3.0).reshape(3, 1).expand(3, 4)
    sd["f64"] = torch.randn(3, dtype=torch.float64)
    sd["f16"] = torch.randn(2, 2).half()
    sd["bf16"] = torch.randn(2, 3).bfloat16()
    sd["i64"] = torch.tensor([-(2**40), 5, 2**50])
    sd["i32"] = torch.tensor([-7, 8], dtype=torch.int32)
    sd["i16"] = torch.tensor([-300, 300], dtype=torch.int16)
    sd["i8"] = torch.tensor([-100, 100], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 255], dtype=torch.uint8)
    sd["mask"] = torch.tensor([True, False, True])
    sd["scalar"] = torch.tensor(2.5)
    sd["empty"] = torch.zeros(0, 5)
    sd["param"] = torch.nn.Parameter(torch.randn(2, 2))
    return sd


def rezip(src, dst, transform=None, extra=None):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info.filename, transform(info.filename, data) if transform else data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)


def main():
    out, marker = tlcv_peer.out_dir(), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    resnet = torchvision.models.resnet18().state_dict()
    torch.save(resnet, os.path.join(out, "resnet18.pth"))
    sd = views()
    torch.save(sd, os.path.join(out, "views.pth"))
    torch.save({"epoch": 3, "state_dict": sd}, os.path.join(out, "checkpoint.pth"))
    rezip(os.path.join(out, "views.pth"), os.path.join(out, "deflate.pth"))
    torch.save(sd, os.path.join(out, "legacy.pth"), _use_new_zipfile_serialization=False)

    big = collections.OrderedDict(f=torch.randn(5), d=torch.randn(3, dtype=torch.float64), l=torch.tensor([1, -2, 3**30]), h=torch.randn(4).half())
    torch.save(big, os.path.join(out, "little.pth"))
    sizes = {"0": 4, "1": 8, "2": 8, "3": 2}  # storages are keyed in pickling order

    def swap(name, data):
        key = name.rsplit("/", 1)[-1]
        if "/data/" in name:
            return np.frombuffer(data, dtype=np.dtype(f"<u{sizes[key]}")).byteswap().tobytes()
        return data

    rezip(os.path.join(out, "little.pth"), os.path.join(out, "bigendian.pth"), swap, {"little/byteorder": b"big"})

    torch.save({"w": torch.ones(2), "payload": Evil(marker)}, os.path.join(out, "evil.pth"))
    torch.save({"w": torch.ones(2), "payload": EvilExec(marker)}, os.path.join(out, "evil-exec.pth"))
    torch.save({"w": torch.ones(2), "payload": Evil(marker)}, os.path.join(out, "evil-legacy.pth"), _use_new_zipfile_serialization=False)

    raw = {f"resnet.{k}": v for k, v in resnet.items()}
    raw.update({f"views.{k}": v.detach().to(CARRY.get(v.dtype, v.dtype)) for k, v in sd.items()})
    raw.update({f"big.{k}": v.to(CARRY.get(v.dtype, v.dtype)) for k, v in big.items()})
    dtypes = {k: str(v.dtype).replace("torch.", "") for k, v in sd.items()}
    tlcv_peer.save(out, raw, {"resnetKeys": list(resnet.keys()), "viewKeys": list(sd.keys()), "viewDtypes": dtypes})


main()

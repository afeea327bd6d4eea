"""Nearest class mean (SimpleShot) in PyTorch, written from the definition as tlcv's ncm head
states it, to check tlcv against and to time it on the same features:
centre on a mean (given, or the support set's), scale rows to unit length, average each class,
scale the class means to unit length, and give each query the class whose mean is nearest.

Usage: ncm.py IN_DIR OUT_DIR [IN_DIR OUT_DIR ...] (one Python start for several problems)
IN_DIR (tlcv_peer's format): support [N, D], labels [N] int64, query [M, D], optional center [D];
meta numClasses. OUT_DIR: center [D], means [C, D] (before their scaling to unit length),
predictions [M] int64; meta seconds (fit and predict, without I/O)."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "peer"))

import torch  # noqa: E402

import tlcv_peer  # noqa: E402


def unit_rows(x):
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def ncm(support, labels, query, num_classes, center=None):
    support, query = support.double(), query.double()
    mu = support.mean(0) if center is None else center.double()
    z = unit_rows(support - mu)
    means = torch.stack([z[labels == c].mean(0) for c in range(num_classes)])
    distances = torch.cdist(unit_rows(query - mu), unit_rows(means))
    return mu, means, distances.argmin(1)


def main():
    args = sys.argv[1:]
    if len(args) == 0 or len(args) % 2 != 0:
        sys.exit("usage: ncm.py IN_DIR OUT_DIR [IN_DIR OUT_DIR ...]")
    for in_dir, out_dir in zip(args[0::2], args[1::2]):
        tensors, meta = tlcv_peer.load(in_dir)
        t0 = time.perf_counter()
        mu, means, predictions = ncm(tensors["support"], tensors["labels"], tensors["query"], int(meta["numClasses"]), tensors.get("center"))
        seconds = time.perf_counter() - t0
        tlcv_peer.save(out_dir, {"center": mu, "means": means, "predictions": predictions}, {"seconds": seconds})


main()

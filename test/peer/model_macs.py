"""Parameters and multiply-adds of one forward, for test/models-cost.test.ts: the bench peer's own
count (peers/bench.py's flops: forward hooks on conv and linear layers, torchvision's
MultiheadAttention and the DINOv2 reference's attention), halved to multiply-adds.

usage: model_macs.py OUT_DIR MODEL C H W NUM_CLASSES
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "peers"))
import bench  # noqa: E402
from tlcv_peer import save  # noqa: E402


def main():
    out, name = sys.argv[1], sys.argv[2]
    c, h, w, n = (int(v) for v in sys.argv[3:7])
    job = {"model": name, "inputSize": [c, h, w], "numClasses": n}
    torch.manual_seed(0)
    model = bench.build(name, job["inputSize"], n)
    # DINOv2's mask token is a buffer in tlcv (masked pretraining alone uses it): not counted.
    params = sum(p.numel() for k, p in model.named_parameters() if k != "mask_token")
    save(out, {}, {"macs": bench.flops(job)["forwardFlopsPerImage"] // 2, "params": params})


if __name__ == "__main__":
    main()

"""Parameters and multiply-adds of one forward, counted by PyTorch forward hooks, for
test/models-cost.test.ts: conv and linear layers, torchvision's MultiheadAttention (its
in-projection, the two attention matmuls and its out-projection, which it applies without
calling its out_proj module) and the DINOv2 reference's attention matmuls.

usage: model_macs.py OUT_DIR MODEL C H W NUM_CLASSES
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "peers"))
from dinov2_reference import Attention, DinoV2  # noqa: E402
from models_parity import build  # noqa: E402
from tlcv_peer import save  # noqa: E402


def main():
    out, name = sys.argv[1], sys.argv[2]
    c, h, w, n = (int(v) for v in sys.argv[3:7])
    torch.manual_seed(0)
    model = DinoV2(name, n, in_chans=c) if name.startswith("dinov2_") else build(name, c, h, w, n, None)
    model.eval()
    total = [0]

    def hook(m, inp, o):
        if isinstance(m, nn.Conv2d):
            total[0] += o.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            total[0] += o.numel() * m.in_features
        elif isinstance(m, nn.MultiheadAttention):
            b, t, e = o[0].shape  # (output, weights), batch_first in torchvision's ViT
            total[0] += b * t * 4 * e * e + 2 * b * t * t * e
        elif isinstance(m, Attention):
            b, t, e = inp[0].shape
            total[0] += 2 * b * t * t * e

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.MultiheadAttention, Attention)):
            m.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.zeros(1, c, h, w))
    # DINOv2's mask token is a buffer in tlcv (masked pretraining alone uses it): not counted.
    params = sum(p.numel() for k, p in model.named_parameters() if k != "mask_token")
    save(out, {}, {"macs": total[0], "params": params})


if __name__ == "__main__":
    main()

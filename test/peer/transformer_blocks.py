"""Fixtures for tlcv's transformer building blocks against PyTorch 1.13 / torchvision 0.14.

usage: transformer_blocks.py OUT_DIR SEED THREADS

  trunc.*       nn.init.trunc_normal_ right after torch.manual_seed(SEED), for three (mean, std, a, b)
  mha.*         nn.MultiheadAttention(32, 4, batch_first=True) built after manual_seed(SEED + 1):
                its init, then self-attention output and gradients on x (need_weights=False)
  ln.*, ln2d.*  nn.LayerNorm(16) on [2, 5, 16] and torchvision's LayerNorm2d(16) on [2, 16, 3, 4]
                with random affine parameters: outputs and input/weight gradients
  gelu.*        nn.GELU() and its gradient
  interp.*      bicubic F.interpolate of [1, 3, 5, 5]: to 7x4 with align_corners (torchvision's
                interpolate_embeddings) and by scale factors (2.1/5, 3.1/5) (DINOv2's)
"""
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.convnext import LayerNorm2d

from tlcv_peer import save


def main():
    out = sys.argv[1]
    seed, threads = int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    t = OrderedDict()
    torch.manual_seed(seed)
    for i, (mean, std, a, b) in enumerate([(0.0, 0.02, -2.0, 2.0), (0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 3.0)]):
        t[f"trunc.{i}"] = nn.init.trunc_normal_(torch.empty(64, 33), mean=mean, std=std, a=a, b=b)

    torch.manual_seed(seed + 1)
    mha = nn.MultiheadAttention(32, 4, batch_first=True)
    for k, v in mha.state_dict().items():
        t[f"mha.init.{k}"] = v.clone()
    g = torch.Generator().manual_seed(seed + 2)
    with torch.no_grad():
        mha.in_proj_bias.copy_(torch.randn(96, generator=g) * 0.1)
        mha.out_proj.bias.copy_(torch.randn(32, generator=g) * 0.1)
    for k, v in mha.state_dict().items():
        t[f"mha.sd.{k}"] = v.clone()
    x = torch.randn(2, 7, 32, generator=g, requires_grad=True)
    y, _ = mha(x, x, x, need_weights=False)
    (y * torch.arange(32.0)).sum().backward()
    t["mha.x"], t["mha.y"], t["mha.grad.x"] = x, y, x.grad
    for k, p in mha.named_parameters():
        t[f"mha.grad.{k}"] = p.grad

    for name, layer, shape in (("ln", nn.LayerNorm(16, eps=1e-6), (2, 5, 16)), ("ln2d", LayerNorm2d(16, eps=1e-6), (2, 16, 3, 4))):
        with torch.no_grad():
            layer.weight.copy_(torch.rand(16, generator=g) + 0.5)
            layer.bias.copy_(torch.randn(16, generator=g))
        x = (torch.randn(*shape, generator=g) * 3 + 1).requires_grad_()
        y = layer(x)
        (y * torch.linspace(-1, 1, y.numel()).reshape(y.shape)).sum().backward()
        t[f"{name}.weight"], t[f"{name}.bias"] = layer.weight, layer.bias
        t[f"{name}.x"], t[f"{name}.y"], t[f"{name}.grad.x"], t[f"{name}.grad.weight"] = x, y, x.grad, layer.weight.grad

    x = (torch.randn(3, 50, generator=g) * 3).requires_grad_()
    y = nn.GELU()(x)
    y.sum().backward()
    t["gelu.x"], t["gelu.y"], t["gelu.grad.x"] = x, y, x.grad

    grid = torch.randn(1, 3, 5, 5, generator=g)
    t["interp.x"] = grid
    t["interp.aligned"] = F.interpolate(grid, size=(7, 4), mode="bicubic", align_corners=True)
    t["interp.scaled"] = F.interpolate(grid, scale_factor=(2.1 / 5, 3.1 / 5), mode="bicubic")
    save(out, t)


if __name__ == "__main__":
    main()

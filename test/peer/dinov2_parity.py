"""Parity fixtures for tlcv's DINOv2 against peers/dinov2_reference.py.

usage: dinov2_parity.py OUT_DIR MODEL H W BATCH NUM_CLASSES SEED THREADS

Builds the reference after torch.manual_seed(SEED) (init draws in tlcv's order), saves its init,
then moves LayerNorm affine parameters, layer scales and the class token away from their init with
a separate generator and saves that state dict (sd.*), the official file's layout as a real .pth
(official.pth: no head), an input, eval logits, a train-mode forward's logits and loss, every
parameter's gradient (mask_token has none: it is used only by DINOv2's masked-image training), and
the interpolated position embedding for a few input sizes (pos.HxW).
"""
import os
import sys
from collections import OrderedDict

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "peers"))
from dinov2_reference import DinoV2, official_state_dict  # noqa: E402
from tlcv_peer import save  # noqa: E402


def main():
    out, name = sys.argv[1], sys.argv[2]
    h, w, batch, n, seed, threads = (int(v) for v in sys.argv[3:9])
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = DinoV2(name, n)
    tensors = OrderedDict((f"init.{k}", v.clone()) for k, v in model.state_dict().items())

    g = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            if hasattr(m, "gamma"):
                m.gamma.copy_(torch.rand(m.gamma.shape, generator=g) * 0.5 + 0.25)
        model.cls_token.copy_(torch.randn(model.cls_token.shape, generator=g) * 0.02)
        model.mask_token.copy_(torch.randn(model.mask_token.shape, generator=g))
    for k, v in model.state_dict().items():
        tensors[f"sd.{k}"] = v.clone()
    torch.save(official_state_dict(model), os.path.join(out, "official.pth"))

    x = torch.randn(batch, 3, h, w, generator=g)
    y = torch.randint(0, n, (batch,), generator=g)
    tensors["x"], tensors["y"] = x, y
    model.eval()
    with torch.no_grad():
        tensors["eval.logits"] = model(x)
        for ph, pw in ((518, 518), (224, 224), (28, 42), (h, w)):
            tensors[f"pos.{ph}x{pw}"] = model.interpolate_pos_encoding(ph, pw)
    model.train()
    logits = model(x)
    loss = nn.functional.cross_entropy(logits, y)
    loss.backward()
    tensors["train.logits"], tensors["train.loss"] = logits, loss
    grad_names = []
    for k, p in model.named_parameters():
        if p.grad is not None:
            tensors[f"grad.{k}"] = p.grad
            grad_names.append(k)
    save(out, tensors, {"grad_names": grad_names, "param_names": [k for k, _ in model.named_parameters()]})


if __name__ == "__main__":
    main()

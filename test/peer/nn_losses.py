"""CrossEntropyLoss fixtures: logits, targets, class weights, and the loss (and its gradient)
for each combination of reduction, class weights and label smoothing.

usage: nn_losses.py OUT_DIR
"""
import sys
from collections import OrderedDict

import torch
import torch.nn as nn

from tlcv_peer import save

g = torch.Generator().manual_seed(0)
logits = torch.randn(6, 5, generator=g)
target = torch.randint(0, 5, (6,), generator=g)
target[2] = -100  # ignored
weight = torch.rand(5, generator=g) + 0.5
out = OrderedDict(logits=logits, target=target, weight=weight)
for reduction in ("mean", "sum", "none"):
    for weighted in (False, True):
        for smoothing in (0.0, 0.2):
            x = logits.clone().requires_grad_(True)
            fn = nn.CrossEntropyLoss(weight=weight if weighted else None, reduction=reduction, label_smoothing=smoothing)
            loss = fn(x, target)
            loss.sum().backward()
            key = f"{reduction}.{int(weighted)}.{smoothing}"
            out[f"loss.{key}"] = loss.detach()
            out[f"grad.{key}"] = x.grad
save(sys.argv[1], out)

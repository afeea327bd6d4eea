"""A real torchvision checkpoint for the pretrained-loading tests.

usage: models_pth.py OUT_DIR MODEL SEED

Writes OUT_DIR/MODEL.pth with torch.save(model.state_dict()) (the format of torchvision's
published weights), plus, through tlcv_peer: an input x [2, 3, 64, 64] and the eval-mode
logits on x and on its channel mean (gray, repeated to 3 channels) for checking the 1-channel
adaptation.
"""
import os
import sys
from collections import OrderedDict

import torch
import torchvision

from tlcv_peer import save

out, name, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.manual_seed(seed)
if name == "mobilenet_v2_035":
    model = torchvision.models.mobilenet_v2(width_mult=0.35)
else:
    model = getattr(torchvision.models, name)()
g = torch.Generator().manual_seed(seed)
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
model.eval()
os.makedirs(out, exist_ok=True)
torch.save(model.state_dict(), os.path.join(out, f"{name}.pth"))
x = torch.randn(2, 3, 64, 64, generator=g)
gray = x.mean(1, keepdim=True)
with torch.no_grad():
    tensors = OrderedDict(x=x, gray=gray, logits=model(x), gray_logits=model(gray.repeat(1, 3, 1, 1)))
save(out, tensors)

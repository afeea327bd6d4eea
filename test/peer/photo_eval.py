"""Peer for test/data-photos-parity.test.ts: torchvision's eval preprocessing of photos,
Resize(floor(size / crop_pct)) + CenterCrop(size) on PIL images (bilinear, antialiased as PIL
always is), as timm and the torchvision references apply it. Output: uint8 [N, 3, size, size]."""
import json
import sys

import torch
from PIL import Image
from torchvision import transforms

import tlcv_peer

out = tlcv_peer.out_dir()
with open(sys.argv[2]) as f:
    job = json.load(f)
size = job["size"]
tf = transforms.Compose([
    transforms.Resize(int(size / job["crop_pct"]), interpolation=transforms.InterpolationMode.BILINEAR),
    transforms.CenterCrop(size),
    transforms.PILToTensor(),
])
images = []
for path in job["paths"]:
    with open(path, "rb") as fh:
        images.append(tf(Image.open(fh).convert("RGB")))
tlcv_peer.save(out, {"x": torch.stack(images)})

"""Peer for test/transforms-augment.test.ts: torchvision's tensor rotate/affine on the
input tlcv wrote, so tlcv's warp conventions (angle sign, pixel centres, translation)
are checked against torchvision's, not against a hand-made expectation. fill=None is
plain zero padding; torchvision's fill=0.0 also multiplies edge pixels by a coverage mask."""
import sys

import torch
import torchvision.transforms.functional as TF
from torchvision.transforms import InterpolationMode

import tlcv_peer

out = tlcv_peer.out_dir()
inputs, meta = tlcv_peer.load(sys.argv[2])
x = inputs["x"]
results = {}
for i, case in enumerate(meta["cases"]):
    # TF.affine's angle is clockwise (TF.rotate's is counter-clockwise, like tlcv's).
    y = TF.affine(x, angle=-case["angle"], translate=case["translate"], scale=1.0, shear=[0.0, 0.0],
                  interpolation=InterpolationMode.BILINEAR, fill=None)
    results[f"case{i}"] = y
results["hflip"] = TF.hflip(x)
tlcv_peer.save(out, results)

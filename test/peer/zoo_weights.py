"""What torchvision 0.14 says about each model's DEFAULT ImageNet weights: which enum member,
the URL, the evaluation transforms (crop, resize, interpolation) and the parameter count.

usage: zoo_weights.py OUT_DIR MODEL...
Writes meta {MODEL: {...}} through tlcv_peer (no tensors).
"""
import sys

import torchvision.models as models

from tlcv_peer import save

out = {}
for name in sys.argv[2:]:
    weights = models.get_model_weights(name).DEFAULT
    t = weights.transforms()
    out[name] = {
        "weights": str(weights),
        "url": weights.url,
        "crop": t.crop_size[0],
        "resize": t.resize_size[0],
        "interpolation": t.interpolation.value,
        "num_params": weights.meta["num_params"],
    }
save(sys.argv[1], {}, out)

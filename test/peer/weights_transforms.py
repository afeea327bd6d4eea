"""What torchvision 0.14's DEFAULT weights say about a model, as JSON on stdout: the weights' URL,
their transforms' resize, crop and kernel (weights.transforms()), mean, std, and num_params.

usage: weights_transforms.py MODEL...
"""
import json
import sys

from torchvision.models import get_model_weights


def main():
    out = {}
    for name in sys.argv[1:]:
        weights = get_model_weights(name).DEFAULT
        t = weights.transforms()
        out[name] = {
            "url": weights.url,
            "crop_size": t.crop_size,
            "resize_size": t.resize_size,
            "interpolation": t.interpolation.value,
            "mean": t.mean,
            "std": t.std,
            "num_params": weights.meta["num_params"],
        }
    json.dump(out, sys.stdout)


main()

"""Forward/backward parity fixtures for the model zoo.

usage: models_parity.py OUT_DIR MODEL C H W BATCH NUM_CLASSES SEED THREADS [SD_PROB [GRADS]]

THREADS is tlcv's intra-op thread count: parallel reductions then split the same way on
both sides, so float rounding agrees as well as the maths. SD_PROB ("-" for the model's
default) is EfficientNet's stochastic_depth_prob: 0 turns stochastic depth off, whose draws
tlcv does not share with torch. GRADS "all" saves every parameter's gradient, not a few.

Builds MODEL with torchvision 0.14 (seed-cnn: the spec's CustomModel, written out below) right
after torch.manual_seed(SEED), so its conv/linear weights are PyTorch's own init for that seed.
BatchNorm affine parameters and running statistics are then randomised from a separate
generator, so eval-mode parity really exercises them; so are LayerNorm affine parameters,
ConvNeXt's layer scales (1e-6 at init: the blocks would hardly count) and ViT's head (zero at
init: no gradient would reach the body). Their keys are listed in meta.perturbed. ConvNeXt is
built with stochastic depth off. With GRADS "all", every parameter's gradient is saved. Saves:
  sd.<key>        the state dict (every key, torchvision names)
  x, y            an input batch and labels
  eval.logits     eval-mode logits
  train.logits, train.loss   one train-mode forward after torch.manual_seed(SEED + 1) (dropout draws)
  grad.<name>     gradients of the CE loss for a few parameters (names in meta.grad_names)
  after.<key>     running stats of a few BatchNorms after that train forward (meta.bn_names)
"""
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torchvision

from tlcv_peer import save


class CustomModel(nn.Module):
    """The spec's model, with the flatten size computed from the input size."""

    def __init__(self, c, h, w, num_classes):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(c, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(128, 256, 3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        flat = 256 * (h // 8) * (w // 8)
        self.classifier = nn.Sequential(OrderedDict(
            fc1=nn.Linear(flat, 512), relu1=nn.ReLU(), dropout1=nn.Dropout(0.5), fc2=nn.Linear(512, num_classes)))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def build(name, c, h, w, n, sd_prob):
    if name == "seed-cnn":
        return CustomModel(c, h, w, n)
    if name.startswith("efficientnet"):
        extra = {} if sd_prob is None else {"stochastic_depth_prob": sd_prob}
        return getattr(torchvision.models, name)(num_classes=n, **extra)
    if name.startswith(("resnet", "mobilenet_v3", "regnet")):
        return getattr(torchvision.models, name)(num_classes=n)
    if name.startswith("mobilenet_v2"):
        alpha = 0.35 if name == "mobilenet_v2_035" else 1.0
        return torchvision.models.mobilenet_v2(width_mult=alpha, num_classes=n)
    if name.startswith("convnext_"):
        return getattr(torchvision.models, name)(num_classes=n, stochastic_depth_prob=0.0)
    if name.startswith("vit_"):
        assert h == w, "torchvision's ViT takes square images"
        return getattr(torchvision.models, name)(num_classes=n, image_size=h)
    raise SystemExit(f"unknown model {name}")


def perturb(model, g):
    """LayerNorm affine parameters, layer scales and a zero head away from their init; returns their keys."""
    keys = []
    with torch.no_grad():
        for prefix, m in model.named_modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
                keys += [f"{prefix}.weight", f"{prefix}.bias"]
            if hasattr(m, "layer_scale"):
                m.layer_scale.copy_(torch.rand(m.layer_scale.shape, generator=g) * 0.2 + 0.1)
                keys.append(f"{prefix}.layer_scale")
        heads = getattr(model, "heads", None)
        if heads is not None:
            heads.head.weight.copy_(torch.randn(heads.head.weight.shape, generator=g) * 0.05)
            heads.head.bias.copy_(torch.randn(heads.head.bias.shape, generator=g) * 0.1)
            keys += ["heads.head.weight", "heads.head.bias"]
    return keys


def main():
    out, name = sys.argv[1], sys.argv[2]
    c, h, w, batch, n, seed, threads = (int(v) for v in sys.argv[3:10])
    sd_prob = float(sys.argv[10]) if len(sys.argv) > 10 and sys.argv[10] != "-" else None
    all_grads = len(sys.argv) > 11 and sys.argv[11] == "all"
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = build(name, c, h, w, n, sd_prob)

    g = torch.Generator().manual_seed(seed + 100)
    bns = [(k, m) for k, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for _, m in bns:
            m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
            m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    perturbed = [f"{k}.{s}" for k, _ in bns for s in ("weight", "bias", "running_mean", "running_var")] + perturb(model, g)
    tensors = OrderedDict((f"sd.{k}", v.clone()) for k, v in model.state_dict().items())

    x = torch.randn(batch, c, h, w, generator=g)
    y = torch.randint(0, n, (batch,), generator=g)
    tensors["x"], tensors["y"] = x, y

    model.eval()
    with torch.no_grad():
        tensors["eval.logits"] = model(x)

    model.train()
    torch.manual_seed(seed + 1)
    logits = model(x)
    loss = nn.functional.cross_entropy(logits, y)
    loss.backward()
    tensors["train.logits"], tensors["train.loss"] = logits, loss

    params = list(model.named_parameters())
    picks = range(len(params)) if all_grads else sorted({0, 1, len(params) // 3, len(params) // 2, len(params) - 3, len(params) - 2, len(params) - 1})
    grad_names = [params[i][0] for i in picks]
    for k in grad_names:
        tensors[f"grad.{k}"] = dict(params)[k].grad
    bn_names = [bns[0][0], bns[len(bns) // 2][0], bns[-1][0]] if bns else []
    sd = model.state_dict()
    for b in bn_names:
        for s in ("running_mean", "running_var", "num_batches_tracked"):
            tensors[f"after.{b}.{s}"] = sd[f"{b}.{s}"]
    save(out, tensors, {"grad_names": grad_names, "bn_names": bn_names, "perturbed": perturbed})


if __name__ == "__main__":
    main()

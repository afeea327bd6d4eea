"""DANN in PyTorch, as thuml's Transfer-Learning-Library (TLlib) builds it, for the spec's CNN
(seed-cnn): the peer tlcv's `adapt --method dann` is checked against. A source-trained model is
fine-tuned on labelled source batches joined by as many unlabelled target images (one forward
for both), cross-entropy on the source rows, plus trade-off times the domain discriminator's
binary cross-entropy on the classifier's input features behind a gradient-reversal layer whose
coefficient follows lambda = 2 / (1 + exp(-10 p)) - 1 over training progress p.

Usage: dann.py IN_DIR OUT_DIR [IN_DIR OUT_DIR ...]
IN_DIR (tlcv_peer's format): source_x [N, 1, 28, 28] uint8, source_y [N] int64, target_x [M, ...]
uint8 (no labels), test_x, test_y, and the model's weights under "model." (torchvision names);
meta: mean, std, epochs, batch, lr, tradeoff, seed, labelSmoothing, weightDecay, optimizer
("adamw" with a one-cycle schedule, as tlcv's default, or "sgd" with TLlib's annealing
lr * (1 + 10 p) ** -0.75, momentum 0.9), hidden (discriminator width).
OUT_DIR: meta before (test accuracy of the source model), after, epochs (test accuracy after
each epoch), domainAccuracy (per epoch), seconds (training, without I/O)."""
import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "peer"))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import tlcv_peer  # noqa: E402
from models_parity import CustomModel  # noqa: E402


class ReverseGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, coeff):
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad.neg() * ctx.coeff, None


def discriminator(width, hidden):
    return nn.Sequential(nn.Linear(width, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, 1))


def normalise(x, mean, std, device):
    return ((x.to(device).float() / 255.0) - mean) / std


def accuracy(model, x, y, mean, std, device):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 512):
            logits = model(normalise(x[i:i + 512], mean, std, device))
            correct += (logits.argmax(1).cpu() == y[i:i + 512]).sum().item()
    return correct / len(x)


def run(tensors, meta, device):
    torch.manual_seed(int(meta["seed"]))
    mean, std = float(meta["mean"][0]), float(meta["std"][0])
    sx, sy, tx = tensors["source_x"], tensors["source_y"], tensors["target_x"]
    test_x, test_y = tensors["test_x"], tensors["test_y"]
    model = CustomModel(1, 28, 28, 10)
    model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
    model.to(device)
    disc = discriminator(model.classifier.fc2.in_features, int(meta.get("hidden", 1024))).to(device)
    seen = {}
    model.classifier.fc2.register_forward_hook(lambda m, inp, out: seen.__setitem__("f", inp[0]))
    before = accuracy(model, test_x, test_y, mean, std, device)
    epochs, batch, lr = int(meta["epochs"]), int(meta["batch"]), float(meta["lr"])
    steps = math.ceil(len(sx) / batch)
    total = epochs * steps
    params = list(model.parameters()) + list(disc.parameters())
    if meta.get("optimizer", "adamw") == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=float(meta.get("weightDecay", 1e-3)), nesterov=True)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: (1 + 10 * i / total) ** -0.75)
    else:
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=float(meta.get("weightDecay", 1e-4)))
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total + 1)
    tradeoff, smoothing = float(meta["tradeoff"]), float(meta.get("labelSmoothing", 0.1))
    per_epoch, dom_acc = [], []
    g = torch.Generator().manual_seed(int(meta["seed"]) + 1)
    t_order, t_at = torch.randperm(len(tx), generator=g), 0
    t0 = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        disc.train()
        order = torch.randperm(len(sx), generator=g)
        hits = n = 0
        for k in range(steps):
            idx = order[k * batch:(k + 1) * batch]
            if t_at + batch > len(tx):
                t_order, t_at = torch.randperm(len(tx), generator=g), 0
            tidx = t_order[t_at:t_at + batch]
            t_at += batch
            xs, ys = normalise(sx[idx], mean, std, device), sy[idx].to(device)
            xt = normalise(tx[tidx], mean, std, device)
            logits = model(torch.cat([xs, xt]))
            f = seen["f"]
            ns = len(xs)
            p = (epoch * steps + k) / total
            coeff = 2.0 / (1.0 + math.exp(-10 * p)) - 1.0
            d = disc(ReverseGrad.apply(f, coeff)).view(-1)
            labels = torch.cat([torch.ones(ns, device=device), torch.zeros(len(xt), device=device)])
            domain = 0.5 * (F.binary_cross_entropy_with_logits(d[:ns], labels[:ns]) + F.binary_cross_entropy_with_logits(d[ns:], labels[ns:]))
            loss = F.cross_entropy(logits[:ns], ys, label_smoothing=smoothing) + tradeoff * domain
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            hits += ((d[:ns] >= 0).sum() + (d[ns:] < 0).sum()).item()
            n += len(d)
        per_epoch.append(accuracy(model, test_x, test_y, mean, std, device))
        dom_acc.append(hits / n)
    seconds = time.perf_counter() - t0
    return {"before": before, "after": per_epoch[-1], "epochs": per_epoch, "domainAccuracy": dom_acc, "seconds": seconds}


def main():
    args = sys.argv[1:]
    if len(args) == 0 or len(args) % 2 != 0:
        sys.exit("usage: dann.py IN_DIR OUT_DIR [IN_DIR OUT_DIR ...]")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    for in_dir, out_dir in zip(args[0::2], args[1::2]):
        tensors, meta = tlcv_peer.load(in_dir)
        tlcv_peer.save(out_dir, {}, {**run(tensors, meta, device), "device": device, "torch": torch.__version__})


if __name__ == "__main__":
    main()

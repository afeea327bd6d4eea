"""The PyTorch side of scripts/probes/zoo-training.ts: a torchvision model trained from scratch
with the recipe tlcv's run used, on the same images in the same order.

usage: zoo_training.py IN_DIR OUT_DIR
IN_DIR (tlcv_peer's format): train_x [N, 3, H, W] uint8, train_y [N] int64, test_x, test_y,
orders [E, N] int64 (each epoch's order of training images, from tlcv's loader); meta: model,
batch, lr, weight_decay, label_smoothing, seed, epoch_seeds [E] (tlcv seeds the generator with
these at each epoch's start, before its dropout and stochastic-depth draws), mean, std, threads.
OUT_DIR: test_logits [M, 10] as trained, recalibrated_logits [M, 10] after recomputing every
BatchNorm's statistics on the training images (tlcv's adabn: statistics reset, momentum None,
BatchNorms alone in train mode, batches of 64 in order); meta: train_loss [E] (mean per epoch),
test_acc, recalibrated_acc, seconds (training).

As tlcv does it: torch.manual_seed(seed) right before building the model (so both sides start
from the same weights), pixels normalised as x * (1 / (255 std)) + (-mean / std) in float32,
AdamW with torch's defaults but lr and weight decay, gradients set to None after each step.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "peer"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision  # noqa: E402

import tlcv_peer  # noqa: E402


def normalizer(mean, std):
    scale = torch.from_numpy(np.array([1 / (255 * s) for s in std], dtype=np.float32)).reshape(1, -1, 1, 1)
    shift = torch.from_numpy(np.array([-m / s for m, s in zip(mean, std)], dtype=np.float32)).reshape(1, -1, 1, 1)
    return lambda u8: u8.to(torch.float32).mul_(scale).add_(shift)


def main():
    in_dir, out_dir = sys.argv[1], sys.argv[2]
    t, meta = tlcv_peer.load(in_dir)
    torch.set_num_threads(int(meta["threads"]))
    norm = normalizer(meta["mean"], meta["std"])
    torch.manual_seed(int(meta["seed"]))
    model = getattr(torchvision.models, meta["model"])(num_classes=10)
    opt = torch.optim.AdamW(model.parameters(), lr=meta["lr"], weight_decay=meta["weight_decay"])
    batch = int(meta["batch"])
    t0 = time.perf_counter()
    losses = []
    for epoch_seed, order in zip(meta["epoch_seeds"], t["orders"]):
        torch.manual_seed(int(epoch_seed))
        model.train()
        total, seen = 0.0, 0
        for k in range(0, len(order), batch):
            idx = order[k:k + batch]
            x, y = norm(t["train_x"][idx]), t["train_y"][idx]
            loss = F.cross_entropy(model(x), y, label_smoothing=meta["label_smoothing"])
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            total += loss.item() * len(idx)
            seen += len(idx)
        losses.append(total / seen)
    seconds = time.perf_counter() - t0

    def evaluate():
        model.eval()
        with torch.no_grad():
            logits = torch.cat([model(norm(t["test_x"][k:k + 256])) for k in range(0, len(t["test_x"]), 256)])
        return logits, (logits.argmax(1) == t["test_y"]).double().mean().item()

    logits, acc = evaluate()
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
        m.train()
    with torch.no_grad():
        for k in range(0, len(t["train_x"]), batch):
            if len(t["train_x"][k:k + batch]) >= 2:
                model(norm(t["train_x"][k:k + batch]))
    recalibrated, racc = evaluate()
    tlcv_peer.save(out_dir, {"test_logits": logits, "recalibrated_logits": recalibrated},
                   {"train_loss": losses, "test_acc": acc, "recalibrated_acc": racc, "seconds": seconds})


main()

"""The PyTorch side of scripts/probes/zoo-training-vit.ts: torchvision's ConvNeXt-T or a small
torchvision VisionTransformer trained from scratch with the recipe tlcv used, on the very batches
tlcv's Learner drew, then scored on the test images.

usage: zoo_training_vit.py IN_DIR

IN_DIR (written by the probe, read with tlcv_peer.load) holds uint8 images [N, 3, 32, 32] for train
and test, their labels, the order of every epoch (`order`, [epochs, n]) and meta: model, seed,
epoch numbers, batch size, lr, weight decay, mean, std, threads and the small ViT's settings.
Prints one JSON line: test accuracy, each epoch's training loss (the mean over its images, as
tlcv's Learner reports it) and seconds.

With meta `control` true the pixels are normalised as x * (1 / (255 std)) + (-mean / std) instead
of (x / 255 - mean) / std: the same maths, other float rounding. Training amplifies such one-ulp
differences; how far this run parts from the plain one shows how far PyTorch parts from itself.

The recipe is tlcv's Learner's: torch.manual_seed(seed) before building the model (the same init,
draw for draw), torch.manual_seed(epochSeed(seed, epoch)) at each epoch's start (stochastic depth's
draws), AdamW with the given lr and weight decay on every parameter, constant lr, cross entropy
without label smoothing, fp32, no augmentation, the last batch kept whole.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "peer"))
from tlcv_peer import load  # noqa: E402


def build(meta):
    torch.manual_seed(meta["seed"])
    if meta["model"] == "convnext_tiny":
        return torchvision.models.convnext_tiny(num_classes=10)
    v = meta["vit"]
    return torchvision.models.VisionTransformer(image_size=32, patch_size=v["patchSize"], num_layers=v["layers"], num_heads=v["heads"], hidden_dim=v["hidden"], mlp_dim=v["mlpDim"], num_classes=10)


def main():
    tensors, meta = load(sys.argv[1])
    torch.set_num_threads(meta["threads"])
    mean = torch.tensor(meta["mean"]).reshape(1, 3, 1, 1)
    std = torch.tensor(meta["std"]).reshape(1, 3, 1, 1)
    if meta.get("control"):
        scale, shift = 1 / (255 * std), -mean / std
        norm = lambda x: x.float() * scale + shift  # noqa: E731
    else:
        norm = lambda x: (x.float() / 255 - mean) / std  # noqa: E731
    x_train, y_train = tensors["train.x"], tensors["train.y"].long()
    x_test, y_test = tensors["test.x"], tensors["test.y"].long()
    model = build(meta)
    opt = torch.optim.AdamW(model.parameters(), lr=meta["lr"], weight_decay=meta["weightDecay"])
    t0 = time.time()
    losses = []
    for e, epoch in enumerate(meta["epochs"]):
        torch.manual_seed((meta["seed"] * 1_000_003 + epoch * 7919) % 2**31)
        model.train()
        order = tensors["order"][e].long()
        total = 0.0
        for k in range(0, len(order), meta["batchSize"]):
            idx = order[k:k + meta["batchSize"]]
            loss = F.cross_entropy(model(norm(x_train[idx])), y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / len(order))
    seconds = time.time() - t0
    model.eval()
    correct = 0
    with torch.no_grad():
        for k in range(0, len(y_test), 256):
            correct += (model(norm(x_test[k:k + 256])).argmax(1) == y_test[k:k + 256]).sum().item()
    print(json.dumps({"accuracy": correct / len(y_test), "losses": losses, "seconds": seconds}))


if __name__ == "__main__":
    main()

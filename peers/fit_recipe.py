"""The fit bench's PyTorch recipe: PyTorch's transfer-learning tutorial ("finetuning the ConvNet"),
on a seed-cnn source model that tlcv wrote. The last layer is replaced for the target's classes and
every layer trains with SGD (lr, momentum), StepLR (step, gamma) for the given epochs at the given
batch, on the images tlcv decoded and normalised (the tutorial's random crops and flips are left
out: the digits would not survive a flip, and both sides see the same pixels). Then the test
accuracy, in eval mode.

Usage: fit_recipe.py IN_DIR OUT_DIR
IN_DIR (tlcv_peer's format): trainX [N, C, H, W], trainY [N] int64, testX, testY, and the source's
state dict as sd.<name>; meta inputSize, sourceClasses, numClasses, hidden, threads, seed, epochs,
batch, lr, momentum, stepSize, gamma. OUT_DIR: meta accuracy, seconds (training and testing, without I/O)."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "peer"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import tlcv_peer  # noqa: E402
from seed_cnn import SeedCnn  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: fit_recipe.py IN_DIR OUT_DIR")
    tensors, m = tlcv_peer.load(sys.argv[1])
    torch.set_num_threads(int(m["threads"]))
    torch.manual_seed(int(m["seed"]))
    c, h, w = m["inputSize"]
    model = SeedCnn(c, h, w, int(m["sourceClasses"]), hidden=int(m["hidden"]))
    model.load_state_dict({k[3:]: v for k, v in tensors.items() if k.startswith("sd.")})
    model.classifier.fc2 = nn.Linear(int(m["hidden"]), int(m["numClasses"]))
    x, y = tensors["trainX"], tensors["trainY"].long()
    t0 = time.perf_counter()
    opt = torch.optim.SGD(model.parameters(), lr=m["lr"], momentum=m["momentum"])
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=int(m["stepSize"]), gamma=m["gamma"])
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(int(m["seed"]))
    batch = int(m["batch"])
    for _ in range(int(m["epochs"])):
        model.train()
        order = torch.randperm(len(y), generator=gen)
        for i in range(0, len(y), batch):
            idx = order[i:i + batch]
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
        sched.step()
    model.eval()
    with torch.no_grad():
        tx, ty = tensors["testX"], tensors["testY"].long()
        correct = sum(int((model(tx[i:i + 256]).argmax(1) == ty[i:i + 256]).sum()) for i in range(0, len(ty), 256))
    seconds = time.perf_counter() - t0
    tlcv_peer.save(sys.argv[2], {"done": torch.ones(1)}, {"accuracy": correct / len(ty), "seconds": seconds})


main()

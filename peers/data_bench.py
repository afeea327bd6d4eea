"""The torchvision side of `tlcv bench`'s data section: ImageFolder + DataLoader with the
standard training transforms (RandomResizedCrop, RandomHorizontalFlip, ToTensor, Normalize),
the loop a PyTorch user writes, alone (decode) and feeding resnet18's training (train). Speaks
the bench's worker protocol: one JSON job per stdin line, one marked JSON answer per stdout
line."""
import json
import sys
import time

import torch
import torchvision
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

MARK = "@@tlcv-bench "


def hello(job):
    return {"threads": torch.get_num_threads(), "torch": torch.__version__, "torchvision": torchvision.__version__}


def train_transform(job):
    return transforms.Compose([
        transforms.RandomResizedCrop(job["size"]),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(job["mean"], job["std"]),
    ])


def decode(job):
    ds = datasets.ImageFolder(job["dir"], transform=train_transform(job))
    g = torch.Generator()
    g.manual_seed(job["seed"])
    loader = DataLoader(ds, batch_size=job["batch"], shuffle=True, num_workers=job["workers"], generator=g)
    it = iter(loader)
    next(it)  # untimed: worker start-up and the first batch, as on the tlcv side
    t0 = time.perf_counter()
    images = 0
    for x, _y in it:
        images += x.shape[0]
        if images >= job["images"]:
            break
    seconds = time.perf_counter() - t0
    del it
    return {"images": images, "seconds": seconds}


def train(job):
    """resnet18 (random init) trained on images + one batch of the folder's photos drawn at
    random, as tlcv's side draws them: AdamW and label smoothing 0.1 as tlcv's defaults, fp32 in
    PyTorch's default layout; timed from the end of the first step."""
    torch.manual_seed(job["seed"])
    ds = datasets.ImageFolder(job["dir"], transform=train_transform(job))
    g = torch.Generator()
    g.manual_seed(job["seed"])
    pick = torch.randperm(len(ds), generator=g)[: job["images"] + job["batch"]].tolist()
    loader = DataLoader(Subset(ds, pick), batch_size=job["batch"], shuffle=True, num_workers=job["workers"], generator=g, drop_last=True)
    model = torchvision.models.resnet18(num_classes=len(ds.classes))
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    t0 = None
    images = 0
    for x, y in loader:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        if t0 is None:
            t0 = time.perf_counter()  # untimed: worker start-up and the first step, as on the tlcv side
        else:
            images += x.shape[0]
    return {"images": images, "seconds": time.perf_counter() - t0, "plan": "fp32 (PyTorch default)"}


HANDLERS = {"hello": hello, "data-decode": decode, "data-train": train}

for line in sys.stdin:
    if not line.strip():
        continue
    try:
        job = json.loads(line)
        answer = {"ok": True, "result": HANDLERS[job["kind"]](job)}
    except Exception as e:  # the harness reports it; the worker stays up for the next job
        answer = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    sys.stdout.write(MARK + json.dumps(answer) + "\n")
    sys.stdout.flush()

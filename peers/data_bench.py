"""The torchvision side of `tlcv bench`'s data section: ImageFolder + DataLoader with the
standard training transforms (RandomResizedCrop, RandomHorizontalFlip, ToTensor, Normalize),
the loop a PyTorch user writes. Speaks the bench's worker protocol: one JSON job per stdin
line, one marked JSON answer per stdout line."""
import json
import sys
import time

import torch
import torchvision
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

MARK = "@@tlcv-bench "


def hello(job):
    return {"threads": torch.get_num_threads(), "torch": torch.__version__, "torchvision": torchvision.__version__}


def decode(job):
    tf = transforms.Compose([
        transforms.RandomResizedCrop(job["size"]),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(job["mean"], job["std"]),
    ])
    ds = datasets.ImageFolder(job["dir"], transform=tf)
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


HANDLERS = {"hello": hello, "data-decode": decode}

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

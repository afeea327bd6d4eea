"""PyTorch/torchvision side of scripts/probes/data-bench.ts (a by-hand probe): the same files, the same sizes, the same
thread count; prints one JSON object of timings. Run by the TS bench, not by hand."""
import gzip
import json
import sys
import time

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
from torchvision.datasets import ImageFolder
from torchvision.datasets.mnist import read_image_file, read_label_file


def best(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def idx_gz(images, labels):
    # torchvision reads only decompressed files; gzip + frombuffer is what it does after extracting.
    def load():
        with gzip.open(images, "rb") as f:
            data = f.read()
        x = torch.frombuffer(bytearray(data), dtype=torch.uint8, offset=16).view(-1, 28, 28)
        with gzip.open(labels, "rb") as f:
            y = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8, offset=8).long()
        assert x.shape[0] == y.shape[0]
    return load


def idx_raw(images, labels):
    def load():
        x = read_image_file(images)
        y = read_label_file(labels)
        assert x.shape[0] == y.shape[0]
    return load


def folder(root, size):
    tf = T.Compose([T.Resize((size, size)), T.PILToTensor()])

    def load():
        ds = ImageFolder(root, transform=tf)
        n = 0
        for i in range(len(ds)):
            x, _ = ds[i]
            n += 1
        return n
    return load


def folder_workers(root, size, workers):
    tf = T.Compose([T.Resize((size, size)), T.PILToTensor()])

    def load():
        ds = ImageFolder(root, transform=tf)
        loader = torch.utils.data.DataLoader(ds, batch_size=64, num_workers=workers)
        for _ in loader:
            pass
    return load


def augment(n, c, h, w, preset):
    torch.manual_seed(0)
    x = torch.rand(n, c, h, w)
    if preset == "spec":
        # The spec's ImageDataGenerator in torchvision terms, drawn per image as a DataLoader would.
        tf = T.Compose([T.RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=0.1), T.RandomHorizontalFlip()])
    else:
        tf = T.Compose([T.RandomResizedCrop((h, w), scale=(0.25, 1.0), antialias=True), T.RandomHorizontalFlip(), T.ColorJitter(brightness=0.1, contrast=0.1)])

    def run():
        torch.stack([tf(x[i]) for i in range(n)])
    return run


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg["threads"])
    out = {"torch": torch.__version__, "torchvision": torchvision.__version__, "threads": torch.get_num_threads()}
    out["idx_gz_s"] = best(idx_gz(cfg["fashionImages"], cfg["fashionLabels"]), cfg["reps"])
    out["idx_raw_s"] = best(idx_raw(cfg["rawImages"], cfg["rawLabels"]), cfg["reps"])
    out["folder_s"] = best(folder(cfg["folder"], cfg["size"]), 2)
    out["folder_workers_s"] = best(folder_workers(cfg["folder"], cfg["size"], cfg["threads"]), 2)
    for a in cfg["augment"]:
        out[f"augment_{a['name']}_s"] = best(augment(a["n"], a["c"], a["h"], a["w"], a["preset"]), 3)
    print(json.dumps(out))


main()

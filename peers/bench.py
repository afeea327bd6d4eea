"""PyTorch side of `tlcv bench` (src/bench/). A worker: it reads one JSON job per line on
stdin and answers one JSON line on stdout ("@@tlcv-bench " + {"ok": true, "result": ...}). The harness starts
it with the thread count and OMP_WAIT_POLICY=PASSIVE that the tlcv worker gets, and gives
both sides the same data files. Each job mirrors a tlcv job in src/bench/<section>/tlcv-jobs.ts."""
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

import speed_jobs  # peers/speed_jobs.py, beside this script
from seed_cnn import SeedCnn  # peers/seed_cnn.py
from dinov2_reference import Attention, DinoV2  # peers/dinov2_reference.py

# ---------------------------------------------------------------- models (tlcv's zoo names)


def build(name, input_size, num_classes):
    c, h, w = input_size
    if name == "seed-cnn":
        return SeedCnn(c, h, w, num_classes)
    if name == "resnet18":
        return torchvision.models.resnet18(num_classes=num_classes)
    if name == "mobilenet_v2_035":
        return torchvision.models.mobilenet_v2(width_mult=0.35, num_classes=num_classes)
    if name.startswith("dinov2_"):
        return DinoV2(name, num_classes, in_chans=c)
    if name.startswith("vit_"):
        return getattr(torchvision.models, name)(num_classes=num_classes, image_size=h)
    if hasattr(torchvision.models, name):  # efficientnet, mobilenet_v3, convnext, regnet as torchvision builds them
        return getattr(torchvision.models, name)(num_classes=num_classes)
    raise ValueError(f"unknown model {name}")


def resnet_split(model, trainable_layers):
    """ResNet as tlcv's stages: a frozen prefix (stem + early layers) and the trained rest."""
    stem = [model.conv1, model.bn1, model.relu, model.maxpool]
    layers = [model.layer1, model.layer2, model.layer3, model.layer4]
    cut = len(layers) - trainable_layers
    frozen = nn.Sequential(*stem, *layers[:cut])
    rest = nn.Sequential(*layers[cut:], model.avgpool, nn.Flatten(1), model.fc)
    return frozen, rest


# ---------------------------------------------------------------- data (files the harness wrote)


def read_u8(path, shape):
    return torch.from_numpy(np.fromfile(path, dtype=np.uint8).reshape(shape).copy())


def read_labels(path):
    return torch.from_numpy(np.fromfile(path, dtype=np.int32).astype(np.int64))


def normalize(u8, mean, std):
    """uint8 NCHW -> float, (x/255 - mean) / std per channel, as tlcv's DataLoader does."""
    c = u8.shape[1]
    m = torch.tensor(mean if len(mean) == c else mean * c).view(1, c, 1, 1)
    s = torch.tensor(std if len(std) == c else std * c).view(1, c, 1, 1)
    return (u8.float() / 255 - m) / s


def read_safetensors(path):
    """Just enough of the format for the float32 state dict tlcv writes."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    types = {"F32": np.float32, "I64": np.int64}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=types[e["dtype"]]).reshape(e["shape"]).copy())
    return out


# ---------------------------------------------------------------- settings


def run_setting(bf16, fn):
    if bf16:
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            return fn()
    return fn()


def prepare(x, channels_last):
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def timed(step, iters, min_seconds, max_iters):
    """Runs step until both `iters` runs and `min_seconds` have passed; returns (runs, seconds)."""
    t0 = time.perf_counter()
    n = 0
    while n < iters or (time.perf_counter() - t0 < min_seconds and n < max_iters):
        step()
        n += 1
    return n, time.perf_counter() - t0


# ---------------------------------------------------------------- jobs

_cache = {}


def throughput(job):
    """Train or inference images/s of one model at one setting, on the harness's batch."""
    config = json.dumps([job["model"], job["inputSize"], job["batch"]])
    if _cache.get("@config") != config:
        _cache.clear()  # one model config at a time keeps the worker small
        _cache["@config"] = config
    key = json.dumps([job["name"], job["mode"]])
    entry = _cache.get(key)
    b = job["batch"]
    if entry is None:
        torch.manual_seed(0)
        model = build(job["model"], job["inputSize"], job["numClasses"])
        if job["channelsLast"]:
            model = model.to(memory_format=torch.channels_last)
        x = normalize(read_u8(job["images"], [b, *job["inputSize"]]), [0.5], [0.5])
        y = read_labels(job["labels"])[:b]
        train = job["mode"] == "train"
        model.train(train)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4) if train else None

        def step():
            xi = prepare(x, job["channelsLast"])
            if train:
                out = run_setting(job["bf16"], lambda: model(xi))
                loss = F.cross_entropy(out.float(), y)
                loss.backward()
                opt.step()
                opt.zero_grad()
                loss.item()
            else:
                with torch.inference_mode():
                    run_setting(job["bf16"], lambda: model(xi)).float()

        for _ in range(job["warmup"]):
            step()
        entry = _cache[key] = step
    cpu0 = time.process_time()
    n, seconds = timed(entry, job["iters"], job["minSeconds"], job["maxIters"])
    return {"images": n * b, "seconds": seconds, "cpuSeconds": time.process_time() - cpu0}


def flops(job):
    """Forward multiply-adds x2 per image, counted on conv and linear layers and attention
    (torchvision's MultiheadAttention applies its projections without calling its modules)."""
    model = build(job["model"], job["inputSize"], job["numClasses"]).eval()
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            total[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            total[0] += out.numel() * m.in_features
        elif isinstance(m, nn.MultiheadAttention):
            b, t, e = out[0].shape
            total[0] += b * t * 4 * e * e + 2 * b * t * t * e
        else:  # the DINOv2 reference's attention: Q K^T and A V (qkv and proj are Linear)
            b, t, e = out.shape
            total[0] += 2 * b * t * t * e
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.MultiheadAttention, Attention)):
            m.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.zeros(1, *job["inputSize"]))
    return {"forwardFlopsPerImage": 2 * total[0]}


def gemm(job):
    n = job["n"]
    dtype = torch.bfloat16 if job["dtype"] == "bfloat16" else torch.float32
    torch.manual_seed(0)
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    torch.mm(a, b)
    runs, seconds = timed(lambda: torch.mm(a, b), job["iters"], job["minSeconds"], job["maxIters"])
    return {"flop": 2 * n ** 3 * runs, "seconds": seconds}


def transfer(job):
    """The spec's loop: the frozen part runs again in every epoch, on train and test data.

    The frozen part is put in eval mode (its BatchNorm uses the running statistics) so that its
    output is a fixed function of the image; the spec's code leaves it in train mode, which
    makes the features depend on the batch and costs the same."""
    torch.manual_seed(job["seed"])
    mean, std = job["mean"], job["std"]
    shape = job["inputSize"]
    xtr = normalize(read_u8(job["trainImages"], [-1, *shape]), mean, std)
    ytr = read_labels(job["trainLabels"])
    xte = normalize(read_u8(job["testImages"], [-1, *shape]), mean, std)
    yte = read_labels(job["testLabels"])
    model = build("resnet18", shape, 10)
    model.load_state_dict(read_safetensors(job["weights"]))
    frozen, rest = resnet_split(model, job["trainableLayers"])
    for p in frozen.parameters():
        p.requires_grad = False
    params = [p for p in rest.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=job["lr"], momentum=job["momentum"])
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=job["stepSize"], gamma=job["gamma"])
    net = nn.Sequential(frozen, rest)
    # tlcv's shuffled order, so that both sides see the same batches and their accuracies
    # differ by numerics, not by the luck of the draw.
    orders = torch.from_numpy(np.fromfile(job["order"], dtype=np.int32).astype(np.int64)).view(job["epochs"], -1)
    b = job["batch"]
    test_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xte, yte), batch_size=b)
    t0 = time.perf_counter()
    history = []
    for epoch in range(job["epochs"]):
        net.train()
        frozen.eval()
        order = orders[epoch]
        for i in range(0, len(order), b):
            idx = order[i:i + b]
            x, y = xtr[idx], ytr[idx]
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
        sched.step()
        net.eval()
        correct = 0
        with torch.no_grad():
            for x, y in test_loader:
                correct += (net(x).argmax(1) == y).sum().item()
        history.append(correct / len(yte))
    return {"seconds": time.perf_counter() - t0, "testAcc": history[-1], "history": history}


def rss_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def memory(job):
    """A training run in a fresh worker: peak RSS and each epoch's highest RSS, sampled after every step."""
    torch.manual_seed(0)
    shape = job["inputSize"]
    images = read_u8(job["images"], [-1, *shape])
    labels = read_labels(job["labels"])
    model = build(job["model"], shape, job["numClasses"]).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, labels), batch_size=job["batch"], shuffle=True)
    rss = []
    for _ in range(job["epochs"]):
        epoch_max = 0
        for xb, yb in loader:
            loss = F.cross_entropy(model(normalize(xb, [0.5], [0.5])), yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
            epoch_max = max(epoch_max, rss_kb("VmRSS"))
        rss.append(epoch_max * 1024)
    return {"peakRss": rss_kb("VmHWM") * 1024, "rssPerEpoch": rss}


def hello(job):
    return {"torch": torch.__version__, "torchvision": torchvision.__version__, "threads": torch.get_num_threads(),
            "ompWaitPolicy": os.environ.get("OMP_WAIT_POLICY")}


JOBS = {"hello": hello, "throughput": throughput, "flops": flops, "gemm": gemm, "transfer": transfer, "memory": memory}


JOBS.update(speed_jobs.jobs(timed))


def main():
    torch.set_num_threads(int(os.environ.get("TLCV_THREADS", "1")))
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        try:
            out = {"ok": True, "result": JOBS[job["kind"]](job)}
        except Exception as e:  # the harness reports it next to the row
            out = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        sys.stdout.write("@@tlcv-bench " + json.dumps(out) + "\n")
        sys.stdout.flush()


main()

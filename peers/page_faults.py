"""PyTorch's side of scripts/probes/page-faults.ts: page faults per inference step (bf16 autocast,
channels-last, batch 64), in a fresh process ('isolated') and after training steps of every setting
of the same model, as the bench's peer worker runs them first ('bench').
Usage: page_faults.py isolated|bench [model] [side]"""
import resource
import sys
import time

import torch
import torch.nn.functional as F
import torchvision

mode = sys.argv[1] if len(sys.argv) > 1 else "isolated"
name = sys.argv[2] if len(sys.argv) > 2 else "mobilenet_v2_035"
side = int(sys.argv[3]) if len(sys.argv) > 3 else 224
torch.set_num_threads(2)


def build():
    torch.manual_seed(0)
    if name == "resnet18":
        return torchvision.models.resnet18(num_classes=10)
    return torchvision.models.mobilenet_v2(width_mult=0.35, num_classes=10)


x = torch.randn(64, 3, side, side)
y = torch.randint(0, 10, (64,))
kept = []
if mode == "bench":
    for bf16 in (False, True):
        for cl in (False, True):
            m = build().train()
            if cl:
                m = m.to(memory_format=torch.channels_last)
            opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=1e-4)
            xi = x.contiguous(memory_format=torch.channels_last) if cl else x
            try:
                for _ in range(4):
                    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                        out = m(xi)
                    F.cross_entropy(out.float(), y).backward()
                    opt.step()
                    opt.zero_grad()
            except RuntimeError:
                pass  # PyTorch 1.13 has no bf16 hardtanh backward: the bench's row fails the same way
            kept.append((m, opt))
model = build().eval().to(memory_format=torch.channels_last)


def step():
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        model(x.contiguous(memory_format=torch.channels_last)).float()


for _ in range(2):
    step()
for rep in range(3):
    r0, t0, n = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter(), 0
    while n < 2 or time.perf_counter() - t0 < 2:
        step()
        n += 1
    r1, dt = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - t0
    per = lambda s: s * 1000 / (n * 64)
    print(f"{mode} rep {rep}: {n * 64 / dt:.1f} images/s, {round((r1.ru_minflt - r0.ru_minflt) / n)} page faults per step, "
          f"CPU ms per image {per(r1.ru_utime - r0.ru_utime):.2f} user + {per(r1.ru_stime - r0.ru_stime):.2f} system")

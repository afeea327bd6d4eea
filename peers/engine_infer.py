"""PyTorch side of scripts/probes/engine-inference.ts: inference of one zoo model at one batch
in each of PyTorch's four settings (fp32, fp32+cl, bf16, bf16+cl), as `tlcv bench` times its
inference rows (model.eval(), torch.inference_mode(), bf16 by autocast).

argv: model channels height width batch threads classes. Reads one request per line on stdin,
"SETTING RUNS CLOCK", and answers one line: the seconds of one forward, the fastest of RUNS by
the wall clock ("wall"), or the process's CPU time over all RUNS divided by RUNS ("cpu": with
one thread, a figure that time-slicing on a loaded machine does not inflate). The first request
of a setting warms it up with two forwards first. The TS side alternates its own runs with these
requests, so both sides see the same load.
"""
import copy
import sys
import time

import torch
import torchvision

from seed_cnn import SeedCnn  # peers/seed_cnn.py, beside this script


def build(name, c, h, w, num_classes):
    """The zoo names of bench.py's build (which runs its worker loop when imported)."""
    if name == "seed-cnn":
        return SeedCnn(c, h, w, num_classes)
    if name.startswith("resnet"):
        return getattr(torchvision.models, name)(num_classes=num_classes)
    if name == "mobilenet_v2_035":
        return torchvision.models.mobilenet_v2(width_mult=0.35, num_classes=num_classes)
    if name == "mobilenet_v2":
        return torchvision.models.mobilenet_v2(num_classes=num_classes)
    raise ValueError(f"unknown model {name}")


def main():
    name, c, h, w, batch, threads, classes = sys.argv[1], *map(int, sys.argv[2:8])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build(name, c, h, w, classes).eval()
    x = torch.randn(batch, c, h, w)
    layouts = {False: model, True: copy.deepcopy(model).to(memory_format=torch.channels_last)}
    variants = {}
    for setting in ("fp32", "fp32+cl", "bf16", "bf16+cl"):
        cl = setting.endswith("+cl")
        m = layouts[cl]
        xi = x.contiguous(memory_format=torch.channels_last) if cl else x
        bf16 = setting.startswith("bf16")

        def step(m=m, xi=xi, bf16=bf16):
            with torch.inference_mode(), torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=bf16):
                m(xi).float()

        variants[setting] = step
    warm = set()
    print(f"ready {torch.__version__} {torch.get_num_threads()}", flush=True)
    for line in sys.stdin:
        setting, runs, clock = line.split()
        step = variants[setting]
        if setting not in warm:
            step()
            step()
            warm.add(setting)
        if clock == "cpu":
            t0 = time.process_time()
            for _ in range(int(runs)):
                step()
            print((time.process_time() - t0) / int(runs), flush=True)
            continue
        best = float("inf")
        for _ in range(int(runs)):
            t0 = time.perf_counter()
            step()
            best = min(best, time.perf_counter() - t0)
        print(best, flush=True)

if __name__ == "__main__":
    main()

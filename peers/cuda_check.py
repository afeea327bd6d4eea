"""PyTorch's side of scripts/probes/cuda-check.ts: ResNet-18 at 224 px, one AdamW training step
timed as tlcv's side times it (fp32, and bf16 autocast with channels-last). Prints one JSON line."""
import json
import sys
import time

import torch
import torchvision

device, batch = sys.argv[1], int(sys.argv[2])
out = {}
for bf16 in (False, True):
    torch.manual_seed(4)
    model = torchvision.models.resnet18(num_classes=1000).to(device)
    if bf16:
        model = model.to(memory_format=torch.channels_last)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    y = torch.arange(batch, device=device) % 1000

    def step():
        x = torch.randn(batch, 3, 224, 224, device=device)
        if bf16:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type="cuda" if device != "cpu" else "cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
        torch.nn.functional.cross_entropy(logits.float(), y).backward()
        opt.step()
        opt.zero_grad()
        logits.float().sum().item()

    for _ in range(3):
        step()
    iters = 10
    t0 = time.perf_counter()
    for _ in range(iters):
        step()
    out["bf16+CL" if bf16 else "fp32"] = batch * iters / (time.perf_counter() - t0)
print(json.dumps(out))

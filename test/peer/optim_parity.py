"""Optimizer parity: fixed initial weights, 10 steps of fixed gradients (some parameters get
no gradient on some steps, so they are skipped as PyTorch skips them), then the final weights
of each optimizer configuration. Usage: optim_parity.py OUT_DIR CASES_JSON [long]

With "long": 100 steps on larger parameters (several vector widths and work chunks of the
fused step), gradients drawn from torch.randn after manual_seed(10000 + step), which tlcv's
randn reproduces, so only the initial and final weights travel."""
import json
import sys

import torch

import tlcv_peer

SHAPES = [(4, 3, 3, 3), (4,), (5, 16), (5,), (7,)]
STEPS = 10
# Parameter 4 has no gradient at these steps; parameter 3 never on the first two.
NO_GRAD = {4: {3, 4, 5}, 3: {0, 1}}


def make_optimizer(case, params):
    groups = [{"params": params[:2]}, {"params": params[2:]}]
    if "group_lrs" in case:
        for g, lr in zip(groups, case["group_lrs"]):
            g["lr"] = lr
    kw = dict(case["options"])
    if "betas" in kw:
        kw["betas"] = tuple(kw["betas"])
    cls = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW}[case["optimizer"]]
    return cls(groups, **kw)


LONG_SHAPES = [(64, 32, 3, 3), (37,), (300, 70), (5,)]
LONG_STEPS = 100


def main_long(out, cases):
    torch.manual_seed(99)
    init = [torch.randn(s, dtype=torch.float32) for s in LONG_SHAPES]
    saved = {f"init.{i}": t for i, t in enumerate(init)}
    for k, case in enumerate(cases):
        params = [t.clone().requires_grad_(True) for t in init]
        opt = make_optimizer(case, params)
        for step in range(LONG_STEPS):
            opt.zero_grad(set_to_none=True)
            torch.manual_seed(10000 + step)
            for p in params:
                p.grad = torch.randn(p.shape)
            opt.step()
        saved.update({f"case{k}.{i}": p.detach() for i, p in enumerate(params)})
    tlcv_peer.save(out, saved, {"steps": LONG_STEPS})


def main():
    out, cases = tlcv_peer.out_dir(), json.loads(sys.argv[2])
    if len(sys.argv) > 3 and sys.argv[3] == "long":
        return main_long(out, cases)
    torch.manual_seed(1234)
    init = [torch.randn(s, dtype=torch.float32) for s in SHAPES]
    grads = [[torch.randn(s, dtype=torch.float32) * (1 + step) / 4 for s in SHAPES] for step in range(STEPS)]
    saved = {f"init.{i}": t for i, t in enumerate(init)}
    saved.update({f"grad.{step}.{i}": g for step, gs in enumerate(grads) for i, g in enumerate(gs)})
    for k, case in enumerate(cases):
        params = [t.clone().requires_grad_(True) for t in init]
        opt = make_optimizer(case, params)
        for step in range(STEPS):
            opt.zero_grad(set_to_none=True)
            for i, p in enumerate(params):
                if step not in NO_GRAD.get(i, set()):
                    p.grad = grads[step][i].clone()
            opt.step()
        saved.update({f"case{k}.{i}": p.detach() for i, p in enumerate(params)})
    tlcv_peer.save(out, saved, {"steps": STEPS, "noGrad": {str(k): sorted(v) for k, v in NO_GRAD.items()}})


main()

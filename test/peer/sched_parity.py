"""LR schedule parity: for each case, the lr of every param group right after construction
and after each step(), and the momentum (SGD) or beta1 (Adam) where OneCycleLR cycles it.
Usage: sched_parity.py OUT_DIR CASES_JSON"""
import json
import sys

import torch
from torch.optim import lr_scheduler as S

import tlcv_peer


def build(case, opt):
    kind, o = case["kind"], case.get("options", {})
    if kind == "CosineWithWarmup":
        warm, total = o["warmup"], o["total"]
        linear = S.LinearLR(opt, start_factor=o["start_factor"], total_iters=warm)
        cosine = S.CosineAnnealingLR(opt, T_max=total - warm, eta_min=o.get("eta_min", 0))
        return S.SequentialLR(opt, [linear, cosine], milestones=[warm])
    if kind == "SequentialLR":
        subs = [build(sub, opt) for sub in o["schedulers"]]
        return S.SequentialLR(opt, subs, milestones=o["milestones"])
    return getattr(S, kind)(opt, **o)


def momentum_of(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def main():
    out, cases = tlcv_peer.out_dir(), json.loads(sys.argv[2])
    results = []
    for case in cases:
        params = [torch.nn.Parameter(torch.zeros(1)) for _ in case["group_lrs"]]
        groups = [{"params": [p], "lr": lr} for p, lr in zip(params, case["group_lrs"])]
        if case.get("optimizer", "SGD") == "Adam":
            opt = torch.optim.Adam(groups)
        else:
            opt = torch.optim.SGD(groups, lr=0.1, momentum=case.get("momentum", 0.9))
        sched = build(case, opt)
        lrs, moms = [[g["lr"] for g in opt.param_groups]], [momentum_of(opt)]
        metrics = case.get("metrics")
        for i in range(case["steps"]):
            opt.step()
            if metrics is not None:
                sched.step(metrics[i])
            else:
                sched.step()
            lrs.append([g["lr"] for g in opt.param_groups])
            moms.append(momentum_of(opt))
        results.append({"lrs": lrs, "momentums": moms})
    tlcv_peer.save(out, {}, {"results": results})


main()

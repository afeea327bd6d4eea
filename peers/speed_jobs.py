"""PyTorch side of the issue-16 bench figures (src/bench/optimizer/, src/bench/roofline/), loaded by the bench's
peer worker: the optimizer step alone, as torch.optim.AdamW runs it with foreach=True and in
its 1.13 default (single-tensor) form."""
import torch
import torchvision


def optim_step(job, timed):
    """AdamW (lr 1e-3, weight decay 1e-4) over a model's parameters, fixed random gradients."""
    if job["model"] != "resnet18":
        raise ValueError(f"optimStep: only resnet18 here, not {job['model']}")
    variant = job["variant"]
    if variant not in ("foreach", "single"):
        raise ValueError(f"unknown PyTorch optimizer variant {variant}")
    torch.manual_seed(0)
    params = list(torchvision.models.resnet18(num_classes=job["numClasses"]).parameters())
    for p in params:
        p.grad = torch.randn_like(p)
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-4, foreach=variant == "foreach")
    for _ in range(job["warmup"]):
        opt.step()
    n, seconds = timed(opt.step, job["iters"], job["minSeconds"], job["maxIters"])
    return {"steps": n, "seconds": seconds, "params": sum(p.numel() for p in params)}


def jobs(timed):
    """The job table, given bench.py's timing loop (so both time alike)."""
    return {"optimStep": lambda job: optim_step(job, timed)}

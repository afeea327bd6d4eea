"""PyTorch's side of `tlcv bench --only distributed`, run by torch.distributed.run (torchrun)
with the Gloo backend: the jobs tlcv's workers run (src/bench/distributed/worker.ts), given as JSON
in argv[1], in order. Rank 0 prints the results as one line after a marker."""
import json
import resource
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
import torchvision

MARK = "@@tlcv-dist "


def build(name, channels, num_classes):
    if name == "resnet18":
        model = torchvision.models.resnet18(num_classes=num_classes)
        if channels != 3:
            model.conv1 = torch.nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
        return model
    if name == "mobilenet_v2_035":
        return torchvision.models.mobilenet_v2(width_mult=0.35, num_classes=num_classes)
    raise ValueError(f"dist_bench.py has no model {name}")


def allreduce_job(job, world):
    shapes = [p.shape for p in build(job["model"], 3, 1000).parameters()]
    if job["layout"] == "flat":
        tensors = [torch.ones(sum(s.numel() for s in shapes))]
        buckets = [[0]]
    else:
        tensors = [torch.ones(s) for s in shapes]
        # DDP's own bucketing, as tlcv's native side calls it.
        buckets, _ = dist._compute_bucket_assignment_by_size(tensors, [job["bucketBytes"]])
    seconds = []
    for i in range(job["warmup"] + job["reps"]):
        dist.barrier()
        t0 = time.perf_counter()
        works = []
        for b in buckets:
            if len(b) == 1:
                works.append(dist.all_reduce(tensors[b[0]], async_op=True))
            else:
                works.append(dist.all_reduce_coalesced([tensors[j] for j in b], async_op=True))
        for w in works:
            w.wait()
        if i >= job["warmup"]:
            seconds.append(time.perf_counter() - t0)
    expected = world ** (job["warmup"] + job["reps"])
    got = tensors[-1].reshape(-1)[0].item()
    if got != expected:
        raise RuntimeError(f"allreduce gave {got}, expected {expected}")
    return {"kind": "allreduce", "seconds": seconds, "bytes": sum(s.numel() for s in shapes) * 4}


def train_job(job, world):
    torch.manual_seed(job["seed"])
    c, h, w = job["inputSize"]
    model = build(job["model"], c, 10)
    model.train()
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(job["batch"], c, h, w)
    y = torch.randint(0, 10, (job["batch"],))
    t0 = 0.0
    u0 = resource.getrusage(resource.RUSAGE_SELF)
    for i in range(job["warmup"] + job["iters"]):
        if i == job["warmup"]:
            dist.barrier()
            t0 = time.perf_counter()
            u0 = resource.getrusage(resource.RUSAGE_SELF)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    seconds = time.perf_counter() - t0
    u1 = resource.getrusage(resource.RUSAGE_SELF)
    # CPU time of the whole process (every thread) and minor page faults, as tlcv's side reports them.
    cpu = (u1.ru_utime + u1.ru_stime) - (u0.ru_utime + u0.ru_stime)
    return {"kind": "train", "seconds": seconds, "cpuSeconds": cpu, "faults": u1.ru_minflt - u0.ru_minflt, "images": world * job["batch"] * job["iters"], "steps": job["iters"], "buckets": 0}


def main():
    jobs = json.loads(sys.argv[1])
    dist.init_process_group("gloo")
    world = dist.get_world_size()
    results = [allreduce_job(j, world) if j["kind"] == "allreduce" else train_job(j, world) for j in jobs]
    if dist.get_rank() == 0:
        print(MARK + json.dumps(results), flush=True)
    dist.destroy_process_group()


main()

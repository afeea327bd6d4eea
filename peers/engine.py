"""PyTorch side of scripts/probes/engine.ts, the same measurements on request.

argv: threads calls. Reads one figure name per line on stdin ("tiny_add", "tiny_add_fn",
"tiny_add_", "matmul", "conv") and answers each with one line: the seconds one repetition
took. The TS side alternates its own repetitions with these, so both see the same load.
"""
import sys
import time

import torch


def main():
    threads, calls = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(0)

    a, b, c = torch.tensor([1.0]), torch.tensor([2.0]), torch.tensor([0.0])

    def tiny_add():
        for _ in range(calls):
            a + b

    def tiny_add_fn():
        for _ in range(calls):
            torch.add(a, b)

    def tiny_add_():
        for _ in range(calls):
            c.add_(b)

    n = 2048
    x, y = torch.randn(n, n), torch.randn(n, n)
    inp = torch.randn(64, 64, 28, 28, requires_grad=True)
    w = torch.randn(128, 64, 3, 3, requires_grad=True)
    bias = torch.zeros(128, requires_grad=True)
    g = torch.ones(64, 128, 28, 28)

    def conv():
        inp.grad = None
        w.grad = None
        bias.grad = None
        torch.nn.functional.conv2d(inp, w, bias, padding=1).backward(g)

    figures = {"tiny_add": tiny_add, "tiny_add_fn": tiny_add_fn, "tiny_add_": tiny_add_, "matmul": lambda: torch.matmul(x, y), "conv": conv}
    warm = set()
    print(f"ready {torch.__version__} {torch.get_num_threads()}", flush=True)
    for line in sys.stdin:
        name = line.strip()
        fn = figures[name]
        if name not in warm:
            fn()
            warm.add(name)
        t0 = time.perf_counter()
        fn()
        print(time.perf_counter() - t0, flush=True)


if __name__ == "__main__":
    main()

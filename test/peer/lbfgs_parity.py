"""L-BFGS parity: a float64 multinomial logistic regression with an L2 term, minimised by
torch.optim.LBFGS under several settings; each case saves its final weights, the losses its
step calls returned and its evaluation and iteration counts. Usage: lbfgs_parity.py OUT_DIR CASES_JSON"""
import json
import sys

import torch
import torch.nn.functional as F

import tlcv_peer

N, D, C, L2 = 90, 6, 3, 1e-2


def main():
    out, cases = tlcv_peer.out_dir(), json.loads(sys.argv[2])
    torch.manual_seed(7)
    x = torch.randn(N, D, dtype=torch.float64)
    y = torch.randint(0, C, (N,))
    x[torch.arange(N), y] += 1.5  # separable enough to learn, not so much that weights run off
    saved = {"x": x, "y": y}
    meta = {"l2": L2, "cases": []}
    for k, case in enumerate(cases):
        w = torch.zeros(C, D, dtype=torch.float64, requires_grad=True)
        b = torch.zeros(C, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], **case["options"])

        def closure():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(F.linear(x, w, b), y) + 0.5 * L2 * w.pow(2).sum()
            loss.backward()
            return loss

        losses = [float(opt.step(closure)) for _ in range(case["steps"])]
        state = opt.state[w]
        saved[f"case{k}.w"] = w.detach()
        saved[f"case{k}.b"] = b.detach()
        meta["cases"].append({"losses": losses, "funcEvals": state["func_evals"], "iterations": state["n_iter"]})
    tlcv_peer.save(out, saved, meta)


main()

"""Open-set scores in PyTorch, for scripts/probes/open-set.ts: from the same logits and features
as tlcv, computes with torch what tlcv computes in src/metrics/calibration.ts, written from the
definitions, not from tlcv's code:
- temperature scaling as Guo et al.'s reference code fits it (one parameter, L-BFGS on the
  validation NLL), and the ECE (15 equal-width bins) before and after, on the known test images;
- three scores: max softmax, the calibrated max softmax, and minus the distance of the centred,
  unit-length feature to the nearest unit-length class mean of the training features (SimpleShot);
- for each: AUROC (known against unknown, by the Mann-Whitney statistic), and at the threshold
  that rejects the target fraction of validation images, the rates on known and unknown test images.

Usage: open_set.py IN_DIR OUT_DIR (tlcv_peer's format; see the probe for the tensors' names).
OUT_DIR: meta temperature, eceBefore, eceAfter, figures {score: {auroc, knownRejected, unknownRejected}}."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "peer"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import tlcv_peer  # noqa: E402


def fit_temperature(logits, labels):
    t = torch.nn.Parameter(torch.ones(1, dtype=torch.float64) * 1.5)
    opt = torch.optim.LBFGS([t], lr=0.01, max_iter=500, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(logits / t, labels)
        loss.backward()
        return loss

    opt.step(closure)
    return float(t.detach())


def ece(probs, labels, bins=15):
    conf, pred = probs.max(1)
    correct = (pred == labels).double()
    edges = torch.linspace(0, 1, bins + 1, dtype=torch.float64)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (conf > lo) & (conf <= hi) if lo > 0 else (conf <= hi)
        if inside.any():
            total += inside.double().mean() * (correct[inside].mean() - conf[inside].mean()).abs()
    return float(total)


def auroc(known, unknown):
    scores = torch.cat([known, unknown])
    order = scores.argsort()
    ranks = torch.empty_like(scores)
    ranks[order] = torch.arange(1, len(scores) + 1, dtype=torch.float64)
    # Ties share their mean rank.
    for v in scores.unique():
        same = scores == v
        if same.sum() > 1:
            ranks[same] = ranks[same].mean()
    n1, n0 = len(known), len(unknown)
    return float((ranks[:n1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def unit_rows(x):
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def main():
    in_dir, out_dir = sys.argv[1:3]
    t, meta = tlcv_peer.load(in_dir)
    target = float(meta["target"])
    d = {k: v.double() if v.is_floating_point() else v.long() for k, v in t.items()}
    temperature = fit_temperature(d["valLogits"], d["valLabels"])
    mu = d["trainFeatures"].mean(0)
    z = unit_rows(d["trainFeatures"] - mu)
    k = d["valLogits"].shape[1]
    means = unit_rows(torch.stack([z[d["trainLabels"] == c].mean(0) for c in range(k)]))

    def ncm(features):
        return -torch.cdist(unit_rows(features - mu), means).min(1).values

    scores = {
        "max softmax": lambda s: F.softmax(d[f"{s}Logits"], 1).max(1).values,
        "ncm distance": lambda s: ncm(d[f"{s}Features"]),
        "calibrated max softmax": lambda s: F.softmax(d[f"{s}Logits"] / temperature, 1).max(1).values,
    }
    figures = {}
    for name, score in scores.items():
        val = score("val").sort().values
        threshold = val[int(target * len(val))]
        known, unknown = score("known"), score("unknown")
        figures[name] = {
            "auroc": auroc(known, unknown),
            "knownRejected": float((known < threshold).double().mean()),
            "unknownRejected": float((unknown < threshold).double().mean()),
        }
    labels = d["knownLabels"]
    out = {
        "temperature": temperature,
        "eceBefore": ece(F.softmax(d["knownLogits"], 1), labels),
        "eceAfter": ece(F.softmax(d["knownLogits"] / temperature, 1), labels),
        "figures": figures,
    }
    tlcv_peer.save(out_dir, {"temperature": torch.tensor([temperature])}, out)


main()

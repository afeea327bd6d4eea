"""Python twins of test/ops-parity-nn.test.ts: same case names, same semantics."""
import torch
import torch.nn.functional as F


def conv(t, m):
    return F.conv2d(t.x, t.w, t.get("b"), stride=m.get("stride", 1), padding=m.get("padding", 0),
                    dilation=m.get("dilation", 1), groups=m.get("groups", 1))


def bn_train(t, m):
    rm, rv = t.rm.clone(), t.rv.clone()
    out = F.batch_norm(t.x, rm, rv, t.w, t.b, training=True, momentum=0.2)
    return {"out": out, "rm": rm, "rv": rv}


def ce(t, m):
    return F.cross_entropy(t.x, t.y, weight=t.w if m["useWeight"] else None, reduction=m["reduction"],
                           ignore_index=m["ignoreIndex"], label_smoothing=m["labelSmoothing"])


def nll(t, m):
    return F.nll_loss(F.log_softmax(t.x, 1), t.y, weight=t.w if m["useWeight"] else None,
                      reduction=m["reduction"], ignore_index=m["ignoreIndex"])


def sample(t, m):
    return F.grid_sample(t.x, t.grid, mode=m["mode"], padding_mode=m["paddingMode"], align_corners=m["alignCorners"])


CONVS = ["basic", "stride-padding", "asymmetric", "dilation", "groups", "depthwise", "no-bias", "all-options"]
CE = ["mean", "sum", "none", "weights", "label-smoothing", "weights-label-smoothing", "weights-label-smoothing-sum", "ignore-index"]
NLL = ["mean", "sum", "none", "weights", "ignore-index"]
SAMPLE = ["bilinear-zeros", "bilinear-border", "bilinear-reflection", "bilinear-align-corners", "nearest", "bicubic"]

CASES = {
    **{f"conv2d/{n}": conv for n in CONVS},
    "max_pool2d/k2": lambda t, m: F.max_pool2d(t.x, 2),
    "max_pool2d/k3-s2-p1": lambda t, m: F.max_pool2d(t.x, 3, stride=2, padding=1),
    "max_pool2d/ceil": lambda t, m: F.max_pool2d(t.x, 2, ceil_mode=True),
    "max_pool2d/dilation": lambda t, m: F.max_pool2d(t.x, 2, stride=1, dilation=2),
    "avg_pool2d/k2": lambda t, m: F.avg_pool2d(t.x, 2),
    "avg_pool2d/k3-s2-p1-exclude-pad": lambda t, m: F.avg_pool2d(t.x, 3, stride=2, padding=1, count_include_pad=False),
    "avg_pool2d/ceil": lambda t, m: F.avg_pool2d(t.x, 2, ceil_mode=True),
    "adaptive_avg_pool2d/1": lambda t, m: F.adaptive_avg_pool2d(t.x, 1),
    "adaptive_avg_pool2d/3x2": lambda t, m: F.adaptive_avg_pool2d(t.x, (3, 2)),
    "batch_norm/train": bn_train,
    "batch_norm/eval": lambda t, m: F.batch_norm(t.x, t.rm, t.rv, t.w, t.b, training=False, eps=1e-3),
    "batch_norm/train-plain": lambda t, m: F.batch_norm(t.x, None, None, training=True),
    "batch_norm/train-1d": bn_train,
    "dropout/train": lambda t, m: F.dropout(t.x, 0.3, True),
    "dropout/train-small": lambda t, m: F.dropout(t.x, 0.5, True),
    "dropout/eval": lambda t, m: F.dropout(t.x, 0.3, False),
    "dropout/p1": lambda t, m: F.dropout(t.x, 1.0, True),
    "linear": lambda t, m: F.linear(t.x, t.w, t.b),
    "linear/no-bias": lambda t, m: F.linear(t.x, t.w),
    "linear/3d": lambda t, m: F.linear(t.x, t.w, t.b),
    "act/relu": lambda t, m: F.relu(t.x),
    "act/relu6": lambda t, m: F.relu6(t.x),
    "act/leaky_relu": lambda t, m: F.leaky_relu(t.x),
    "act/leaky_relu/0.2": lambda t, m: F.leaky_relu(t.x, 0.2),
    "act/gelu": lambda t, m: F.gelu(t.x),
    "act/gelu/tanh": lambda t, m: F.gelu(t.x, approximate="tanh"),
    "act/sigmoid": lambda t, m: torch.sigmoid(t.x),
    "act/tanh": lambda t, m: torch.tanh(t.x),
    "act/softmax/1": lambda t, m: F.softmax(t.x, 1),
    "act/softmax/-1": lambda t, m: F.softmax(t.x, -1),
    "act/log_softmax/1": lambda t, m: F.log_softmax(t.x, 1),
    "act/log_softmax/-1": lambda t, m: F.log_softmax(t.x, -1),
    **{f"cross_entropy/{n}": ce for n in CE},
    "cross_entropy/probabilities": lambda t, m: F.cross_entropy(t.x, t.p / t.p.sum(1, keepdim=True), label_smoothing=0.1),
    "cross_entropy/spatial": lambda t, m: F.cross_entropy(t.x, t.y),
    **{f"nll_loss/{n}": nll for n in NLL},
    "interpolate/nearest-size": lambda t, m: F.interpolate(t.x, size=(5, 7)),
    "interpolate/nearest-scale": lambda t, m: F.interpolate(t.x, scale_factor=2),
    "interpolate/bilinear-size": lambda t, m: F.interpolate(t.x, size=(7, 3), mode="bilinear"),
    "interpolate/bilinear-align-corners": lambda t, m: F.interpolate(t.x, size=(7, 9), mode="bilinear", align_corners=True),
    "interpolate/bilinear-scale": lambda t, m: F.interpolate(t.x, scale_factor=(1.5, 0.5), mode="bilinear"),
    "pad/constant": lambda t, m: F.pad(t.x, [1, 2, 0, 1], value=0.5),
    "pad/constant-last-dim": lambda t, m: F.pad(t.x, [3, 1]),
    "pad/reflect": lambda t, m: F.pad(t.x, [2, 1, 1, 2], mode="reflect"),
    "pad/reflect-1d": lambda t, m: F.pad(t.x, [2, 3], mode="reflect"),
    "pad/replicate": lambda t, m: F.pad(t.x, [1, 1, 2, 0], mode="replicate"),
    "affine_grid": lambda t, m: F.affine_grid(t.theta, [2, 3, 5, 4], align_corners=False),
    "affine_grid/align-corners": lambda t, m: F.affine_grid(t.theta, [2, 3, 5, 4], align_corners=True),
    **{f"grid_sample/{n}": sample for n in SAMPLE},
    "affine_grid+grid_sample": lambda t, m: F.grid_sample(t.x, F.affine_grid(t.theta, [2, 3, 6, 6], align_corners=False), align_corners=False),
}

"""Runs the Python twins of the TS op-parity cases (test/ops-parity-*.test.ts).

argv: out_dir in_dir module. in_dir holds each case's inputs as "<case>#<input>", the
weights for the gradient check as "<case>#w#<output>", and meta.cases with each case's
spec. The module (ops_cases_*.py) maps case names to functions f(t, meta) of the inputs.
Outputs are saved as "<case>#out/<name>" and "<case>#grad/<input>"; meta.dtypes keeps the
true dtype of each (float16/bfloat16 travel as float32, int8/int16 as int64).
"""
import importlib
import sys

import torch

from tlcv_peer import load, save

SAVED_AS = {torch.float16: torch.float32, torch.bfloat16: torch.float32, torch.int8: torch.int64, torch.int16: torch.int64}


class Inputs(dict):
    """Lets case expressions write t.x for t['x']."""

    def __getattr__(self, name):
        return self[name]

    def get(self, name, default=None):
        return dict.get(self, name, default)


def main():
    out_dir, in_dir, module = sys.argv[1], sys.argv[2], sys.argv[3]
    tensors, meta = load(in_dir)
    torch.set_num_threads(meta["threads"])
    cases = importlib.import_module(module).CASES
    results, dtypes, errors = {}, {}, {}

    def put(key, t):
        t = t.detach()
        dtypes[key] = str(t.dtype).replace("torch.", "")
        results[key] = t.to(SAVED_AS.get(t.dtype, t.dtype))

    for name, spec in meta["cases"].items():
        try:
            if name not in cases:
                raise KeyError(f"no Python twin for case {name!r} in {module}")
            t = Inputs({k: tensors[f"{name}#{k}"] for k in spec["inputs"]})
            for k in spec["grad"]:
                t[k].requires_grad_(True)
            if spec["seed"] is not None:
                torch.manual_seed(spec["seed"])
            out = cases[name](t, spec["meta"])
            if isinstance(out, torch.Tensor):
                out = {"out": out}
            needing = sorted(k for k, o in out.items() if o.requires_grad)
            if spec["grad"] and needing != sorted(spec["weights"]):
                raise ValueError(f"outputs needing grad differ: peer {needing}, tlcv {sorted(spec['weights'])}")
            if spec["grad"]:
                loss = sum((out[k] * tensors[f"{name}#w#{k}"]).sum() for k in spec["weights"])
                loss.backward()
                for k in spec["grad"]:
                    put(f"{name}#grad/{k}", t[k].grad)
            for k, o in out.items():
                put(f"{name}#out/{k}", o)
        except Exception as e:  # reported per case, so one bad twin does not hide the rest
            errors[name] = f"{type(e).__name__}: {e}"
            for k in [k for k in results if k.startswith(f"{name}#")]:
                del results[k]
    python_only = sorted(set(cases) - set(meta["cases"]))
    save(out_dir, results, {"dtypes": dtypes, "errors": errors, "pythonOnly": python_only})


if __name__ == "__main__":
    main()

"""Checks exported ONNX files with the onnx package's own checker (Debian's python3-onnx), and
reports what each file declares, as JSON on stdout: opset, IR version, inputs, outputs, metadata.

Usage: onnx_check.py FILE.onnx...
"""
import json
import sys

import onnx


def dims(value):
    return [d.dim_param if d.dim_param else d.dim_value for d in value.type.tensor_type.shape.dim]


def main():
    report = {}
    for path in sys.argv[1:]:
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        report[path] = {
            "ir_version": model.ir_version,
            "opset": [[o.domain, o.version] for o in model.opset_import],
            "inputs": [[v.name, dims(v)] for v in model.graph.input],
            "outputs": [[v.name, dims(v)] for v in model.graph.output],
            "metadata": {p.key: p.value for p in model.metadata_props},
            "ops": sorted({n.op_type for n in model.graph.node}),
        }
    json.dump(report, sys.stdout)


main()

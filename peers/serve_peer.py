"""The PyTorch side of `tlcv bench --only serve`: a tlcv model folder behind Python's own
ThreadingHTTPServer, one thread per request, each decoding with PIL and classifying under
torch.no_grad(). What a PyTorch user writes for a small service; it answers POST /predict with
the same JSON as `tlcv serve` and GET /healthz.

Usage: serve_peer.py MODEL_DIR [--port N] [--threads N]
Prints "listening on http://127.0.0.1:PORT" on stderr once it serves.
"""
import argparse
import io
import json
import struct
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import torch
import torch.nn as nn
import torchvision
from seed_cnn import SeedCnn  # peers/seed_cnn.py, beside this script
from PIL import Image


def build(config):
    c, h, w = config["inputSize"]
    name, k, options = config["model"], config["numClasses"], config.get("options", {})
    if name == "seed-cnn":
        model = SeedCnn(c, h, w, k, int(options.get("hidden", 512)), float(options.get("dropout", 0.5)))
    elif name in ("resnet18", "resnet34", "resnet50"):
        model = getattr(torchvision.models, name)(num_classes=k)
        if c != 3:
            model.conv1 = nn.Conv2d(c, 64, 7, 2, 3, bias=False)
    elif name.startswith("mobilenet_v2"):
        model = torchvision.models.mobilenet_v2(width_mult=float(options.get("alpha", 1.0)), num_classes=k)
        if c != 3:
            first = model.features[0][0]
            model.features[0][0] = nn.Conv2d(c, first.out_channels, 3, 2, 1, bias=False)
    else:
        raise SystemExit(f"serve_peer: no PyTorch model for {name}")
    return model


def read_safetensors(path):
    """Just enough of the format for the state dict tlcv writes."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    types = {"F32": np.float32, "I64": np.int64}
    out = {}
    for name, e in header.items():
        if name != "__metadata__":
            a, b = e["data_offsets"]
            out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=types[e["dtype"]]).reshape(e["shape"]).copy())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with open(f"{args.model_dir}/config.json") as f:
        config = json.load(f)
    model = build(config)
    model.load_state_dict(read_safetensors(f"{args.model_dir}/{config.get('weights', 'model.safetensors')}"))
    model.eval()
    c, h, w = config["inputSize"]
    mean = torch.tensor(config["mean"]).view(1, c, 1, 1)
    std = torch.tensor(config["std"]).view(1, c, 1, 1)
    classes = config["classes"]

    def classify(data):
        img = Image.open(io.BytesIO(data))
        if img.mode in ("RGBA", "LA", "P"):
            img = img.convert("RGBA")
            flat = Image.new("RGBA", img.size, (0, 0, 0, 255))
            img = Image.alpha_composite(flat, img)
        img = img.convert("L" if c == 1 else "RGB").resize((w, h), Image.LANCZOS)
        x = torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).reshape(h, w, c).permute(2, 0, 1).unsqueeze(0)
        with torch.no_grad():
            probs = torch.softmax(model((x.float() / 255 - mean) / std), 1)[0].tolist()
        top = sorted(range(len(probs)), key=lambda i: -probs[i])[:5]
        return {"classes": classes, "predictions": [{"file": "request body", "probabilities": probs,
                                                     "top": [{"class": classes[i], "index": i, "probability": probs[i]} for i in top]}]}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: with Nagle's algorithm on, the body waits for the
        # client's delayed ACK (about 40 ms on Linux) on every keep-alive request.
        disable_nagle_algorithm = True

        def reply(self, status, body):
            data = (json.dumps(body) + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.reply(200 if self.path == "/healthz" else 404, {"status": "ok"} if self.path == "/healthz" else {"error": "not found"})

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                self.reply(200, classify(body))
            except Exception as e:  # a bad image is the client's problem, not the server's
                self.reply(400, {"error": str(e)})

        def log_message(self, *args):
            pass

    # A listen backlog for 64 clients connecting at once (the class default is 5).
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", file=sys.stderr, flush=True)
    server.serve_forever()


main()

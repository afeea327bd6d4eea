"""seed-cnn as src/models/seed-cnn.ts builds it, with its module names (so tlcv's safetensors load as
they are), for the PyTorch peers: bench.py and serve_peer.py."""
from collections import OrderedDict

import torch
import torch.nn as nn


class SeedCnn(nn.Module):
    """src/models/seed-cnn.ts: four 3x3 convs, three 2x2 poolings, a two-layer classifier."""

    def __init__(self, c, h, w, num_classes, hidden=512, dropout=0.5):
        super().__init__()
        conv = lambda i, o: nn.Conv2d(i, o, 3, padding=1)
        self.features = nn.Sequential(conv(c, 64), nn.ReLU(), nn.MaxPool2d(2), conv(64, 128), nn.ReLU(), nn.MaxPool2d(2),
                                      conv(128, 256), nn.ReLU(), conv(256, 256), nn.ReLU(), nn.MaxPool2d(2))
        flat = 256 * (h // 2 // 2 // 2) * (w // 2 // 2 // 2)
        self.classifier = nn.Sequential(OrderedDict(fc1=nn.Linear(flat, hidden), relu1=nn.ReLU(), dropout1=nn.Dropout(dropout),
                                                    fc2=nn.Linear(hidden, num_classes)))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))

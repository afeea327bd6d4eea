"""A .pth written by torch.save whose unpickling runs os.system("touch MARKER"), as a
malicious model download would. tlcv must refuse it without running it.
Usage: evil_pth.py OUT_FILE MARKER_PATH"""
import os
import sys

import torch


class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


if __name__ == "__main__":
    out, marker = sys.argv[1], sys.argv[2]
    torch.save({"features.0.weight": torch.ones(64, 1, 3, 3), "payload": Evil(marker)}, out)

"""Loads a file with torch.load, as an unsuspecting user would (the control that shows a
fixture's payload is live). Usage: pth_load.py OUT_DIR FILE"""
import sys

import torch

import tlcv_peer

torch.load(sys.argv[2])
tlcv_peer.save(tlcv_peer.out_dir(), {}, {"loaded": True})

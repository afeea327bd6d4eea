"""DistributedSampler parity: for each case, every rank's indices from PyTorch's own
torch.utils.data.DistributedSampler without shuffling (its padding, drop_last and sharding),
and its len(). Usage: dist_sampler.py OUT_DIR CASES_JSON"""
import json
import sys

from torch.utils.data import DistributedSampler

import tlcv_peer


def main():
    cases = json.loads(sys.argv[2])
    results = []
    for c in cases:
        ranks = []
        for rank in range(c["world"]):
            s = DistributedSampler(range(c["n"]), num_replicas=c["world"], rank=rank, shuffle=False, drop_last=c["dropLast"])
            ranks.append({"length": len(s), "indices": list(iter(s))})
        results.append(ranks)
    tlcv_peer.save(tlcv_peer.out_dir(), {}, {"results": results})


main()

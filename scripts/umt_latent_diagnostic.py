#!/usr/bin/env python
"""How much a UMT checkpoint's decoders use their latent (the table in docs/models/umt.md).

    python scripts/umt_latent_diagnostic.py [CHECKPOINT] [--seconds 1.0] [--threads 2]

For 1-second segments of validation pieces 0-1 rendered in each of the checkpoint's domains
(never trained on), prints each decoder's teacher-forced cross entropy (nats per sample) with
the segment's own latent, with the latent of the same piece played by another domain, with its
own latent time-reversed (other music) and with zeros. A decoder that follows its latent loses
much more with the wrong music than with the right one.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np


def main(argv: list[str] | None = None) -> int:
    import torch
    import torch.nn.functional as F

    from musebench.models.translation.umt import CHECKPOINT
    from musebench.models.translation.umt_networks import UMT, UMTConfig
    from musebench.training.umt import UMTTrainConfig
    from musebench.training.umt.data import validation_segments

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", nargs="?", default="benchmark/data/checkpoints/umt-tiny")
    p.add_argument("--seconds", type=float, default=1.0, help="segment length (default 1.0)")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    arrays, config, _ = CHECKPOINT.load(args.checkpoint)
    cfg = UMTConfig.from_dict(config["network"])
    net = UMT(cfg)
    net.load_state_dict({k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in arrays.items()})
    net.eval()
    x_np, labels = validation_segments(UMTTrainConfig(domains=cfg.domains, segment_seconds=args.seconds),
                                       cfg.sample_rate)
    x = torch.from_numpy(x_np)
    n = len(labels) // len(cfg.domains)  # segments per domain, the same pieces in every domain
    print(f"{args.checkpoint}: {', '.join(cfg.domains)}; {n} segments of {args.seconds} s per domain")
    print(f"{'latent':<28}" + "".join(f"{d:>9}" for d in cfg.domains) + f"{'mean':>9}")
    with torch.no_grad():
        z = net.encoder(x)
        variants = {"its own": z, "same piece, other domain": z[torch.roll(torch.arange(len(z)), n)],
                    "its own, time-reversed": z.flip(2), "zeros": torch.zeros_like(z)}
        for name, latent in variants.items():
            ce = []
            for j in range(len(cfg.domains)):
                rows = torch.from_numpy(labels == j)
                ce.append(float(F.cross_entropy(net.decoders[j](x[rows], latent[rows]), x[rows])))
            print(f"{name:<28}" + "".join(f"{v:9.3f}" for v in ce) + f"{np.mean(ce):9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

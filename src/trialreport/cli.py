"""Command line: ``trialreport make-reference-data [DIR] [--trial TRIAL]`` regenerates a
shipped synthetic dataset (default: the reference trial, fasoracetam_nfc1)."""

from __future__ import annotations

import argparse
from pathlib import Path

from trialreport import synthetic, synthetic_saga

GENERATORS = {
    "fasoracetam_nfc1": (synthetic.write_reference_dataset, synthetic.SEED),
    synthetic_saga.TRIAL: (synthetic_saga.write_saga_dataset, synthetic_saga.SEED),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trialreport", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("make-reference-data",
                          help="write a shipped synthetic dataset (four CSVs)")
    make.add_argument("outdir", nargs="?", type=Path,
                      help="folder to write (default: data/<trial>)")
    make.add_argument("--trial", choices=sorted(GENERATORS), default="fasoracetam_nfc1",
                      help="which trial's dataset (default: fasoracetam_nfc1)")
    make.add_argument("--seed", type=int, help="the generator's seed (default: the "
                      "trial's own, with which the shipped files were made)")
    args = parser.parse_args(argv)
    if args.command == "make-reference-data":
        write, seed = GENERATORS[args.trial]
        outdir = args.outdir or Path("data") / args.trial
        for path in write(outdir, seed if args.seed is None else args.seed):
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

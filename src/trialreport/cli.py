"""Command line: ``trialreport make-reference-data [DIR]`` regenerates the synthetic data."""

from __future__ import annotations

import argparse
from pathlib import Path

from trialreport.synthetic import SEED, write_reference_dataset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trialreport", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("make-reference-data",
                          help="write the synthetic NFC-1 reference dataset (four CSVs)")
    make.add_argument("outdir", nargs="?", default="data/fasoracetam_nfc1", type=Path)
    make.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if args.command == "make-reference-data":
        for path in write_reference_dataset(args.outdir, args.seed):
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Command line: ``trialreport make-reference-data [DIR] [--trial TRIAL]`` regenerates a
shipped synthetic dataset (default: the reference trial, fasoracetam_nfc1);
``trialreport make-scaled-trial N DIR`` writes a large synthetic trial and its config;
``trialreport reference [--write README.md | --check README.md]`` generates the README's
reference of ``analyses.models`` and of the ``ard.csv`` vocabulary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trialreport.synthetic import nfc1 as synthetic
from trialreport.synthetic import saga as synthetic_saga

GENERATORS = {
    "fasoracetam_nfc1": (synthetic.write_reference_dataset, synthetic.SEED),
    synthetic_saga.TRIAL: (synthetic_saga.write_saga_dataset, synthetic_saga.SEED),
}


def _subject_count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"the number of subjects must be a whole number, not {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"the number of subjects must be at least 1, not {n}")
    return n


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
    scaled = sub.add_parser(
        "make-scaled-trial",
        help="write a large synthetic trial (four CSVs) and DIR/config.yaml to run it",
        description="Write N subjects in the reference trial's design into DIR, and "
                    "DIR/config.yaml; run it from the repository root with: snakemake "
                    "--cores all --replace-workflow-config --configfile DIR/config.yaml")
    scaled.add_argument("subjects", type=_subject_count, metavar="N",
                        help="number of subjects (10^5 gives 1.1 x 10^6 score rows)")
    scaled.add_argument("outdir", type=Path, metavar="DIR")
    scaled.add_argument("--seed", type=int, default=synthetic.SEED)
    scaled.add_argument("--reference-config", type=Path, default=Path("config.yaml"),
                        help="the workflow's config.yaml, whose fasoracetam_nfc1 entry gives "
                             "the design and analyses (default: ./config.yaml)")
    ref = sub.add_parser(
        "reference",
        help="print the reference of analyses.models and of the ard.csv vocabulary",
        description="Generate, from the code, the reference of analyses.models and of every "
                    "analysis, method, group, parameter and statistic name of ard.csv (the "
                    "shipped trials are analysed to list them); run from the repository "
                    "root")
    what = ref.add_mutually_exclusive_group()
    what.add_argument("--write", type=Path, metavar="README",
                      help="replace the text between the file's reference markers")
    what.add_argument("--check", type=Path, metavar="README",
                      help="exit 1 if the file's reference is not the generated one")
    ref.add_argument("--root", type=Path, default=Path("."),
                     help="the repository (config.yaml, schemas/, data/); default: .")
    args = parser.parse_args(argv)
    if args.command == "reference":
        return _reference(args)
    if args.command == "make-reference-data":
        write, seed = GENERATORS[args.trial]
        outdir = args.outdir or Path("data") / args.trial
        for path in write(outdir, seed if args.seed is None else args.seed):
            print(path)
    elif args.command == "make-scaled-trial":
        from trialreport.synthetic.scaled import ScaledTrialError, write_scaled_trial

        if not args.reference_config.is_file():
            print(f"trialreport make-scaled-trial: the reference config "
                  f"{args.reference_config} does not exist; run from the repository root "
                  "or give --reference-config PATH", file=sys.stderr)
            return 2
        try:
            written = write_scaled_trial(args.subjects, args.outdir, args.reference_config,
                                         args.seed)
        except (ScaledTrialError, OSError, KeyError) as exc:
            print(f"trialreport make-scaled-trial: {exc}", file=sys.stderr)
            return 2
        for path in written:
            print(path)
    return 0


def _reference(args: argparse.Namespace) -> int:
    from trialreport.reference import ReferenceError, reference_text, replace_section

    if not (args.root / "config.yaml").is_file():
        print(f"trialreport reference: {args.root / 'config.yaml'} does not exist; run from "
              "the repository root or give --root", file=sys.stderr)
        return 2
    text = reference_text(args.root)
    target = args.write or args.check
    if target is None:
        print(text)
        return 0
    try:
        current = target.read_text(encoding="utf-8")
        updated = replace_section(current, text)
    except (OSError, ReferenceError) as exc:
        print(f"trialreport reference: {target}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if updated != current:
            print(f"trialreport reference: {target} is stale; run trialreport reference "
                  f"--write {target}", file=sys.stderr)
            return 1
        return 0
    if updated != current:
        target.write_text(updated, encoding="utf-8")
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

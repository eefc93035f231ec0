#!/usr/bin/env bash
# Run the reference trial twice in one fresh copy of the repository, first locally
# (`snakemake --cores 2`) and then on SLURM (`snakemake --profile profiles/slurm`), and
# compare every file the two runs wrote under results/ byte for byte (logs included).
#
#   uv sync --frozen --group slurm
#   profiles/slurm/one-node-cluster.sh          # or any SLURM cluster this machine submits to
#   uv run --frozen --group slurm profiles/slurm/compare-with-local.sh [WORKDIR]
#
# WORKDIR (default: a new temporary folder, kept) receives the copy, the two results trees
# (results.local/, results.slurm/), both runs' output (local.log, slurm.log) and
# comparison.txt: one line per file, `same`, `differs`, `only-local` or `only-slurm`.
# Exits 0 only when both runs succeed, every job but the local rule `all` went through
# sbatch, and the two trees hold the same files with the same bytes.
#
#   profiles/slurm/compare-with-local.sh --compare LOCAL_DIR SLURM_DIR OUT
# compares two existing trees only (what the last step does), writing OUT as above.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORKDIR=${1:-$(mktemp -d -t trialreport-slurm-XXXXXX)}
SNAKEMAKE=${SNAKEMAKE:-snakemake}
# How soon the executor first asks squeue about a job; the plugin's default (40 s) suits
# a busy cluster, a short trial on one node needs less.
FIRST_CHECK=${SLURM_FIRST_STATUS_CHECK:-5}

say() { printf 'compare-with-local: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

digests() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum); }

# compare_trees LOCAL SLURM OUT: one line per file of either tree into OUT; fails unless
# both trees hold the same files (at least one) with the same bytes.
compare_trees() {
    local a=$1 b=$2 out=$3 total same
    join -j 2 -a 1 -a 2 -e MISSING -o 0,1.1,2.1 \
            <(digests "$a" | sort -k 2) <(digests "$b" | sort -k 2) \
        | awk '{ s = ($2 == $3) ? "same" : ($2 == "MISSING") ? "only-slurm" \
                     : ($3 == "MISSING") ? "only-local" : "differs";
                 sub(/^\.\//, "", $1); print s, $1 }' >"$out"
    total=$(wc -l <"$out")
    same=$(grep -c '^same ' "$out" || true)
    say "$same of $total files byte-identical (list: $out)"
    if [[ $total -eq 0 || $same -ne $total ]]; then
        grep -v '^same ' "$out" >&2 || true
        return 1
    fi
}

if [[ ${1:-} == --compare ]]; then
    [[ $# -eq 4 ]] || die "usage: $0 --compare LOCAL_DIR SLURM_DIR OUT"
    compare_trees "$2" "$3" "$4"
    exit
fi

command -v "$SNAKEMAKE" >/dev/null || die "no $SNAKEMAKE on PATH: run through 'uv run --frozen --group slurm'"
command -v sbatch >/dev/null || die "no sbatch on PATH: start profiles/slurm/one-node-cluster.sh or run on a cluster"
sinfo -h >/dev/null 2>&1 || die "sinfo cannot reach a SLURM controller: start profiles/slurm/one-node-cluster.sh"
"$SNAKEMAKE" --help 2>/dev/null | grep -q -- --slurm-status-command \
    || die "the SLURM executor plugin is not installed: uv sync --frozen --group slurm"

mkdir -p "$WORKDIR" && WORKDIR=$(cd "$WORKDIR" && pwd)  # absolute: later steps cd into the copy
REPO="$WORKDIR/repo"
[[ -e $REPO ]] && die "$REPO exists already; give an empty or new WORKDIR"
mkdir -p "$REPO"
# What a user clones and the workflow reads; results/ and .snakemake/ are left behind.
for name in Snakefile config.yaml pyproject.toml; do cp "$ROOT/$name" "$REPO/"; done
for name in workflow schemas reports data profiles; do
    cp -r "$ROOT/$name" "$REPO/"
done
find "$REPO" \( -name __pycache__ -o -name '*_files' -o -name '.quarto' \) -prune -exec rm -rf {} +
find "$REPO/reports" -name '*.html' -delete

cd "$REPO"
say "local run in $REPO"
if ! "$SNAKEMAKE" --cores 2 >"$WORKDIR/local.log" 2>&1; then
    tail -n 40 "$WORKDIR/local.log" >&2
    die "the local run failed; see $WORKDIR/local.log"
fi
mv results "$WORKDIR/results.local"
rm -rf .snakemake

say "SLURM run in $REPO (profiles/slurm)"
if ! "$SNAKEMAKE" --profile profiles/slurm \
        --slurm-init-seconds-before-status-checks "$FIRST_CHECK" >"$WORKDIR/slurm.log" 2>&1; then
    tail -n 40 "$WORKDIR/slurm.log" >&2
    die "the SLURM run failed; see $WORKDIR/slurm.log and $REPO/.snakemake/slurm_logs"
fi
mv results "$WORKDIR/results.slurm"

# Every job but the local rule `all` must have gone through sbatch.
jobs=$(grep -c '^rule ' "$WORKDIR/slurm.log" || true)
submitted=$(grep -c 'has been submitted with SLURM jobid' "$WORKDIR/slurm.log" || true)
say "SLURM run: $submitted of $jobs jobs submitted with sbatch"
[[ $jobs -gt 0 && $submitted -eq $jobs ]] \
    || die "not every job went through SLURM ($submitted of $jobs); see $WORKDIR/slurm.log"

cd "$WORKDIR"
compare_trees results.local results.slurm comparison.txt \
    || die "the SLURM run's results differ from the local run's"
say "the SLURM run matches the local run"

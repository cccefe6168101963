#!/usr/bin/env bash
# Peak memory of `fuseprune sample` for 10,000 and for 1,000,000 rows (target: the ratio <= 1.5).
#
#   bench/sample_memory.sh [MODEL_DIR] [FORMAT] [-- extra sample options, e.g. --jobs 2]
#
# MODEL_DIR defaults to runs/default/teacher (made by `make run`), FORMAT to parquet (or csv).
# Peak resident memory is GNU time's "Maximum resident set size": the largest of the processes (with --jobs N,
# the parent or a worker, each of which holds its own copy of the model, the same for both row counts).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-runs/default/teacher}
FORMAT=${2:-parquet}
shift $(( $# > 2 ? 2 : $# ))
[ "${1:-}" = "--" ] && shift
FUSEPRUNE=${FUSEPRUNE:-.venv/bin/fuseprune}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

peak_kb() {  # rows -> peak RSS in kB
  /usr/bin/time -v "$FUSEPRUNE" sample "$MODEL" --rows "$1" --out "$OUT/rows-$1.$FORMAT" "${@:2}" \
    2> "$OUT/time-$1.txt" > /dev/null || { cat "$OUT/time-$1.txt" >&2; exit 1; }
  awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/time-$1.txt"
}

small=$(peak_kb 10000 "$@")
large=$(peak_kb 1000000 "$@")
seconds=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$OUT/time-1000000.txt")
rows=$(wc -l < "$OUT/rows-1000000.$FORMAT" 2>/dev/null || echo "?")
echo "model: $MODEL   format: $FORMAT   options: ${*:-none}"
echo "peak RSS, 10,000 rows:    $((small / 1024)) MiB ($small kB)"
echo "peak RSS, 1,000,000 rows: $((large / 1024)) MiB ($large kB)   (wall time $seconds)"
awk -v a="$small" -v b="$large" 'BEGIN { r = b / a; printf "ratio: %.3f (target <= 1.5): %s\n", r, (r <= 1.5 ? "met" : "MISSED") }'
[ "$FORMAT" = csv ] && echo "lines in the 1,000,000-row CSV (with header): $rows"
exit 0

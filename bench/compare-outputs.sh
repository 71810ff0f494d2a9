#!/usr/bin/env bash
# Byte-compares what two layerscope binaries print: every capture in captures/ and
# ../shared/captures (if present), 17 views/formats each, plus any extra captures given
# (e.g. the bench subsets). Every performance change in BENCHMARKS.md was checked with it:
# it must print "0 differ".
#
# Usage: bench/compare-outputs.sh NEW_BIN BASE_BIN [EXTRA_CAPTURE...]
set -uo pipefail
cd "$(dirname "$0")/.."
NEW=$1; BASE=$2; shift 2
fail=0; n=0
same() { # args... → compares both binaries' output (stdout + stderr) for `read ARGS`
  n=$((n + 1))
  a=$("$BASE" read "$@" --color never 2>&1 | md5sum)
  b=$("$NEW" read "$@" --color never 2>&1 | md5sum)
  if [ "$a" != "$b" ]; then echo "DIFF: $*"; fail=$((fail + 1)); fi
}
for f in captures/*.pcap ../shared/captures/*.pcap*; do
  [ -f "$f" ] || continue
  for args in "" "--format json" "--view conns --format json" "--view http --format json" \
    "--view dns --format json" "--view tls --format json" "--view http" "--view conns" \
    "--view packets" "--view dns" "--width 200" "--width 100" "--view http --teach" "--teach" \
    "--view dns --teach"; do
    # shellcheck disable=SC2086
    same "$f" $args
  done
done
for f in "$@"; do
  for args in "--view conns --format json" "--view http" "--format json"; do
    # shellcheck disable=SC2086
    same "$f" $args
  done
done
echo "compared $n outputs, $fail differ"
[ "$fail" = 0 ]

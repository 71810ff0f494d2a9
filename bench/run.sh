#!/usr/bin/env bash
# Times layerscope against tshark, tcpdump, tcptrace and the floors (a pcap walk; a walk +
# etherparse + 4-tuple hash map, with our record reader and, as issue #7 defines it, with
# pcap-parser's) on the benchmark captures made by
# bench/make-captures.sh; layerscope with 2 threads (the default) and with --threads 1. Every command runs under
# /usr/bin/time -v (wall time + peak RSS), output to /dev/null, the tools alternating
# round by round; the summary prints medians, spread (min–max), packets/s, ratios and
# peak RSS, then memory flatness on the first quarter, half and whole of S.
#
# Usage: bench/run.sh            (env: BENCH_DIR=/tmp/layerscope-bench RUNS=3
#                                  CAPTURES="K S" TOOLS="walk flows flowspp par conns conns1 http http1 packets tshark tcpdump tcptrace"
#                                  FLAT=1 to measure flatness
#                                  BASELINE=path/to/older/layerscope adds conns0 and http0: the
#                                  older binary in the same rounds, so a change is judged
#                                  against it under the same machine noise)
# par: two hash-map floors at once (bench/two-at-once.sh), the two-core check: about 1.0x one
# floor when the machine gives two free cores, 2.0x when it gives one (some VM hosts do, for
# minutes at a time; two-thread runs are then slower than one-thread ones).
# Wall time is taken with bash's $EPOCHREALTIME around /usr/bin/time (µs, not its 10 ms).
# Build first: cargo build --release --bin layerscope --example pcap_walk
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-/tmp/layerscope-bench}
RUNS=${RUNS:-3}
CAPTURES=${CAPTURES:-"K S"}
TOOLS_SET=${TOOLS:-}
TOOLS=${TOOLS:-"walk flows flowspp par conns conns1 http http1 packets tshark tcpdump tcptrace"}
FLAT=${FLAT:-1}
# SETTLE=1: before timing, drop each capture from the page cache and read it back once, so
# every run starts from the same warm cache whatever wrote the file (on Linux 6.16+ ext4 the
# read-back caches it in 2 MiB folios, cheaper to copy than the 4 KiB pages tcpdump's writes
# leave). SETTLE=0 times the cache as it is.
SETTLE=${SETTLE:-1}
LS=${LAYERSCOPE:-./target/release/layerscope}
BASELINE=${BASELINE:-}
if [ -n "$BASELINE" ] && [ "${TOOLS_SET:-}" = "" ]; then TOOLS="$TOOLS conns0 http0"; fi
WALK=${WALK:-./target/release/examples/pcap_walk}
RESULTS=${RESULTS:-"$BENCH_DIR/results.tsv"}
[ -x /usr/bin/time ] || { echo "install GNU time: apt-get install -y time" >&2; exit 1; }
for f in $CAPTURES; do [ -f "$BENCH_DIR/$f.pcap" ] || { echo "missing $BENCH_DIR/$f.pcap (run bench/make-captures.sh)" >&2; exit 1; }; done

cmd_of() { # tool, file → the command line
  case "$1" in
  walk)     echo "$WALK $2" ;;
  flows)    echo "$WALK --flows $2" ;;
  flowspp)  echo "$WALK --flows --pcap-parser $2" ;;
  par)      echo "bench/two-at-once.sh $WALK --flows $2" ;;
  conns)    echo "$LS read $2 --view conns --format json" ;;
  conns1)   echo "$LS read $2 --view conns --format json --threads 1" ;;
  http)     echo "$LS read $2 --view http" ;;
  http1)    echo "$LS read $2 --view http --threads 1" ;;
  conns0)   echo "$BASELINE read $2 --view conns --format json" ;;
  http0)    echo "$BASELINE read $2 --view http" ;;
  packets)  echo "$LS read $2 --view packets" ;;
  tshark)   echo "tshark -q -z conv,tcp -r $2" ;;
  tcpdump)  echo "tcpdump -nn -r $2" ;;
  tcptrace) echo "tcptrace -n $2" ;;
  esac
}

measure() { # capture-label, tool, run, file → one line in $RESULTS
  local tv="$BENCH_DIR/time.out"
  local t0 t1 wall rss
  t0=$EPOCHREALTIME
  /usr/bin/time -v -o "$tv" $(cmd_of "$2" "$4") > /dev/null 2> /dev/null || true
  t1=$EPOCHREALTIME
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tv")
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$wall" "$rss" >> "$RESULTS"
  printf '  %-4s %-9s run %s: %6.3f s %8s KB\n' "$1" "$2" "$3" "$wall" "$rss"
}

settle() { # file → dropped from the page cache, then read back once
  [ "$SETTLE" = 1 ] || return 0
  dd if="$1" iflag=nocache count=0 status=none 2>/dev/null || true
  cat "$1" > /dev/null
}

: > "$RESULTS"
: > "$BENCH_DIR/packets.tsv"
for f in $CAPTURES; do
  printf '%s\t%s\n' "$f" "$(capinfos -c -M "$BENCH_DIR/$f.pcap" | awk -F': *' '/Number of packets/ {print $2}')" >> "$BENCH_DIR/packets.tsv"
  settle "$BENCH_DIR/$f.pcap"
  for r in $(seq 1 "$RUNS"); do
    for t in $TOOLS; do measure "$f" "$t" "$r" "$BENCH_DIR/$f.pcap"; done
  done
done

if [ "$FLAT" = 1 ] && [ -f "$BENCH_DIR/S.pcap" ]; then
  total=$(capinfos -c -M "$BENCH_DIR/S.pcap" | awk -F': *' '/Number of packets/ {print $2}')
  for n in 4 2; do
    out="$BENCH_DIR/S-1of$n.pcap"
    [ -f "$out" ] || editcap -r "$BENCH_DIR/S.pcap" "$out" "1-$((total / n))"
  done
  for part in S-1of4 S-1of2 S; do
    settle "$BENCH_DIR/$part.pcap"
    for t in conns http packets; do measure "$part" "$t" flat "$BENCH_DIR/$part.pcap"; done
  done
fi

python3 - "$RESULTS" "$BENCH_DIR/packets.tsv" <<'PY'
import sys, statistics, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
pk = dict(l.split() for l in open(sys.argv[2]) if l.strip())
t = collections.defaultdict(list); m = collections.defaultdict(int)
for cap, tool, run, wall, rss in rows:
    if run != "flat": t[(cap, tool)].append(float(wall))
    m[(cap, tool)] = max(m[(cap, tool)], int(rss))
def med(c, x): return statistics.median(t[(c, x)]) if t.get((c, x)) else None
for cap in sorted({c for c, _ in t}):
    n = int(pk[cap]); print(f"\n{cap}: {n} packets")
    print(f"  {'tool':9} {'median s':>9} {'min–max':>13} {'Mpkt/s':>7} {'peak RSS MB':>11}  ratios")
    for tool in [x for c, x in t if c == cap]:
        md = med(cap, tool); v = t[(cap, tool)]
        ratios = []
        if tool in ("conns", "http", "conns1", "http1"):
            for o in ("tshark", "tcptrace"):
                if med(cap, o): ratios.append(f"{med(cap, o)/md:.1f}x faster than {o}")
            if med(cap, "flows"): ratios.append(f"{md/med(cap, 'flows'):.2f}x the hash-map floor")
            if med(cap, "flowspp"): ratios.append(f"{md/med(cap, 'flowspp'):.2f}x it with pcap-parser")
        if tool in ("conns", "http") and med(cap, tool + "1"):
            ratios.append(f"{med(cap, tool + '1')/md:.2f}x from 1 to 2 threads")
        if tool in ("conns", "http") and med(cap, tool + "0"):
            ratios.append(f"{med(cap, tool + '0')/md:.2f}x faster than BASELINE")
        if tool == "packets" and med(cap, "tcpdump"):
            ratios.append(f"{med(cap, 'tcpdump')/md:.1f}x faster than tcpdump -nn")
        if tool == "par" and med(cap, "flows"):
            per_run = [p / f for p, f in zip(t[(cap, "par")], t[(cap, "flows")])]
            ratios.append(f"{md/med(cap, 'flows'):.2f}x one floor (1.0: two free cores, 2.0: one); "
                          "per round " + " ".join(f"{r:.2f}" for r in per_run))
        if tool not in ("walk", "flows", "flowspp", "par") and med(cap, "walk"):
            ratios.append(f"{md/med(cap, 'walk'):.1f}x the floor")
        print(f"  {tool:9} {md:9.3f} {min(v):6.3f}–{max(v):<6.3f} {n/md/1e6:7.2f} {m[(cap, tool)]/1024:11.1f}  " + "; ".join(ratios))
flat = [(c, x) for c, x in m if c.startswith("S-") or (c == "S" and any(r[0].startswith("S-") for r in rows))]
if any(c.startswith("S-") for c, _ in m):
    print("\npeak RSS MB on S: first quarter / half / whole")
    for tool in ("conns", "http", "packets"):
        vals = [m.get((c, tool)) for c in ("S-1of4", "S-1of2", "S")]
        if all(vals): print(f"  {tool:9} " + " / ".join(f"{v/1024:.1f}" for v in vals))
PY

# Shared by record.sh and record-tls.sh (sourced, not run). The caller sets `me` (its name,
# for messages) and `tools` (what it needs) before sourcing; this sets `out` (from $1 or the
# captures/ folder), `tmp`, `pids`, the cleanup trap, and the helpers below.

if [[ $(id -u) -ne 0 ]]; then
  echo "$me: needs root (tcpdump must open lo/any); run it with sudo" >&2
  exit 1
fi
for tool in $tools; do
  command -v "$tool" >/dev/null || { echo "$me: $tool not found" >&2; exit 1; }
done

out=${1:-$(cd "$(dirname "$0")" && pwd)}
mkdir -p "$out"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# wait_listen PROTO PORT (PROTO t or u): poll the socket table (never connect: that would be
# traffic).
wait_listen() {
  local flag=$1 port=$2 i
  for i in $(seq 1 50); do
    if ss -Hln"$flag" "sport = :$port" | grep -q .; then return 0; fi
    sleep 0.1
  done
  echo "$me: nothing listening on $flag port $port after 5 s" >&2
  exit 1
}

# assert_free PROTO PORT (PROTO t or u): nothing may listen there before we start our server.
assert_free() {
  if ss -Hln"$1" "sport = :$2" | grep -q .; then
    echo "$me: $1 port $2 is already in use:" >&2
    ss -Hlnp"$1" "sport = :$2" >&2
    exit 1
  fi
}

# start_server NAME CMD...: runs a server in the background, remembers its pid.
start_server() {
  local name=$1; shift
  "$@" >"$tmp/$name.log" 2>&1 </dev/null &
  server_pid=$!
  pids+=("$server_pid")
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
}

# capture_start FILE IFACE FILTER [tcpdump options...]: starts tcpdump, waits until it listens.
# -B 32768: in immediate mode libpcap uses one ring slot per packet of snaplen (-s 0 = 256 KiB),
# so the default 2 MiB ring holds only ~8 packets and a burst on "any" gets dropped.
capture_start() {
  local file=$1 iface=$2 filter=$3 i; shift 3
  rm -f "$file"
  capture_file=$file
  tcpdump_log="$tmp/$(basename "$file").tcpdump.log"
  : >"$tcpdump_log"
  tcpdump -i "$iface" "$@" -w "$file" -U -s 0 -B 32768 -n --immediate-mode "$filter" 2>"$tcpdump_log" &
  tcpdump_pid=$!
  pids+=("$tcpdump_pid")
  for i in $(seq 1 50); do
    if grep -q 'listening on' "$tcpdump_log"; then sleep 0.3; return 0; fi
    sleep 0.1
  done
  echo "$me: tcpdump did not start:" >&2
  cat "$tcpdump_log" >&2
  exit 1
}

# capture_stop: lets the last segments (FIN/ACK) arrive, then SIGINT. Without
# --immediate-mode, TPACKET_V3 holds packets in a block for up to 1 s and tcpdump exits on
# SIGINT without draining it (the file would come out empty), hence both guards.
capture_stop() {
  sleep 1.5
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" || true
  chown --reference="$out" "$capture_file"
  grep -E 'captured|received|dropped' "$tcpdump_log" | sed 's/^/    /' >&2
  if grep -qE '^0 packets captured' "$tcpdump_log"; then
    echo "$me: $capture_file is empty" >&2
    exit 1
  fi
  if grep -qE '^[1-9][0-9]* packets? dropped by kernel' "$tcpdump_log"; then
    echo "$me: kernel dropped packets, re-run" >&2
    exit 1
  fi
}

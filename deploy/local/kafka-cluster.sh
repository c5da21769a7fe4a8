#!/usr/bin/env bash
# A real three-node Kafka cluster (KRaft, node ids 1-3, each broker+controller, one quorum) on 127.0.0.1
# for fault tests: replication factor 3, min.insync.replicas=2. Jars from kafka.sh's cache (fetched once).
# Usage: kafka-cluster.sh start|stop|status [--base-port P] [--dir DIR]
#        kafka-cluster.sh stop-node N | start-node N [--base-port P] [--dir DIR]     (N = 1..3)
# Brokers listen on P, P+1, P+2 and controllers on P+10..P+12 (default P=19092). start prints KAFKA_BROKERS=…
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cmd="${1:-}"; shift || true
node_arg=""
case "$cmd" in stop-node|start-node) node_arg="${1:-}"; shift || true ;; esac
BASE=19092
DIR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --base-port) BASE="$2"; shift 2 ;;
    --dir) DIR="$2"; shift 2 ;;
    *) echo "kafka-cluster.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
case "$BASE" in ''|*[!0-9]*) echo "kafka-cluster.sh: --base-port must be a number" >&2; exit 2 ;; esac
DIR="${DIR:-${YUJING_KAFKA_CACHE:-$HOME/.cache/yujing-kafka}/cluster-$BASE}"
log() { echo "kafka-cluster.sh: $*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A port can be free for connect() yet not for bind() (the local end of an outgoing connection holds it):
# try the bind itself, so a clash is named here instead of in a node's stack trace.
port_bindable() { node -e 'const s=require("net").createServer();s.once("error",()=>process.exit(1));s.listen({port:+process.argv[1],host:"127.0.0.1",exclusive:true},()=>s.close())' "$1" 2>/dev/null; }
bport() { echo $((BASE + $1 - 1)); }
cport() { echo $((BASE + 9 + $1)); }
BROKERS="127.0.0.1:$(bport 1),127.0.0.1:$(bport 2),127.0.0.1:$(bport 3)"
VOTERS="1@127.0.0.1:$(cport 1),2@127.0.0.1:$(cport 2),3@127.0.0.1:$(cport 3)"

LIBS="$(bash "$HERE/kafka.sh" fetch)"
command -v java >/dev/null || { log "java is missing (kafka.sh start installs it)"; exit 1; }

ndir() { echo "$DIR/node-$1"; }
pid_of() {
  local f; f="$(ndir "$1")/kafka.pid"
  [ -f "$f" ] || return 1
  local pid; pid="$(cat "$f" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q 'kafka.Kafka' "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

write_config() {
  local n="$1" d; d="$(ndir "$1")"
  mkdir -p "$d/data"
  cat >"$d/server.properties" <<EOF
# Written by deploy/local/kafka-cluster.sh: node $n of a 3-node KRaft cluster for fault tests.
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$VOTERS
listeners=PLAINTEXT://127.0.0.1:$(bport "$n"),CONTROLLER://127.0.0.1:$(cport "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(bport "$n")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$d/data
num.partitions=6
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
unclean.leader.election.enable=false
replica.lag.time.max.ms=10000
log.retention.hours=24
log.segment.bytes=67108864
EOF
  cat >"$d/log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

format_all() {
  [ -f "$(ndir 1)/data/meta.properties" ] && return 0
  local cid; cid="$(bash "$HERE/kafka.sh" cluster-id)"
  log "formatting 3 nodes in $DIR (cluster $cid)"
  for n in 1 2 3; do
    write_config "$n"
    java -Dlog4j.configuration="file:$(ndir "$n")/log4j.properties" -cp "$LIBS/*" kafka.tools.StorageTool format \
      -t "$cid" -c "$(ndir "$n")/server.properties" >"$(ndir "$n")/format.log" 2>&1 || { cat "$(ndir "$n")/format.log" >&2; exit 1; }
  done
}

start_node() {
  local n="$1" d pid; d="$(ndir "$1")"
  if pid="$(pid_of "$n")"; then return 0; fi
  local p; for p in "$(bport "$n")" "$(cport "$n")"; do
    port_bindable "$p" || { log "port $p (node $n) is taken by something else: choose another --base-port"; exit 1; }
  done
  write_config "$n"
  setsid nohup java -Xms128m -Xmx384m -XX:+UseG1GC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$d/log4j.properties" -cp "$LIBS/*" kafka.Kafka "$d/server.properties" >>"$d/kafka.log" 2>&1 </dev/null &
  echo $! >"$d/kafka.pid"
}

wait_ready() {
  local deadline=$((SECONDS + ${YUJING_KAFKA_START_TIMEOUT:-120}))
  for n in "$@"; do
    until port_open "$(bport "$n")"; do
      pid_of "$n" >/dev/null || { tail -30 "$(ndir "$n")/kafka.log" >&2; log "node $n exited during start"; exit 1; }
      [ $SECONDS -lt $deadline ] || { log "node $n did not open its port in time"; exit 1; }
      sleep 0.2
    done
  done
  until (cd "$ROOT" && node "$HERE/kafka/list-topics.mjs" "$BROKERS" >/dev/null 2>&1); do
    [ $SECONDS -lt $deadline ] || { log "cluster did not answer a metadata request in time"; exit 1; }
    sleep 0.3
  done
}

stop_node() {
  local n="$1" pid
  if ! pid="$(pid_of "$n")"; then rm -f "$(ndir "$n")/kafka.pid"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then log "node $n ($pid) did not stop in 30 s; killing"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.3; fi
  rm -f "$(ndir "$n")/kafka.pid"
  log "node $n stopped"
}

check_node() { case "$1" in 1|2|3) ;; *) echo "kafka-cluster.sh: node must be 1, 2 or 3" >&2; exit 2 ;; esac; }

case "$cmd" in
  start)
    format_all
    for n in 1 2 3; do start_node "$n"; done
    wait_ready 1 2 3
    echo "KAFKA_BROKERS=$BROKERS"
    ;;
  stop)
    # In parallel: a controller quorum that loses its majority makes the last node wait for it.
    for n in 1 2 3; do stop_node "$n" & done
    wait
    ;;
  stop-node) check_node "$node_arg"; stop_node "$node_arg" ;;
  start-node) check_node "$node_arg"; start_node "$node_arg"; wait_ready "$node_arg" ;;
  status)
    for n in 1 2 3; do if pid="$(pid_of "$n")"; then echo "node $n running pid=$pid port=$(bport "$n")"; else echo "node $n stopped port=$(bport "$n")"; fi; done
    ;;
  destroy) for n in 1 2 3; do stop_node "$n" & done; wait; rm -rf "$DIR" ;;
  *) echo "usage: kafka-cluster.sh start|stop|status|destroy|stop-node N|start-node N [--base-port P] [--dir DIR]" >&2; exit 2 ;;
esac

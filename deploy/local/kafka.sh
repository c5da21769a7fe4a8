#!/usr/bin/env bash
# Runs a real single-node Kafka (KRaft, broker+controller) on 127.0.0.1 without Docker: the broker jars
# come once from Maven Central (deploy/local/kafka/pom.xml) into a cache; start/stop/status are idempotent.
# Usage: kafka.sh start|stop|status [--port 9092] [--dir DIR]   (start prints KAFKA_BROKERS=127.0.0.1:PORT)
#        kafka.sh fetch   (only fetch the jars into the cache; prints their directory)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
KAFKA_VERSION="${YUJING_KAFKA_VERSION:-3.9.1}"
CACHE="${YUJING_KAFKA_CACHE:-$HOME/.cache/yujing-kafka}"
LIBS="$CACHE/libs-$KAFKA_VERSION"

cmd="${1:-}"; shift || true
PORT="${KAFKA_PORT:-9092}"
DIR=""
CPORT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT="$2"; shift 2 ;;
    --port=*) PORT="${1#*=}"; shift ;;
    --dir) DIR="$2"; shift 2 ;;
    --dir=*) DIR="${1#*=}"; shift ;;
    --controller-port) CPORT="$2"; shift 2 ;;
    *) echo "kafka.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
case "$PORT" in ''|*[!0-9]*) echo "kafka.sh: --port must be a number, got '$PORT'" >&2; exit 2 ;; esac
CPORT="${CPORT:-$((PORT + 1))}"
DIR="${DIR:-$CACHE/node-$PORT}"
PIDFILE="$DIR/kafka.pid"
LOG="$DIR/kafka.log"
BROKERS="127.0.0.1:$PORT"

log() { echo "kafka.sh: $*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
running_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid; pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q 'kafka.Kafka' "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

ensure_java() {
  if ! command -v java >/dev/null; then
    log "installing Java 17 (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  fi
}

ensure_libs() {
  [ -f "$LIBS/.complete" ] && return 0
  ensure_java
  if ! command -v mvn >/dev/null; then
    log "installing Maven (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven >/dev/null
  fi
  log "fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION from Maven Central (once) into $LIBS"
  local tmp="$LIBS.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  local repo_opt=()
  [ -n "${YUJING_KAFKA_M2:-}" ] && repo_opt=("-Dmaven.repo.local=$YUJING_KAFKA_M2")
  if ! mvn -q -B -f "$HERE/kafka/pom.xml" "${repo_opt[@]}" -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DoutputDirectory="$tmp" -DincludeScope=runtime >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2; rm -rf "$tmp" "$tmp.log"; log "maven fetch failed"; exit 1
  fi
  rm -f "$tmp.log"
  touch "$tmp/.complete"
  rm -rf "$LIBS"; mv "$tmp" "$LIBS"
}

write_config() {
  mkdir -p "$DIR/data"
  cat >"$DIR/server.properties" <<EOF
# Written by deploy/local/kafka.sh: single-node KRaft broker+controller for local runs and tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DIR/data
num.partitions=6
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
log.retention.hours=24
log.segment.bytes=67108864
EOF
  cat >"$DIR/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
EOF
}

# A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (what StorageTool random-uuid
# prints), never starting with '-' (StorageTool would read it as an option; Kafka's own ids never do).
cluster_id() {
  local cid
  cid="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  while [ "${cid:0:1}" = "-" ]; do cid="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"; done
  echo "$cid"
}

format_once() {
  [ -f "$DIR/data/meta.properties" ] && return 0
  local cid; cid="$(cluster_id)"
  log "formatting storage in $DIR/data (cluster $cid)"
  java -Dlog4j.configuration="file:$DIR/log4j.properties" -cp "$LIBS/*" kafka.tools.StorageTool format \
    -t "$cid" -c "$DIR/server.properties" >"$DIR/format.log" 2>&1 || { cat "$DIR/format.log" >&2; exit 1; }
}

# A client that lists topics: kafkajs from the project's node_modules, else kcat.
client_ready() {
  if [ -d "$ROOT/node_modules/kafkajs" ] && command -v node >/dev/null; then
    (cd "$ROOT" && node "$HERE/kafka/list-topics.mjs" "$BROKERS" >/dev/null 2>&1)
  elif command -v kcat >/dev/null; then
    kcat -b "$BROKERS" -L -m 3 >/dev/null 2>&1
  else
    port_open "$PORT"
  fi
}

do_start() {
  local pid
  if pid="$(running_pid)"; then
    if client_ready; then echo "KAFKA_BROKERS=$BROKERS"; return 0; fi
  elif port_open "$PORT"; then
    if client_ready; then log "a Kafka not started by this script already answers on $BROKERS"; echo "KAFKA_BROKERS=$BROKERS"; return 0; fi
    log "port $PORT is in use by something that is not a Kafka broker"; exit 1
  fi
  if [ -z "${pid:-}" ]; then
    ensure_libs
    ensure_java
    write_config
    format_once
    log "starting broker on $BROKERS (log $LOG)"
    # setsid: the broker outlives this shell and its process group.
    setsid nohup java -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
      -Dlog4j.configuration="file:$DIR/log4j.properties" \
      -cp "$LIBS/*" kafka.Kafka "$DIR/server.properties" >>"$LOG" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$PIDFILE"
  fi
  local deadline=$((SECONDS + ${YUJING_KAFKA_START_TIMEOUT:-90}))
  until port_open "$PORT"; do
    kill -0 "$pid" 2>/dev/null || { tail -40 "$LOG" >&2; log "broker exited during start"; exit 1; }
    [ $SECONDS -lt $deadline ] || { tail -40 "$LOG" >&2; log "port $PORT did not open in time"; exit 1; }
    sleep 0.2
  done
  until client_ready; do
    kill -0 "$pid" 2>/dev/null || { tail -40 "$LOG" >&2; log "broker exited during start"; exit 1; }
    [ $SECONDS -lt $deadline ] || { tail -40 "$LOG" >&2; log "broker did not answer a metadata request in time"; exit 1; }
    sleep 0.3
  done
  echo "KAFKA_BROKERS=$BROKERS"
}

do_stop() {
  local pid
  if ! pid="$(running_pid)"; then rm -f "$PIDFILE"; log "not running (port $PORT)"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then log "broker $pid did not stop in 30 s; killing"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; fi
  rm -f "$PIDFILE"
  log "stopped (pid $pid)"
}

do_status() {
  local pid
  if pid="$(running_pid)"; then
    if client_ready; then echo "running pid=$pid KAFKA_BROKERS=$BROKERS"; return 0; fi
    echo "starting-or-unhealthy pid=$pid port=$PORT"; return 1
  fi
  echo "stopped port=$PORT dir=$DIR"; return 3
}

case "$cmd" in
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  fetch) ensure_libs; echo "$LIBS" ;; # only fetch the jars (used by kafka-cluster.sh)
  cluster-id) cluster_id ;; # a fresh KRaft cluster id (used by kafka-cluster.sh)
  *) echo "usage: kafka.sh start|stop|status|fetch|cluster-id [--port 9092] [--dir DIR] [--controller-port P]" >&2; exit 2 ;;
esac

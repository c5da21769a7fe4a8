#!/usr/bin/env bash
# Local VictoriaMetrics: a real server for the InfluxDB adapter's write path (it accepts InfluxDB line
# protocol on /api/v2/write and exports what it stored on /api/v1/export). Idempotent.
#   victoria-metrics.sh start [--port P] [--dir D]   install if missing, start if not answering, wait for /health
#   victoria-metrics.sh stop  [--port P] [--dir D]   stop the instance started here (by its pid file)
# Prints INFLUX_URL=http://127.0.0.1:<port> when it is up.
set -euo pipefail

cmd="${1:-start}"; shift || true
port=8428
dir="${TMPDIR:-/tmp}/yujing-victoria-metrics"
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
url="http://127.0.0.1:${port}"
pidfile="${dir}/victoria-metrics.pid"

healthy() { curl -fsS --max-time 1 "${url}/health" >/dev/null 2>&1; }

case "$cmd" in
  start)
    if healthy; then echo "INFLUX_URL=${url}"; exit 0; fi
    if ! command -v victoria-metrics >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq victoria-metrics >/dev/null
    fi
    command -v curl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null; }
    mkdir -p "${dir}/data"
    # latencyOffset=0s: freshly written points are visible to queries at once (tests read back right away);
    # a long retention so fixed test timestamps are never outside it.
    nohup victoria-metrics -httpListenAddr="127.0.0.1:${port}" -storageDataPath="${dir}/data" \
      -retentionPeriod=100y -search.latencyOffset=0s -search.disableCache \
      >"${dir}/victoria-metrics.log" 2>&1 &
    echo $! >"${pidfile}"
    for _ in $(seq 1 100); do healthy && break; sleep 0.1; done
    if ! healthy; then echo "victoria-metrics did not become healthy on ${url}; see ${dir}/victoria-metrics.log" >&2; exit 1; fi
    echo "INFLUX_URL=${url}"
    ;;
  stop)
    if [ -f "${pidfile}" ]; then
      pid="$(cat "${pidfile}")"
      if kill -0 "${pid}" 2>/dev/null; then kill "${pid}"; for _ in $(seq 1 50); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.1; done; fi
      rm -f "${pidfile}"
    fi
    ;;
  *) echo "usage: $0 start|stop [--port P] [--dir D]" >&2; exit 2 ;;
esac

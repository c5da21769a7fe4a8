#!/usr/bin/env bash
# Starts the local services the integration tests use, if they are not already running:
# Mosquitto on 127.0.0.1:1883, PostgreSQL on 127.0.0.1:5432, and Chromium for browser tests. Idempotent.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 1883; then
  if ! command -v mosquitto >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto mosquitto-clients >/dev/null
  fi
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
  for _ in $(seq 1 50); do port_open 1883 && break; sleep 0.1; done
fi
port_open 1883 && echo "mosquitto: up on 127.0.0.1:1883"

# Debian's Chromium and a CJK font, for the dashboard's browser tests (never a downloaded browser).
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi 'wenquanyi\|noto sans cjk'; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
fi
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -1)"

# PostgreSQL on 127.0.0.1:5432 (trust auth, database `test`), for the PostgreSQL store tests.
if ! port_open 5432; then
  if ! ls /etc/postgresql >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 100); do port_open 5432 && break; sleep 0.1; done
fi
port_open 5432 && echo "postgresql: up on 127.0.0.1:5432"

#!/usr/bin/env bash
# Starts or stops a distribution registry (Debian's docker-registry) on 127.0.0.1 for the tests.
#   test/setup/registry.sh start DIR [PORT] [HTPASSWD]   storage, config and PID file under DIR
#   test/setup/registry.sh stop DIR
# With HTPASSWD (a bcrypt htpasswd file) the registry requires Basic authentication.
set -euo pipefail
cmd=${1:?usage: registry.sh start|stop DIR [PORT] [HTPASSWD]}
dir=${2:?usage: registry.sh start|stop DIR [PORT] [HTPASSWD]}
port=${3:-5000}
htpasswd=${4:-}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

case "$cmd" in
start)
  if [ -f "$dir/registry.pid" ] && kill -0 "$(cat "$dir/registry.pid")" 2>/dev/null; then exit 0; fi
  command -v docker-registry >/dev/null || { echo "registry.sh: docker-registry is not installed: run test/setup/install-packages.sh as root" >&2; exit 1; }
  mkdir -p "$dir/storage"
  {
    echo "version: 0.1"
    echo "log: {level: error, accesslog: {disabled: true}}"
    echo "storage: {filesystem: {rootdirectory: $dir/storage}, delete: {enabled: true}}"
    echo "http: {addr: 127.0.0.1:$port}"
    if [ -n "$htpasswd" ]; then echo "auth: {htpasswd: {realm: kiln-test, path: $htpasswd}}"; fi
  } >"$dir/config.yml"
  docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  echo $! >"$dir/registry.pid"
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/v2/"; then exit 0; fi
    kill -0 "$(cat "$dir/registry.pid")" 2>/dev/null || { cat "$dir/registry.log" >&2; exit 1; }
    sleep 0.05
  done
  echo "registry.sh: the registry did not answer on 127.0.0.1:$port" >&2
  exit 1
  ;;
stop)
  if [ -f "$dir/registry.pid" ]; then
    pid=$(cat "$dir/registry.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/registry.pid"
  fi
  ;;
*)
  echo "usage: registry.sh start|stop DIR [PORT] [HTPASSWD]" >&2
  exit 2
  ;;
esac

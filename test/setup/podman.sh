#!/usr/bin/env bash
# Starts or stops podman's Docker-compatible API service for the tests, configured as
# ../shared/TESTBED.md says for this machine kind: runc (crun fails on its cgroup layout),
# cgroupfs, ulimits under the 20000 open-files hard limit, the file events logger, and storage
# private to DIR.
#   test/setup/podman.sh start DIR [INSECURE_REGISTRY…]   socket: DIR/podman.sock
#   test/setup/podman.sh stop DIR                          stops the service and any conmon it left
#   test/setup/podman.sh env DIR                           prints the environment podman commands need
set -euo pipefail
cmd=${1:?usage: podman.sh start|stop|env DIR}
dir=${2:?usage: podman.sh start|stop|env DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
shift 2

envs() {
  echo "CONTAINERS_CONF=$dir/containers.conf"
  echo "CONTAINERS_REGISTRIES_CONF=$dir/registries.conf"
  echo "CONTAINERS_STORAGE_CONF=$dir/storage.conf"
}

case "$cmd" in
env)
  envs
  ;;
start)
  if [ -f "$dir/podman.pid" ] && kill -0 "$(cat "$dir/podman.pid")" 2>/dev/null; then exit 0; fi
  command -v podman >/dev/null && command -v runc >/dev/null || { echo "podman.sh: podman and runc are not installed: run test/setup/install-packages.sh as root" >&2; exit 1; }
  cat >"$dir/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$dir/events.log"
tmp_dir = "$dir/tmp"
CONF
  {
    echo 'unqualified-search-registries = []'
    # Only the registries named: the tests' registries listen on free ports, none fixed.
    for r in "$@"; do
      printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$r"
    done
  } >"$dir/registries.conf"
  cat >"$dir/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$dir/root"
runroot = "$dir/run"
CONF
  mkdir -p "$dir/tmp"
  export $(envs)
  podman --root "$dir/root" --runroot "$dir/run" --storage-driver=overlay system service --time=0 "unix://$dir/podman.sock" >"$dir/podman.log" 2>&1 &
  echo $! >"$dir/podman.pid"
  for _ in $(seq 1 200); do
    if curl -s --unix-socket "$dir/podman.sock" http://d/_ping >/dev/null 2>&1; then exit 0; fi
    kill -0 "$(cat "$dir/podman.pid")" 2>/dev/null || { cat "$dir/podman.log" >&2; exit 1; }
    sleep 0.05
  done
  echo "podman.sh: the service did not answer on $dir/podman.sock" >&2
  exit 1
  ;;
stop)
  # Containers first (a container's conmon outlives the service otherwise), then the service.
  if [ -d "$dir/root" ]; then
    export $(envs)
    podman --root "$dir/root" --runroot "$dir/run" --storage-driver=overlay rm -af -t 0 >/dev/null 2>&1 || true
  fi
  if [ -f "$dir/podman.pid" ]; then
    pid=$(cat "$dir/podman.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/podman.pid"
  fi
  # conmon outlives `exec` + `rm -f` at times: stop those of this storage only, by PID.
  strays=()
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null)" = conmon ] || continue
    if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q -- "$dir/"; then strays+=("${p#/proc/}"); fi
  done
  if [ ${#strays[@]} -gt 0 ]; then
    kill "${strays[@]}" 2>/dev/null || true
    sleep 0.2
    kill -9 "${strays[@]}" 2>/dev/null || true
  fi
  # The storage's overlay mounts, deepest first, so that DIR can be removed.
  grep -o " $dir/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  ;;
*)
  echo "usage: podman.sh start|stop|env DIR" >&2
  exit 2
  ;;
esac

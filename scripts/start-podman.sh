#!/usr/bin/env bash
# Make sure Podman's Docker-compatible API answers on its root socket (/run/podman/podman.sock, where debugbox looks
# for it; Docker's socket is another file): use the service that is there, or start `podman system service` with
# tests/fixtures/podman/containers.conf (the settings these machines need). Exit 1 if no service can be had.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export CONTAINERS_CONF="$root/tests/fixtures/podman/containers.conf"
sock=/run/podman/podman.sock
answers() { podman --remote --url "unix://$sock" version >/dev/null 2>&1; }
if ! command -v podman >/dev/null 2>&1; then echo "start-podman: podman is not installed" >&2; exit 1; fi
if [ -S "$sock" ] && answers; then exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "start-podman: need root to serve $sock" >&2; exit 1; fi
logdir=${DEBUGBOX_LOG_DIR:-/tmp/debugbox-logs}
mkdir -p "$logdir" "$(dirname "$sock")"
rm -f "$sock"  # a socket file left by a service that is gone
setsid podman system service --time=0 "unix://$sock" >"$logdir/podman.log" 2>&1 < /dev/null &
for _ in $(seq 1 150); do
  if [ -S "$sock" ] && answers; then
    echo "start-podman: podman system service started (log: $logdir/podman.log)"
    exit 0
  fi
  sleep 0.2
done
echo "start-podman: podman system service did not answer within 30 s; see $logdir/podman.log" >&2
exit 1

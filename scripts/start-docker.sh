#!/usr/bin/env bash
# Make sure a Docker engine answers: use the one that is there, or start dockerd (vfs storage, no iptables: the
# settings that work on the project's machines). Prints where its log goes. Exit 1 if no engine can be had.
set -uo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null 2>&1; then echo "start-docker: dockerd is not installed" >&2; exit 1; fi
logdir=${DEBUGBOX_LOG_DIR:-/tmp/debugbox-logs}
mkdir -p "$logdir"
setsid dockerd --iptables=false --storage-driver=vfs >"$logdir/dockerd.log" 2>&1 < /dev/null &
for _ in $(seq 1 150); do
  if [ -S /var/run/docker.sock ] && docker info >/dev/null 2>&1; then
    echo "start-docker: dockerd started (log: $logdir/dockerd.log)"
    exit 0
  fi
  sleep 0.2
done
echo "start-docker: dockerd did not answer within 30 s; see $logdir/dockerd.log" >&2
exit 1

#!/usr/bin/env bash
# The one benchmark command: install the competitor servers from npm into benchmarks/.work/ (ignored by git),
# then measure debugbox, docker-langserver, yaml-language-server and a bare pygls server side by side and write
# benchmarks/results.md. Extra arguments go to lsp_bench.py (e.g. --runs 3, --no-corpus, --inputs dockerfile-10000).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
work="$here/.work"
mkdir -p "$work"
[ -x "$root/.venv/bin/python" ] || bash "$root/scripts/setup-python.sh"
# Pinned versions live in benchmarks/package.json; yaml-language-server 2.x needs Node >= 22, 1.25 runs on Node 20.
cp "$here/package.json" "$work/package.json"
if [ ! -x "$work/node_modules/.bin/docker-langserver" ] || [ ! -x "$work/node_modules/.bin/yaml-language-server" ] \
  || [ "$here/package.json" -nt "$work/node_modules" ]; then
  (cd "$work" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >/dev/null)
  touch "$work/node_modules"
fi
cd "$root"
exec "$root/.venv/bin/python" "$here/lsp_bench.py" --markdown "$here/results.md" "$@"

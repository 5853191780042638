#!/usr/bin/env bash
# Build the VS Code extension package in one command:
#   1. the server and its Python dependencies into vscode-extension/bundled/libs (pip install --target),
#   2. the TypeScript client bundled by esbuild into vscode-extension/dist/extension.js,
#   3. vsce package -> vscode-extension/debugbox-<version>.vsix (or the path given as $1).
# Needs scripts/setup-extension.sh (run here when its results are missing) and a Python >= 3.11 with pip
# ($PYTHON, default .venv/bin/python, else python3). Prints the .vsix path on its last line.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ext="$root/vscode-extension"
e2e="$root/.e2e"

if [ ! -x "$e2e/tools/node_modules/.bin/vsce" ] || [ ! -d "$ext/node_modules/vscode-languageclient" ]; then
  bash "$root/scripts/setup-extension.sh"
fi
export PATH="$e2e/node24/node_modules/node/bin:$PATH"

py=${PYTHON:-}
if [ -z "$py" ]; then
  if [ -x "$root/.venv/bin/python" ]; then py="$root/.venv/bin/python"; else py=python3; fi
fi

version=$(cd "$ext" && node -p 'require("./package.json").version')
out=${1:-$ext/debugbox-$version.vsix}

start=$SECONDS
libs="$ext/bundled/libs"
rm -rf "$ext/bundled"
mkdir -p "$libs"
# Only the runtime dependencies from pyproject.toml (pygls, lsprotocol, attrs, cattrs, PyYAML...), not the optional
# SDK extras: the server imports those lazily. --no-compile: .pyc files are written by the user's interpreter.
"$py" -m pip install --quiet --disable-pip-version-check --no-compile --target "$libs" "$root" \
  2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
rm -rf "$libs/bin"
find "$libs" -name __pycache__ -type d -prune -exec rm -rf {} +
# Record what is not pure Python, so the README's claim can be checked against the real bundle.
(cd "$libs" && find . -name '*.so' -o -name '*.pyd' | sort) >"$ext/bundled/native-files.txt"
echo "build-vsix: bundled libs $((SECONDS - start))s ($(du -sh "$libs" | cut -f1); native files: $(wc -l <"$ext/bundled/native-files.txt"))"

start=$SECONDS
(cd "$ext" && node esbuild.mjs --production)
echo "build-vsix: esbuild $((SECONDS - start))s"

start=$SECONDS
license_flag=()
[ -f "$ext/LICENSE" ] || [ -f "$ext/LICENSE.md" ] || [ -f "$ext/LICENSE.txt" ] || license_flag=(--skip-license)
# --no-dependencies: the client is bundled by esbuild, node_modules stays out. </dev/null: vsce never waits.
(cd "$ext" && "$e2e/tools/node_modules/.bin/vsce" package --no-dependencies --allow-missing-repository \
  "${license_flag[@]}" --out "$out" </dev/null >"$e2e/vsce.log" 2>&1) || {
  cat "$e2e/vsce.log" >&2
  exit 1
}
echo "build-vsix: vsce package $((SECONDS - start))s ($(du -h "$out" | cut -f1))"
echo "$out"

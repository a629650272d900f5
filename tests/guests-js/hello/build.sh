#!/usr/bin/env bash
# Build the JS hello guest into a WASI 0.2 component.
# Usage: build.sh [OUT.wasm]   (default: hello.wasm beside this script)
set -euo pipefail

# Resolve the output path against the caller's directory before moving.
out="${1:-}"
if [[ -n "$out" && "$out" != /* ]]; then
  out="$PWD/$out"
fi

cd "$(dirname "${BASH_SOURCE[0]}")"
out="${out:-$PWD/hello.wasm}"

# npm keeps node_modules/.package-lock.json in step with what it installed;
# reinstall only when it is missing or older than the committed lockfile.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

# wit/deps: the WASI 0.2.12 packages that wasi:http/proxy pulls in, taken
# from the WIT snapshot shipped inside the pinned jco package.
wasi_wit=node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12
rm -rf wit/deps
for pkg in cli clocks filesystem http io random sockets; do
  src="$wasi_wit/wasi-$pkg/package.wit"
  [[ -f "$src" ]] || { echo "build.sh: missing $src (jco layout changed?)" >&2; exit 1; }
  mkdir -p "wit/deps/$pkg"
  cp "$src" "wit/deps/$pkg/package.wit"
done

mkdir -p "$(dirname "$out")"
node_modules/.bin/componentize-js hello.js --wit wit --world-name hello -o "$out"
echo "built $out ($(wc -c <"$out") bytes)"

#!/bin/sh
# Rebuild the workbench page into arrears/service/static/ (committed, so that
# `pip install .` needs no Node). Needs Node 18+ and npm; run from anywhere:
#   web/build.sh        (or: cd web && npm run build)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../arrears/service/static"
cd "$here"
[ -d node_modules ] || npm ci --no-audit --no-fund
mkdir -p "$out"
./node_modules/.bin/esbuild src/main.js --bundle --minify --format=iife --target=es2020 \
  --legal-comments=none --outfile="$out/workbench.js"
cp src/index.html src/workbench.css src/favicon.svg "$out/"
echo "built $(wc -c < "$out/workbench.js") bytes into arrears/service/static/"

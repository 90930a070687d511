#!/bin/sh
# Copies the pinned xterm.js and its fit addon (package-lock.json) into data/assets/vendor, where
# the server's GResource takes them from: the build itself needs no npm. Run after changing
# package.json, then commit the copies.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
vendor=../data/assets/vendor
cp node_modules/@xterm/xterm/lib/xterm.js node_modules/@xterm/xterm/css/xterm.css \
   node_modules/@xterm/addon-fit/lib/addon-fit.js "$vendor"/
cp node_modules/@xterm/xterm/LICENSE "$vendor"/LICENSE.xterm
# The source maps are not shipped.
sed -i '/sourceMappingURL/d' "$vendor"/xterm.js "$vendor"/addon-fit.js

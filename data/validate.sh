#!/bin/sh
# validate.sh TOOL PACKAGE ARGS...: runs the validator TOOL found on PATH when the test runs
# (not when meson configures), so that installing it later needs no reconfigure. A missing tool
# skips the test (77) and says which Debian package brings it.
tool=$1 package=$2
shift 2
if ! command -v "$tool" >/dev/null 2>&1; then
  echo "$tool is not installed: apt-get install $package" >&2
  exit 77
fi
exec "$tool" "$@"

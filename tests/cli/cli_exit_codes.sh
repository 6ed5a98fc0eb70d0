#!/usr/bin/env bash
# End-to-end exit codes of the real binary: 0 ok, 1 runtime error, 2 usage error.
set -u
bin="$1"
fail=0
expect() {
  local want="$1"; shift
  "$bin" "$@" >/dev/null 2>&1
  local got=$?
  if [ "$got" != "$want" ]; then echo "FAIL: tilesim $* -> exit $got, want $want"; fail=1; else echo "ok: tilesim $* -> $got"; fi
}
expect 0 --help
expect 0 gpus
expect 0 gpus show h100 --json
expect 2
expect 2 nosuchcommand
expect 2 gpus --nosuchflag
expect 1 gpus show nosuchgpu
tmp=$(mktemp -d)
printf '{"schema": "tilesim.profile.v1", "id": ' > "$tmp/trunc.json"
expect 1 gpus show "$tmp/trunc.json"
rm -rf "$tmp"
exit $fail

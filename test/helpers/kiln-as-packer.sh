#!/usr/bin/env bash
# Stands in for `packer` in test/fixtures/differential/run-packer.sh: the same command line,
# run by kiln (with its state kept out of the user's home).
here="$(cd "$(dirname "$0")/../.." && pwd)"
export KILN_STATE_DIR="${KILN_STATE_DIR:-$(mktemp -d)}"
exec node "$here/dist/bin/main.js" "$@"

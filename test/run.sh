#!/usr/bin/env bash
# The whole test suite, as the README and CI run it: installs the real components the tests use
# (as root; see test/setup/), runs vitest, and ends with a plain "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
  bash test/setup/install-packages.sh || { echo "0 passed, 1 failed"; exit 1; }
  # The bootable Debian VM the qemu builder's e2e test boots (cached in ~/.cache/kiln-test-vm).
  bash test/setup/vm-image.sh || { echo "0 passed, 1 failed"; exit 1; }
  bash test/setup/ami-image.sh || { echo "0 passed, 1 failed"; exit 1; }
fi

# The e2e tests run the built CLI (the bundle `npx kiln` runs): build it from the current sources
# first (≈ 2 s), showing the compiler's output only when it fails.
if ! out="$(npm run build --silent 2>&1)"; then
  echo "$out"
  echo "0 passed, 1 failed"
  exit 1
fi

report="$(mktemp -d)/vitest.json"
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
if [ -s "$report" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0) + r.testResults.filter((s) => s.status === "failed" && s.assertionResults.length === 0).length;
    console.log(`${r.numPassedTests} passed, ${failed} failed`);
  ' "$report"
else
  echo "0 passed, 1 failed"
  [ $status -eq 0 ] && status=1
fi
rm -rf "$(dirname "$report")"
exit $status

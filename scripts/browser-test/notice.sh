#!/usr/bin/env bash
# Says loudly when `make test` could not run the browser tests. It checks the
# same prerequisites as tools() in indexer/admin/browsertest/browsertest.go,
# which skips those tests when one is missing (and fails them when CI=true).
# Always exits 0: it only informs.
set -uo pipefail
cd "$(dirname "$0")/../.."

missing=()
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  missing+=("chromium (or chromium-browser) on PATH")
fi
if ! command -v node >/dev/null 2>&1; then
  missing+=("node (>= 20) on PATH")
fi
if [ ! -f scripts/browser-test/node_modules/playwright-core/package.json ]; then
  missing+=("scripts/browser-test/node_modules/playwright-core (npm ci)")
fi
[ ${#missing[@]} -eq 0 ] && exit 0

# The tests that drive the browser: every caller of browsertest.Run.
mapfile -t tests < <(grep -rl --include='*_test.go' 'browsertest\.Run(' . 2>/dev/null |
  xargs -r awk 'FNR == 1 { name = "" } /^func Test/ { name = $2; sub(/\(.*/, "", name) } /browsertest\.Run\(/ && name != "" { print name }' |
  sort -u)
[ ${#tests[@]} -eq 0 ] && tests=("(no caller of browsertest.Run found)")

cat <<NOTICE

################################################################################
NOTICE: the browser tests were SKIPPED, not passed.
  Skipped:
$(printf '    %s\n' "${tests[@]}")
  Missing:
$(printf '    %s\n' "${missing[@]}")
  To run them (Debian/Ubuntu, as root), then run make test again:
    apt-get install -y chromium && npm ci --prefix scripts/browser-test
  In CI (CI=true) these tests fail instead of skipping.
################################################################################

NOTICE
exit 0

#!/usr/bin/env bash
# Make Debian's Chromium available for the dashboard's browser tests (Playwright drives it through
# executable_path; nothing downloads a browser). Idempotent: does nothing when chromium is found.
set -uo pipefail
if command -v chromium >/dev/null || [ -x /usr/bin/chromium ]; then
    exit 0
fi
exec "$(dirname "$0")/../debian/install.sh" chromium "headless browser for the dashboard tests"

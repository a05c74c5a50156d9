#!/usr/bin/env bash
# Makes sure the system programs the test suite drives are present: Debian's Chromium for the
# browser tests, PostgreSQL's server binaries for the database tests, curl for README's API
# example (tests/test_api.py) and GNU gettext for the translation test. Installs them when run
# as root on Debian; otherwise stops with the command to run.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# GNU gettext's xgettext: the translation test extracts the code's messages (tests/test_i18n.py).
command -v xgettext >/dev/null 2>&1 || missing+=(gettext)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian packages for the test suite: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian's postgresql package starts a cluster of its own; the tests start their own instead.
    exit 0
fi
echo "The test suite needs: ${missing[*]}." >&2
echo "Install with: sudo apt-get install ${missing[*]}" >&2
exit 1

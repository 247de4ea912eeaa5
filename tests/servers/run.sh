#!/bin/sh
# The real-server tests (tests/servers): lighttpd, Apache and nginx from the distribution,
# started with the shipped configurations of etc/. Run by `make check`, which exports
# AUTHORIZER, PYTHON3 and TOP_SRCDIR; by hand, the defaults are relative to this script:
#   tests/servers/run.sh [pytest options]
# Exit 77 (skipped) when pytest or all three servers are missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$here/../.." && pwd)}
AUTHORIZER=${AUTHORIZER:-$TOP_SRCDIR/authorizer}
PYTHON3=${PYTHON3:-python3}
export TOP_SRCDIR AUTHORIZER PYTHON3

if ! "$PYTHON3" -c 'import pytest' 2>/dev/null; then
    echo "tests/servers: $PYTHON3 has no pytest; skipped"
    exit 77
fi
found=
for server in lighttpd apache2 nginx; do
    if PATH="$PATH:/usr/sbin:/sbin" command -v "$server" >/dev/null 2>&1; then
        found="$found $server"
    fi
done
if [ -z "$found" ]; then
    echo "tests/servers: none of lighttpd, apache2, nginx is installed; skipped"
    exit 77
fi

# No bytecode or cache files in the source tree (it may be read-only under distcheck).
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
cd "$here"
exec "$PYTHON3" -m pytest -q -p no:cacheprovider -rfEsx "$here" "$@"

#!/bin/sh
# End-to-end tests: runs tests/e2e with pytest against the built authorizer.
# Called by `make check` with AUTHORIZER, PYTHON3 and TOP_SRCDIR set; by hand it falls back
# to python3 and to the source tree around this script.

PYTHON3=${PYTHON3:-python3}
if [ -z "$TOP_SRCDIR" ]; then
    TOP_SRCDIR=$(cd "$(dirname "$0")/../.." && pwd) || exit 99
fi
export AUTHORIZER PYTHON3 TOP_SRCDIR

if ! "$PYTHON3" -c 'import pytest' >/dev/null 2>&1; then
    echo "tests/e2e/run.sh: $PYTHON3 cannot import pytest; install python3-pytest" >&2
    exit 99
fi

# No bytecode or cache files in the source tree (it may be read-only, as in distcheck).
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE

"$PYTHON3" -m pytest -q -p no:cacheprovider "$TOP_SRCDIR/tests/e2e"
exit $?

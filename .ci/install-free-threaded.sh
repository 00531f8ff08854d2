#!/usr/bin/env bash
# Install the free-threaded CPython that ../shared/pythons/ holds into /opt, unless it is
# there already, so tox finds python3.13t (the matrix's py313t environment). Users get the
# same build from `uv python install 3.13t` or `pyenv install 3.13t`; this is for this
# machine and its CI only. Without the archive it says so and leaves py313t to be skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=/opt/cpython-3.13t
python="$prefix/bin/python3.13t"
if [ -x "$python" ]; then
    echo "free-threaded CPython present: $("$python" -VV)"
    exit 0
fi
archive=$(ls ../shared/pythons/cpython-3.13*t-linux-*.tar.xz 2>/dev/null | head -n 1 || true)
if [ -z "$archive" ]; then
    echo "no free-threaded CPython archive under ../shared/pythons/: py313t will be skipped"
    exit 0
fi
echo "installing $archive into /opt"
tar xJf "$archive" -C /opt
# the build must run and must start with the GIL disabled, or the matrix means nothing
"$python" -c 'import sys; assert not sys._is_gil_enabled(), "the GIL is enabled"; print(sys.version)'

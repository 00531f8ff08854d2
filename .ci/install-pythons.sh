#!/usr/bin/env bash
# Install the CPythons that ../shared/pythons/ holds into /opt, each unless it is there
# already, so tox finds them on PATH: the free-threaded 3.13 (py313t) and the GIL builds
# of 3.14 and 3.15 (py314, py315). Users get these from python.org, `uv python install`
# or pyenv; this is for this machine and its CI only. A missing archive is said and its
# environment left to be skipped.
#
# PYTHONDONTWRITEBYTECODE=1 is set on this machine, and the archives carry no .pyc: until
# the standard library's bytecode is compiled once, every interpreter and every
# forkserver/spawn child recompiles what it imports (start-up read 268 ms instead of
# 90 ms). So each install ends by compiling it, and an install without it is completed.
set -euo pipefail
cd "$(dirname "$0")/.."

# prefix, executable, archive pattern, the check that the build is what the matrix needs
install() {
    local prefix=$1 python=$2 pattern=$3 check=$4
    local stdlib
    if ! [ -x "$python" ]; then
        local archive
        archive=$(ls ../shared/pythons/$pattern 2>/dev/null | head -n 1 || true)
        if [ -z "$archive" ]; then
            echo "no archive ../shared/pythons/$pattern: $(basename "$python") will be skipped"
            return 0
        fi
        echo "installing $archive into /opt"
        tar xJf "$archive" -C /opt
    fi
    "$python" -c "$check"
    stdlib=$("$python" -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')
    # a marker, so a second call costs nothing; compileall skips what is compiled anyway
    if ! [ -e "$prefix/.concur-bytecode-compiled" ]; then
        echo "compiling the standard library's bytecode of $(basename "$python")"
        "$python" -m compileall -q -j0 -o 0 "$stdlib" >/dev/null
        touch "$prefix/.concur-bytecode-compiled"
    fi
    echo "present: $("$python" -VV)"
}

# the free-threaded build must start with the GIL disabled, or the matrix means nothing
install /opt/cpython-3.13t /opt/cpython-3.13t/bin/python3.13t 'cpython-3.13*t-linux-*.tar.xz' \
    'import sys; assert not sys._is_gil_enabled(), "the GIL is enabled"'
# the GIL builds must have the standard library the models use (concurrent.interpreters)
for version in 3.14 3.15; do
    install "/opt/cpython-$version" "/opt/cpython-$version/bin/python$version" \
        "cpython-$version.*[0-9]-linux-*.tar.xz" \
        'import sys, concurrent.interpreters, ssl; assert sys._is_gil_enabled()'
done

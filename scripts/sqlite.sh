#!/usr/bin/env bash
# Build a static riscv64 sqlite3 (SQLite's command-line shell) from
# Debian's `sqlite3` source package into user/build/sqlite3: a real
# application for ferrite's tests (record locks, fsync, a shared mapping
# of the WAL index, many processes on one database).
#
#   1. installs what is missing (Debian/Ubuntu as root: dpkg-dev, xz-utils,
#      make, a host gcc, and tcl, which generates the amalgamation;
#      scripts/user-deps.sh for the riscv64 cross compiler); elsewhere it
#      says what to install and exits 1;
#   2. makes apt know the source package (scripts/apt-source.sh: a deb-src
#      twin of the release's entries when none is configured);
#   3. `apt-get source sqlite3` into user/build/sqlite-src/ (kept: a
#      rebuild does not download again), the Debian version in
#      user/build/sqlite3.version;
#   4. generates the amalgamation out of tree (`configure --disable-tcl`,
#      `make sqlite3.c shell.c`) with the host's tools;
#   5. cross-compiles shell.c and sqlite3.c with CROSS_COMPILE
#      (riscv64-linux-gnu-), static, without loadable extensions (no
#      dlopen in a static binary).
#
# Quiet: one line says what it does; the build's output goes to
# user/build/sqlite3.log and is printed only when a step fails.
# Idempotent: when user/build/sqlite3 exists and was built with this
# configuration (user/build/sqlite3.stamp), it does nothing and touches no
# network. SQLITE_SRC=DIR builds from an unpacked sqlite source tree
# instead of apt-get source, for systems without apt.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
top="$(dirname "$here")"
build="$top/user/build"
out="$build/sqlite3"
cache="$build/sqlite-src"
log="$build/sqlite3.log"
stamp="$build/sqlite3.stamp"
version_file="$build/sqlite3.version"
fetched="$cache/fetched"

CROSS_COMPILE="${CROSS_COMPILE:-riscv64-linux-gnu-}"
CFLAGS_SQLITE='-O1 -static -DSQLITE_THREADSAFE=1 -DSQLITE_OMIT_LOAD_EXTENSION'

want_stamp="$(printf '%s\n' "$CROSS_COMPILE" "${SQLITE_SRC:-}" "$CFLAGS_SQLITE" |
    sha256sum | cut -d' ' -f1)"

up_to_date() {
    [ -x "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ]
}
up_to_date && exit 0

APT_WHO=sqlite
APT_LOG="$log"
# shellcheck source=scripts/apt.sh
. "$here/apt.sh"
# shellcheck source=scripts/apt-source.sh
. "$here/apt-source.sh"

mkdir -p "$build"
if have flock; then
    exec 9>"$build/sqlite3.lock"
    flock 9
    up_to_date && exit 0
fi
: >"$log"
started=$SECONDS

fail() {
    tail -n 100 "$log" >&2
    echo "sqlite: $* (the log's last 100 lines above; all of it in ${log#"$top"/})" >&2
    exit 1
}

step() {
    echo "+ $*" >>"$log"
    "$@" >>"$log" 2>&1 || fail "$* failed"
}

how_to_install() {
    cat >&2 <<'MSG'
sqlite: building sqlite3 needs Debian's sqlite3 source package (apt-get
source, from dpkg-dev), a host C compiler, make and tclsh (tcl), and the
riscv64 cross compiler of scripts/user-deps.sh:
  - Debian/Ubuntu: run this script as root (it installs what is missing
    and adds a deb-src entry), or as root yourself:
      apt-get install dpkg-dev gcc make tcl
    and add a deb-src line for your release (see `man sources.list`).
  - elsewhere: unpack SQLite's canonical source tree (sqlite.org's
    sqlite-src-*.zip, or Debian's source package) and run
      SQLITE_SRC=/path/to/sqlite make -C user sqlite
MSG
}

# 1. Tools.
if [ "$CROSS_COMPILE" = riscv64-linux-gnu- ]; then
    CC=riscv64-linux-gnu-gcc bash "$here/user-deps.sh"
elif ! have "${CROSS_COMPILE}gcc"; then
    echo "sqlite: ${CROSS_COMPILE}gcc is not installed" >&2
    exit 1
fi
missing=""
have make || missing="$missing make"
have gcc || missing="$missing gcc"
have tclsh || missing="$missing tcl"
if [ -z "${SQLITE_SRC:-}" ]; then
    have dpkg-source || missing="$missing dpkg-dev"
    have xz || missing="$missing xz-utils"
fi
if [ -n "$missing" ]; then
    if ! can_apt; then
        echo "sqlite: missing:$missing" >&2
        how_to_install
        exit 1
    fi
    # shellcheck disable=SC2086 # one word per package
    apt_install $missing
fi

have_source() {
    [ -f "$fetched" ] && compgen -G "$cache/sqlite3-*/configure" >/dev/null
}

# 2. A deb-src entry.
if [ -z "${SQLITE_SRC:-}" ] && ! have_source && ! ensure_apt_source sqlite3; then
    echo "sqlite: apt knows no sqlite3 source package (no deb-src entry, or its lists are not fetched)." >&2
    how_to_install
    exit 1
fi

# 3. The source.
if [ -n "${SQLITE_SRC:-}" ]; then
    src="$(cd "$SQLITE_SRC" && pwd)"
    if ! [ -f "$src/configure" ] || ! [ -f "$src/tool/mksqlite3c.tcl" ]; then
        fail "SQLITE_SRC=$SQLITE_SRC is not SQLite's canonical source tree"
    fi
    version="sqlite source tree $src"
else
    have_source || fetch_apt_source sqlite3 "$cache"
    version="$(cat "$fetched")"
    for f in "$cache"/sqlite3-*/configure; do src="$(dirname "$f")"; done
fi

# 4. The amalgamation, out of tree, with the host's tools.
obj="$cache/obj"
rm -rf "$obj"
mkdir -p "$obj"
echo "sqlite: building a static riscv64 sqlite3 from $version (log: ${log#"$top"/})"
(cd "$obj" && step env -u CC -u CFLAGS "$src/configure" --disable-tcl --disable-readline)
step make -C "$obj" sqlite3.c shell.c

# 5. The shell, cross-compiled.
# shellcheck disable=SC2086 # the flags are words
step "${CROSS_COMPILE}gcc" $CFLAGS_SQLITE -o "$obj/sqlite3" "$obj/shell.c" "$obj/sqlite3.c" \
    -lpthread -lm
file_out="$(file -b "$obj/sqlite3" 2>/dev/null || true)"
echo "file: $file_out" >>"$log"
case "$file_out" in
    '' | *RISC-V*statically*) ;;
    *) fail "$obj/sqlite3 is not a static RISC-V executable: $file_out" ;;
esac
cp "$obj/sqlite3" "$out.new"
mv "$out.new" "$out"
echo "$version" >"$version_file"
echo "$want_stamp" >"$stamp"
echo "sqlite: built user/build/sqlite3 from $version ($(((SECONDS - started) / 60))m$(((SECONDS - started) % 60))s)"

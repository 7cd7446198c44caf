#!/usr/bin/env bash
# Build a static riscv64 BusyBox from Debian's `busybox` source package into
# user/build/busybox: ferrite's userland (a shell, ps, top, free, ...).
#
#   1. installs what is missing (Debian/Ubuntu as root: dpkg-dev for
#      dpkg-source, a host gcc for BusyBox's kconfig; scripts/user-deps.sh
#      for the riscv64 cross compiler and qemu-user); elsewhere it says what
#      to install and exits 1;
#   2. makes sure apt knows the source packages: when no deb-src entry is
#      configured it adds one of its own, /etc/apt/sources.list.d/
#      ferrite-deb-src.{sources,list}, mirroring the distribution's own
#      `deb` entries (the machine's files are not edited), and refreshes
#      only those lists;
#   3. `apt-get source busybox` into user/build/busybox-src/ (kept: a
#      rebuild does not download again), the Debian version in
#      user/build/busybox.version;
#   4. configures out of tree: `make defconfig`, then the changes in
#      CONFIG_CHANGES below (static, the shell running applets without a
#      PATH, what does not build against a static glibc), checked after
#      `make oldconfig`;
#   5. cross-builds with CROSS_COMPILE (riscv64-linux-gnu-) and
#      BUSYBOX_JOBS (2) jobs, and copies the binary to user/build/busybox.
#
# Quiet: one line says what it does; the build's output goes to
# user/build/busybox.log and is printed only when a step fails.
# Idempotent: when user/build/busybox exists and was built with this
# configuration (user/build/busybox.stamp), it does nothing and touches
# no network. BUSYBOX_SRC=DIR builds from an unpacked (patched) busybox
# source tree instead of apt-get source, for systems without apt.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
top="$(dirname "$here")"
build="$top/user/build"
out="$build/busybox"
cache="$build/busybox-src"
log="$build/busybox.log"
stamp="$build/busybox.stamp"
version_file="$build/busybox.version"
# What apt-get source fetched into the cache (the Debian version).
fetched="$cache/fetched"

CROSS_COMPILE="${CROSS_COMPILE:-riscv64-linux-gnu-}"
jobs="${BUSYBOX_JOBS:-2}"

# Changes to `make defconfig`: NAME=y, NAME=n or NAME="string".
#
# - STATIC: ferrite and qemu-riscv64 run it without a dynamic loader.
# - SH_STANDALONE, PREFER_APPLETS: the shell runs `ls`, `ps`, ... as
#   applets (by re-executing /proc/self/exe), so it needs no /bin/ls in
#   the guest's root; SH_NOFORK runs the NOFORK applets (echo, seq, test,
#   ...) inside the shell's own process, without fork.
# - TC: tc's CBQ code needs definitions that Linux 6.8's uapi headers
#   dropped (Debian 12's 6.1 headers still have them; newer ones fail).
# - FEATURE_INETD_RPC, FEATURE_MOUNT_NFS: Sun RPC is no longer in glibc.
# - SELINUX, PAM: need libraries a static cross build does not have.
# - ASH ... TEST: what issue 9's shell session uses (ash with job control
#   and line editing, ps, top, free, pmap, ...), required so that a newer
#   defconfig cannot drop them unnoticed.
# (All but STATIC and PREFER_APPLETS are defconfig's choice already in
# 1.35; they are set here so that a newer defconfig cannot break the
# build or the shell.)
CONFIG_CHANGES='
STATIC=y
FEATURE_SH_STANDALONE=y
FEATURE_PREFER_APPLETS=y
FEATURE_SH_NOFORK=y
TC=n
FEATURE_INETD_RPC=n
FEATURE_MOUNT_NFS=n
SELINUX=n
PAM=n
ASH=y
ASH_JOB_CONTROL=y
FEATURE_EDITING=y
SEQ=y
SORT=y
HEAD=y
CAT=y
LS=y
ECHO=y
TEST=y
SLEEP=y
KILL=y
PS=y
TOP=y
FREE=y
PMAP=y
'

# Everything that decides the binary, apart from the Debian source version
# (kept in the cache until `make -C user clean`).
want_stamp="$(printf '%s\n' "$CROSS_COMPILE" "${BUSYBOX_SRC:-}" "$CONFIG_CHANGES" |
    sha256sum | cut -d' ' -f1)"

up_to_date() {
    [ -x "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ]
}
up_to_date && exit 0

APT_WHO=busybox
APT_LOG="$log"
# shellcheck source=scripts/apt.sh
. "$here/apt.sh"

# One build at a time (make test and a cargo test may both ask); whoever
# waited finds the binary built.
mkdir -p "$build"
if have flock; then
    exec 9>"$build/busybox.lock"
    flock 9
    up_to_date && exit 0
fi
: >"$log"
started=$SECONDS

fail() {
    tail -n 100 "$log" >&2
    echo "busybox: $* (the log's last 100 lines above; all of it in ${log#"$top"/})" >&2
    exit 1
}

# Run a step with its output in the log.
step() {
    echo "+ $*" >>"$log"
    "$@" >>"$log" 2>&1 || fail "$* failed"
}

how_to_install() {
    cat >&2 <<'MSG'
busybox: building BusyBox needs Debian's busybox source package (apt-get
source, from dpkg-dev), a host C compiler and make, and the riscv64 cross
compiler of scripts/user-deps.sh:
  - Debian/Ubuntu: run this script as root (it installs dpkg-dev and gcc
    and adds a deb-src entry), or as root yourself:
      apt-get install dpkg-dev gcc make
    and add a deb-src line for your release (see `man sources.list`).
  - elsewhere: unpack Debian's source package yourself
    (https://sources.debian.org/src/busybox/, or `dget` the .dsc from
    https://packages.debian.org/source/stable/busybox and
    `dpkg-source -x` it, which applies Debian's patches) and run
      BUSYBOX_SRC=/path/to/busybox-1.xx.x make -C user busybox
MSG
}

# 1. Tools.
if [ "$CROSS_COMPILE" = riscv64-linux-gnu- ]; then
    CC=riscv64-linux-gnu-gcc bash "$here/user-deps.sh"
elif ! have "${CROSS_COMPILE}gcc"; then
    echo "busybox: ${CROSS_COMPILE}gcc is not installed" >&2
    exit 1
fi
missing=""
have make || missing="$missing make"
have gcc || missing="$missing gcc"
if [ -z "${BUSYBOX_SRC:-}" ]; then
    have dpkg-source || missing="$missing dpkg-dev"
    have bzip2 || missing="$missing bzip2"
    have xz || missing="$missing xz-utils"
fi
if [ -n "$missing" ]; then
    if ! can_apt; then
        echo "busybox: missing:$missing" >&2
        how_to_install
        exit 1
    fi
    # shellcheck disable=SC2086 # one word per package
    apt_install $missing
fi

# 2. A deb-src entry (scripts/apt-source.sh).
# shellcheck source=scripts/apt-source.sh
. "$here/apt-source.sh"

have_source() {
    [ -f "$fetched" ] && compgen -G "$cache/busybox-*/Makefile" >/dev/null
}

if [ -z "${BUSYBOX_SRC:-}" ] && ! have_source && ! ensure_apt_source busybox; then
    echo "busybox: apt knows no busybox source package (no deb-src entry, or its lists are not fetched)." >&2
    how_to_install
    exit 1
fi

# 3. The source.
if [ -n "${BUSYBOX_SRC:-}" ]; then
    src="$(cd "$BUSYBOX_SRC" && pwd)"
    if ! [ -f "$src/Makefile" ] || ! [ -d "$src/shell" ]; then
        fail "BUSYBOX_SRC=$BUSYBOX_SRC is not a busybox source tree"
    fi
    version="busybox source tree $src"
else
    have_source || fetch_apt_source busybox "$cache"
    version="$(cat "$fetched")"
    for f in "$cache"/busybox-*/Makefile; do src="$(dirname "$f")"; done
fi

# 4. Configure, out of tree.
obj="$cache/obj"
rm -rf "$obj"
mkdir -p "$obj"
echo "busybox: building a static riscv64 BusyBox from $version (-j$jobs, log: ${log#"$top"/})"
mk=(make -C "$src" O="$obj" CROSS_COMPILE="$CROSS_COMPILE")
step "${mk[@]}" defconfig
config="$obj/.config"
while IFS='=' read -r name value; do
    [ -n "$name" ] || continue
    sed -i -e "/^CONFIG_$name=/d" -e "/^# CONFIG_$name is not set\$/d" "$config"
    if [ "$value" = n ]; then
        echo "# CONFIG_$name is not set" >>"$config"
    else
        echo "CONFIG_$name=$value" >>"$config"
    fi
done <<<"$CONFIG_CHANGES"
echo "+ yes '' | ${mk[*]} oldconfig" >>"$log"
# (yes dies of SIGPIPE when make is done: not a failure.)
{ yes '' || true; } | "${mk[@]}" oldconfig >>"$log" 2>&1 || fail "make oldconfig failed"
# Every change must have survived oldconfig (a symbol that does not exist
# in this version, or one whose dependencies are off, is an error here).
while IFS='=' read -r name value; do
    [ -n "$name" ] || continue
    # (Kconfig ignores a symbol it does not know, with a warning.)
    grep -rqsE "^(//config:)?[[:space:]]*(menu)?config $name\$" "$src" \
        --include='*.c' --include='*.h' --include='Config.*' --exclude-dir=.pc ||
        fail "CONFIG_$name: no such symbol in this busybox"
    if [ "$value" = n ]; then
        # Absent is fine too: off because what it depends on is off.
        if grep -q "^CONFIG_$name=" "$config"; then
            fail "CONFIG_$name is still on after oldconfig"
        fi
    elif ! grep -qx "CONFIG_$name=$value" "$config"; then
        fail "CONFIG_$name=$value did not stick (see $config)"
    fi
done <<<"$CONFIG_CHANGES"

# 5. Build.
step "${mk[@]}" -j"$jobs"
bin="$obj/busybox"
file_out="$(file -b "$bin" 2>/dev/null || true)"
echo "file: $file_out" >>"$log"
case "$file_out" in
    '' | *RISC-V*statically*) ;;
    *) fail "$bin is not a static RISC-V executable: $file_out" ;;
esac
cp "$bin" "$out.new"
mv "$out.new" "$out"
cp "$config" "$build/busybox.config"
echo "$version" >"$version_file"
echo "$want_stamp" >"$stamp"
echo "busybox: built user/build/busybox from $version ($(((SECONDS - started) / 60))m$(((SECONDS - started) % 60))s)"

#!/usr/bin/env bash
# Make sure the tools the user programs (user/) build and test with are
# installed: make, a riscv64 Linux cross compiler with static glibc
# (riscv64-linux-gnu-gcc, or $CC) and the qemu-riscv64 user-mode emulator that the
# end-to-end tests compare ferrite against.
#
# Idempotent and quiet when everything is present: it then installs nothing
# and touches no network. When something is missing it installs Debian's
# packages (make, gcc-riscv64-linux-gnu, libc6-dev-riscv64-cross, qemu-user) only
# on Debian/Ubuntu as root; anywhere else it says what to install and exits 1.
set -euo pipefail

CC="${CC:-riscv64-linux-gnu-gcc}"

APT_WHO=user-deps
# shellcheck source=scripts/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

how_to_install() {
    cat >&2 <<'MSG'
user-deps: the user programs need a riscv64 Linux cross compiler with a
static glibc, make, and qemu-riscv64 (user mode) for the comparison tests:
  - Debian/Ubuntu: apt-get install make gcc-riscv64-linux-gnu \
      libc6-dev-riscv64-cross qemu-user
  - Fedora: dnf install gcc-riscv64-linux-gnu qemu-user-static, plus a
    riscv64 glibc sysroot with static libraries (the Fedora cross gcc ships
    none; point CC at a gcc that has one, e.g. CC="riscv64-linux-gnu-gcc
    --sysroot=/path/to/sysroot")
  - elsewhere: any riscv64-linux-gnu cross gcc with a static glibc (set CC
    to it) and qemu-riscv64 from qemu's user-mode build.
MSG
}

# Can $CC link a static glibc program? (The compiler may be there without
# libc6-dev-riscv64-cross.)
cc_links_static() {
    have "${CC%% *}" || return 1
    local dir
    dir="$(mktemp -d)"
    printf '#include <stdio.h>\nint main(void){puts("x");return 0;}\n' >"$dir/t.c"
    # shellcheck disable=SC2086 # CC may carry flags, e.g. --sysroot
    if $CC -static -o "$dir/t" "$dir/t.c" >/dev/null 2>&1; then
        rm -rf "$dir"
        return 0
    fi
    rm -rf "$dir"
    return 1
}

missing=""
have make || missing="$missing make"
cc_links_static || missing="$missing gcc-riscv64-linux-gnu libc6-dev-riscv64-cross"
have qemu-riscv64 || missing="$missing qemu-user"

if [ -n "$missing" ]; then
    # apt-get can only help with Debian's own cross compiler.
    if ! can_apt || { [[ "$missing" == *gcc* ]] && [ "$CC" != riscv64-linux-gnu-gcc ]; }; then
        if [[ "$missing" == *make* ]]; then
            echo "user-deps: make is not installed." >&2
        fi
        if [[ "$missing" == *gcc* ]]; then
            echo "user-deps: $CC cannot build static riscv64 programs." >&2
        fi
        if [[ "$missing" == *qemu* ]]; then
            echo "user-deps: qemu-riscv64 is not installed." >&2
        fi
        how_to_install
        exit 1
    fi
    # shellcheck disable=SC2086 # one word per package
    apt_install $missing
    have make || { echo "user-deps: make still missing after apt-get" >&2; exit 1; }
    cc_links_static || { echo "user-deps: $CC still cannot link a static program" >&2; exit 1; }
    have qemu-riscv64 || { echo "user-deps: qemu-riscv64 still missing after apt-get" >&2; exit 1; }
fi

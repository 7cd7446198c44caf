#!/usr/bin/env bash
# Make sure the tools ferrite builds with are installed: cargo (Rust 1.85 or
# newer) with rustfmt and clippy, a C toolchain (cc) for the benchmark
# dependencies, cmake, which builds Berkeley SoftFloat (the hart's
# floating-point unit, through the softfloat-wrapper crate), and a TrueType
# font for the text of `ferrite plot` (DejaVu Sans, fonts-dejavu-core).
#
# Idempotent and quiet when everything is present: it then installs nothing
# and touches no network. When cargo is missing it installs Rust itself only
# on Debian/Ubuntu as root (apt-get for curl and build-essential, then
# rustup); anywhere else it says what to install and exits 1.
set -euo pipefail

cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$cargo_bin:$PATH"

APT_WHO=deps
# shellcheck source=scripts/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

how_to_install() {
    cat >&2 <<'MSG'
deps: ferrite needs Rust 1.85 or newer (cargo, rustfmt, clippy) and a C
compiler. Install them, then run make again:
  - Rust, from https://rustup.rs:
      curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | \
        sh -s -- -y --profile minimal --component rustfmt --component clippy
  - a C compiler, make and cmake: build-essential and cmake
    (Debian/Ubuntu), gcc, make and cmake (Fedora: dnf install gcc make
    cmake), the Xcode command line tools and cmake (macOS).
MSG
}

if ! have cargo; then
    if ! can_apt; then
        echo "deps: cargo is not installed." >&2
        how_to_install
        exit 1
    fi
    apt_install ca-certificates curl build-essential
    echo "deps: installing Rust with rustup (minimal profile, rustfmt, clippy)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
        sh -s -- -y --profile minimal --component rustfmt --component clippy
    have cargo || { echo "deps: rustup did not install cargo in $cargo_bin" >&2; exit 1; }
fi

if ! have cc; then
    if can_apt; then
        apt_install build-essential
    else
        echo "deps: no C compiler (cc) found." >&2
        how_to_install
        exit 1
    fi
fi

if ! have cmake; then
    if can_apt; then
        apt_install cmake
    else
        echo "deps: cmake is not installed." >&2
        how_to_install
        exit 1
    fi
fi

missing=""
cargo fmt --version >/dev/null 2>&1 || missing="$missing rustfmt"
cargo clippy --version >/dev/null 2>&1 || missing="$missing clippy"
if [ -n "$missing" ]; then
    if have rustup; then
        echo "deps: rustup component add$missing"
        # shellcheck disable=SC2086 # one word per component
        rustup component add $missing
    else
        echo "deps: cargo is installed but these components are missing:$missing; there is no rustup to add them." >&2
        how_to_install
        exit 1
    fi
fi

# `ferrite plot` draws its text with a system TrueType font.
fonts="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf /usr/share/fonts/dejavu/DejaVuSans.ttf /usr/share/fonts/TTF/DejaVuSans.ttf"
have_font=""
for f in $fonts; do [ -f "$f" ] && have_font=1; done
if [ -z "$have_font" ] && [ -z "${FERRITE_PLOT_FONT:-}" ]; then
    if can_apt; then
        apt_install fonts-dejavu-core
    else
        echo "deps: no DejaVu Sans font: install fonts-dejavu-core (Debian/Ubuntu), dejavu-sans-fonts (Fedora) or ttf-dejavu (Arch), or set FERRITE_PLOT_FONT to a .ttf file; ferrite plot needs one." >&2
    fi
fi

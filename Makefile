# ferrite: build, demonstrate and test.
#
#   make demo    build the release binary, run `ferrite boot` then `ferrite slabtop`
#   make test    rustfmt check, clippy (warnings are errors), every test
#   make bench   the mm benchmarks (criterion)
#   make clean   remove build output
#
# Each target first runs scripts/deps.sh, which installs the Rust toolchain
# when it is missing (Debian/Ubuntu as root) and does nothing otherwise.
# Nothing here reads stdin, so CI=true with no terminal works.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# rustup installs into $CARGO_HOME/bin (default ~/.cargo/bin): let the
# recipes find cargo even right after scripts/deps.sh installed it.
export PATH := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(PATH)

CARGO ?= cargo
FERRITE := $(CARGO) run --release --quiet -p ferrite --

.PHONY: all deps build demo test bench clean

all: demo

deps:
	@bash scripts/deps.sh

build: deps
	$(CARGO) build --release -p ferrite

demo: build
	$(FERRITE) boot
	@echo
	$(FERRITE) slabtop

# Tests use the workspace's [profile.test] (opt-level 2, debug assertions
# on) rather than --release: on 2 cores a cold build takes about as long
# (2 minutes), a rebuild after editing mm takes seconds instead of two
# minutes (release links every test with thin LTO and one codegen unit), and
# the debug assertions stay on.
test: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test --workspace

bench: deps
	$(CARGO) bench -p mm

clean:
	@if command -v $(CARGO) >/dev/null 2>&1; then $(CARGO) clean; else rm -rf target; fi

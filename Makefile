# ferrite: build, demonstrate and test.
#
#   make demo    build ferrite, the user programs and BusyBox (from Debian's
#                source package, scripts/busybox.sh); run the course notes'
#                examples under `ferrite run`, showing /proc/1/maps and
#                /proc/slabinfo as each exits; then `ferrite boot`'s kernel
#                examples
#   make wrr-demo  the SCHED_WRR lab's investigation (user/wrr/wrr_demo) on
#                4 CPUs in deterministic mode, with its scheduler trace and
#                plots in target/wrr-demo/ (about half a minute)
#   make test    rustfmt check, clippy and rustdoc (warnings are errors),
#                every test
#   make bench   the benchmarks (criterion, and ferrite against qemu-riscv64)
#   make clean   remove build output
#
# Each target first runs scripts/deps.sh (the Rust toolchain, cc, cmake) and
# scripts/user-deps.sh (Debian's riscv64 cross compiler and qemu-user), which
# install what is missing (Debian/Ubuntu as root) and do nothing otherwise.
# `user` (so test and bench) and demo also build user/build/busybox from
# Debian's busybox source package (scripts/busybox.sh): the first time it
# downloads 2.5 MB and builds for 1 to 3 minutes on 2 cores; after that it
# does nothing until its configuration changes or `make -C user clean`;
# likewise user/build/sqlite3, SQLite's shell, from Debian's sqlite3 source
# package (scripts/sqlite.sh: 14 MB, half a minute).
# Nothing here reads stdin, so CI=true with no terminal works.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# rustup installs into $CARGO_HOME/bin (default ~/.cargo/bin): let the
# recipes find cargo even right after scripts/deps.sh installed it.
export PATH := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(PATH)

CARGO ?= cargo
FERRITE := target/release/ferrite
LOGS := target/logs

# $(call quiet,WHAT,LOG,COMMAND): run a build step with its output in
# target/logs/LOG.log, printed only when the step fails.
quiet = mkdir -p $(LOGS); echo "$(1) (log: $(LOGS)/$(2).log)"; \
	$(3) >$(LOGS)/$(2).log 2>&1 || { cat $(LOGS)/$(2).log >&2; \
	echo "$(1): failed (log above)" >&2; exit 1; }

# $(call show,ARGS): print a ferrite command line, then run it.
show = printf '\n\033[1m$$ ferrite %s\033[0m\n' "$(1)"; $(FERRITE) $(1)

.PHONY: all deps user build demo wrr-demo test bench clean

all: demo

deps:
	@bash scripts/deps.sh
	@bash scripts/user-deps.sh

user: deps
	$(MAKE) -s -C user all busybox sqlite

build: deps
	@$(call quiet,building ferrite,build,$(CARGO) build --release -p ferrite)

demo: build
	@$(call quiet,building the user programs,user,$(MAKE) -C user)
	@$(call quiet,building BusyBox,busybox,$(MAKE) -C user busybox)
	@$(call show,run --show /proc/1/maps user/build/addrs)
	@$(call show,run --show /proc/1/maps --show /proc/slabinfo user/build/sizeof)
	@$(call show,boot --show /proc/buddyinfo)
	@$(call show,run user/build/procs)
	@printf '\n\033[1m$$ ferrite run user/build/busybox sh -c "seq 1 1000 | sort -rn | head -3; sleep 1 & ps -o pid,ppid,comm; wait"\033[0m\n'
	@$(FERRITE) run user/build/busybox sh -c 'seq 1 1000 | sort -rn | head -3; sleep 1 & ps -o pid,ppid,comm; wait'

# The notes' Lab 4 demonstration: weights balancing across 4 CPUs from a
# start on CPU 0, with I/O tasks, with weights changed mid-run; the same
# bytes on every run (--deterministic). Balancing every 100 ms instead of
# 500 (wrr_demo -b) so that 1.5 s phases show several steps.
WRRDEMO := target/wrr-demo
wrr-demo: build
	@$(call quiet,building the user programs,user,$(MAKE) -C user)
	@mkdir -p $(WRRDEMO)
	@$(call show,run --cpus 4 --deterministic --seed 1 --trace $(WRRDEMO)/trace.json user/build/wrr/wrr_demo -p 1500 -b 100)
	@$(call show,plot $(WRRDEMO)/trace.json -o $(WRRDEMO)/wrr.svg)
	@$(FERRITE) plot $(WRRDEMO)/trace.json -o $(WRRDEMO)/wrr.png >/dev/null
	@printf '\nThe trace opens in https://ui.perfetto.dev (docs/trace.md says what each track is);\nthe plots: $(WRRDEMO)/wrr.svg and $(WRRDEMO)/wrr.png\n'

# Tests use the workspace's [profile.test] (opt-level 2, debug assertions
# on) rather than --release: on 2 cores a cold build takes about as long
# (2 minutes), a rebuild after editing mm takes seconds instead of two
# minutes (release links every test with thin LTO and one codegen unit), and
# the debug assertions stay on.
test: deps user
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --quiet
	$(CARGO) test --workspace

bench: deps user
	$(CARGO) bench -p mm
	$(CARGO) bench -p sched
	$(CARGO) bench -p rv64
	$(CARGO) bench -p ferrite

clean:
	@if command -v $(CARGO) >/dev/null 2>&1; then $(CARGO) clean; else rm -rf target; fi

# Shared by scripts/deps.sh and scripts/user-deps.sh (sourced, not run):
# how they find tools and install Debian packages.
#
# APT_WHO names the calling script in messages.

have() { command -v "$1" >/dev/null 2>&1; }

# Debian, Ubuntu or a derivative, and we are root with apt-get.
can_apt() {
    [ "$(id -u)" = 0 ] && have apt-get && [ -r /etc/os-release ] &&
        grep -qE '^(ID|ID_LIKE)=.*(debian|ubuntu)' /etc/os-release
}

# Install Debian packages quietly: one line says what, apt's own output
# goes to a log file that is printed only if the install fails.
apt_install() {
    local log
    log="${APT_LOG:-${TMPDIR:-/tmp}/ferrite-apt.log}"
    echo "${APT_WHO:-deps}: installing $* (log: $log)"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update && apt-get install -y --no-install-recommends "$@"; } >"$log" 2>&1; then
        cat "$log" >&2
        echo "${APT_WHO:-deps}: apt-get install $* failed (log above, in $log)" >&2
        return 1
    fi
}

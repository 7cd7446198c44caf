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

apt_install() {
    echo "${APT_WHO:-deps}: apt-get install $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "$@"
}

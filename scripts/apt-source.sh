# shellcheck shell=bash
# Shared by scripts/busybox.sh and scripts/sqlite.sh (sourced after
# scripts/apt.sh, not run): make apt know a Debian source package, adding
# deb-src twins of the release's own `deb` entries when none is configured
# (the machine's own files are not edited) and refreshing only those lists.
#
# The caller defines `fail MESSAGE` (print its log, exit) and `step CMD...`
# (run CMD with its output in its log); APT_WHO names it in messages.

# Is any deb-src entry configured (enabled or not, we do not add a second)?
have_deb_src() {
    grep -qsE '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list \
        /etc/apt/sources.list.d/*.list ||
        grep -qsiE '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources
}

# Write deb-src twins of the distribution's own `deb` entries: those whose
# suite is the release's codename (bookworm, bookworm-updates,
# bookworm-security, ...) with the `main` component, so third-party
# repositories without source packages are left out. Sets $added to the
# files written.
add_deb_src() {
    local codename
    codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
    [ -n "$codename" ] || fail "no VERSION_CODENAME in /etc/os-release"
    local d=/etc/apt/sources.list.d
    # deb822 stanzas (Debian 12's debian.sources, Ubuntu 24.04's
    # ubuntu.sources): copied with Types: deb-src.
    local f
    for f in "$d"/*.sources; do
        [ -f "$f" ] || continue
        case "$f" in */ferrite-deb-src.sources) continue ;; esac
        awk -v codename="$codename" '
            BEGIN { RS = ""; ORS = "\n\n" }
            {
                n = split($0, line, "\n")
                types = ""; suites = ""; comps = ""; enabled = "yes"; body = ""
                for (i = 1; i <= n; i++) {
                    if (line[i] ~ /^#/) continue
                    l = line[i]
                    key = tolower(l); sub(/:.*/, "", key)
                    val = l; sub(/^[^:]*:[[:space:]]*/, "", val)
                    if (key == "types") { types = val; continue }
                    if (key == "suites") suites = val
                    if (key == "components") comps = val
                    if (key == "enabled") enabled = tolower(val)
                    body = body l "\n"
                }
                if (enabled == "no" || (" " types " ") !~ / deb /) next
                if ((" " comps " ") !~ / main /) next
                ok = 0
                m = split(suites, s, /[[:space:]]+/)
                for (j = 1; j <= m; j++)
                    if (s[j] == codename || index(s[j], codename "-") == 1) ok = 1
                if (!ok) next
                printf "Types: deb-src\n%s", body
                printf "\n"
            }' "$f"
    done >"$d/ferrite-deb-src.sources.new"
    # One-line entries (/etc/apt/sources.list, *.list).
    for f in /etc/apt/sources.list "$d"/*.list; do
        [ -f "$f" ] || continue
        case "$f" in */ferrite-deb-src.list) continue ;; esac
        awk -v codename="$codename" '
            $1 == "deb" {
                i = 2
                if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                suite = $(i + 1)
                if (suite != codename && index(suite, codename "-") != 1) next
                main = 0
                for (j = i + 2; j <= NF; j++) if ($j == "main") main = 1
                if (!main) next
                line = $0; sub(/^[[:space:]]*deb/, "deb-src", line); print line
            }' "$f"
    done >"$d/ferrite-deb-src.list.new"
    added=""
    for f in "$d/ferrite-deb-src.sources" "$d/ferrite-deb-src.list"; do
        if [ -s "$f.new" ]; then
            { echo "# Added by ferrite's scripts/apt-source.sh (apt-get source of BusyBox, SQLite):"
              echo "# source twins of this release's deb entries. Safe to remove."
              echo
              cat "$f.new"; } >"$f"
            added="$added $f"
        fi
        rm -f "$f.new"
    done
    [ -n "$added" ] || fail "found no deb entry for $codename main to add a deb-src twin of"
    echo "${APT_WHO:-apt}: added deb-src entries:$added"
}

# Does apt know source package $1?
apt_knows_source() {
    apt-cache showsrc "$1" 2>/dev/null | grep -q "^Package: $1\$"
}

# Make apt know source package $1: returns 1 (having done nothing) when it
# does not and this machine cannot apt (not Debian-like, or not root).
ensure_apt_source() {
    apt_knows_source "$1" && return 0
    can_apt || return 1
    export DEBIAN_FRONTEND=noninteractive
    local lock=(-o DPkg::Lock::Timeout=300)
    if have_deb_src; then
        echo "${APT_WHO:-apt}: apt-get update (the deb-src lists are missing)"
        step apt-get "${lock[@]}" update
    else
        add_deb_src # sets $added
        # Fetch only the new lists: leave the other lists as they are.
        local parts f
        parts="$(mktemp -d)"
        for f in $added; do ln -s "$f" "$parts/"; done
        echo "${APT_WHO:-apt}: apt-get update for the deb-src entries only"
        step apt-get "${lock[@]}" -o Dir::Etc::SourceList=/dev/null \
            -o Dir::Etc::SourceParts="$parts" -o APT::Get::List-Cleanup=0 update
        rm -rf "$parts"
    fi
    apt_knows_source "$1" || fail "apt still knows no $1 source package"
}

# `apt-get source $1` into directory $2 (emptied first); its Debian
# version goes to $2/fetched ("Debian PKG VERSION").
fetch_apt_source() {
    local pkg=$1 dir=$2 dsc
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "${APT_WHO:-apt}: apt-get source $pkg (into ${dir#"${top:-}"/})"
    (cd "$dir" && step apt-get source "$pkg")
    for dsc in "$dir/${pkg}"_*.dsc; do :; done
    echo "Debian $pkg $(sed -n 's/^Version: //p' "$dsc")" >"$dir/fetched"
}

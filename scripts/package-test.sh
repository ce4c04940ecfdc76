#!/usr/bin/env bash
# `make package-test`: builds both packages, installs them with apt, checks what they put on the
# system, drives the installed hub and desktop end to end (tests/e2e/tests/installed.rs) under
# Xvfb, then removes both — also when a check fails. Runs as root (apt, and the test starts the
# installed hub as its own user on /var/lib/switchboard-hub). On a machine where either package
# or that directory already exists it stops unless CI is set: it would remove them and add test
# employees to a real workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "package-test: $*" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
    # It installs packages and starts the hub as its own user: as root, through sudo.
    command -v sudo >/dev/null || fail "run as root: it installs packages and runs the hub as its user"
    exec sudo --preserve-env env "PATH=$PATH" bash "$0" "$@"
fi
if [ -z "${CI:-}" ] && { dpkg-query -W switchboard switchboard-hub >/dev/null 2>&1 || [ -e /var/lib/switchboard-hub ]; }; then
    fail "Switchboard is installed here (or /var/lib/switchboard-hub exists): not touching it; set CI=1 to go on anyway"
fi
export DEBIAN_FRONTEND=noninteractive

bash scripts/package.sh
# package.sh empties target/packages first: one of each.
desktop=$(ls target/packages/switchboard_*.deb)
hub=$(ls target/packages/switchboard-hub_*.deb)
ls -l target/packages

remove() {
    # A hub a failed test left running holds its data directory's lock.
    pkill -u switchboard-hub -x switchboard-hub 2>/dev/null || true
    apt-get remove -y -qq switchboard switchboard-hub >/dev/null 2>&1 || true
}
trap remove EXIT
# Whatever an earlier run left is replaced.
remove
apt-get install -y -qq --no-install-recommends "./$desktop" "./$hub" >/dev/null
echo "package-test: installed $(dpkg-query -W -f '${Package} ${Version}, ' switchboard switchboard-hub)"
# Where systemd runs, postinst started the unit: it holds the data directory; the test starts
# the hub itself.
if [ -d /run/systemd/system ]; then systemctl stop switchboard-hub.service || true; fi

# The desktop: its binary, its desktop entry, icons at every size, its libraries as dependencies.
[ -x /usr/bin/switchboard ] || fail "no /usr/bin/switchboard"
entry=/usr/share/applications/Switchboard.desktop
[ -f "$entry" ] || entry=$(dpkg -L switchboard | grep '\.desktop$' | head -1)
[ -f "$entry" ] || fail "no desktop entry"
grep -q '^Exec=switchboard' "$entry" || fail "the desktop entry does not start switchboard: $(cat "$entry")"
for size in 16x16 32x32 48x48 64x64 128x128 256x256 512x512; do
    dpkg -L switchboard | grep -q "/icons/hicolor/$size/apps/" || fail "no $size icon"
done
dpkg-query -W -f '${Depends}\n' switchboard | grep -q libwebkit2gtk-4.1 || fail "no WebKitGTK 4.1 dependency"
dpkg-query -W -f '${Depends}\n' switchboard | grep -q libayatana-appindicator3 || fail "no AppIndicator dependency"
# TLS is the system's OpenSSL (native-tls), the database the system's SQLite, relocations are
# packed (glibc 2.36, package.sh reads the version from the binary): both name those libraries,
# and link the SQLite they name.
for p in switchboard switchboard-hub; do
    depends=$(dpkg-query -W -f '${Depends}\n' "$p")
    for lib in libssl3 'libsqlite3-0 (>= 3.40)' 'libc6 (>= 2.'; do
        grep -qF "$lib" <<<"$depends" || fail "$p does not depend on $lib: $depends"
    done
    libs=$(ldd "/usr/bin/$p")
    grep -q libsqlite3.so <<<"$libs" || fail "/usr/bin/$p does not link the system's SQLite"
done
# The hub: its binary, user, private data directory, and a unit systemd accepts.
[ -x /usr/bin/switchboard-hub ] || fail "no /usr/bin/switchboard-hub"
getent passwd switchboard-hub >/dev/null || fail "no switchboard-hub user"
[ "$(stat -c '%a %U' /var/lib/switchboard-hub)" = "700 switchboard-hub" ] \
    || fail "/var/lib/switchboard-hub is $(stat -c '%a %U' /var/lib/switchboard-hub)"
systemd-analyze verify /lib/systemd/system/switchboard-hub.service \
    || fail "systemd does not accept the hub's unit"

# Both, end to end: systemd does not run here, so the test starts the installed hub as its unit
# would (its own user, via setpriv) and the installed desktop through tauri-driver.
SWITCHBOARD_APP=/usr/bin/switchboard xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
    cargo test -q -p switchboard-e2e --test installed -- --ignored --nocapture

remove
trap - EXIT
[ ! -e /usr/bin/switchboard ] && [ ! -e /usr/bin/switchboard-hub ] || fail "removal left the binaries"
echo "package-test: both packages installed, drove a client's message to the window, and removed"

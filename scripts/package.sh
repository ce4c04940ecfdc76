#!/usr/bin/env bash
# `make package`: the desktop's .deb (and .rpm) with Tauri's bundler, and the hub's .deb with
# dpkg-deb (Debian's own tool: a binary, a unit and three scripts need nothing more), both from
# the `dist` profile (LTO, one codegen unit, stripped), into target/packages/.
# The version is the workspace's (Cargo.toml [workspace.package]), the one place it is written.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/packages
rm -rf "$out"
mkdir -p "$out"
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
arch=$(dpkg --print-architecture)
[ -n "$version" ] || { echo "package: no version in Cargo.toml [workspace.package]" >&2; exit 1; }

# Relative relocations packed (DT_RELR, glibc >= 2.36, Debian 12): a position-independent
# binary keeps its address randomized, and its table of relocations shrinks from 24 bytes each
# to a bitmap (0.8 MB of the desktop). Both packages therefore depend on libc6 >= 2.36.
export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-z,pack-relative-relocs"
# Two cargo builds, as each binary's features differ: the desktop's in-process demo hub goes
# without the hub's OpenAPI description (`openapi` feature), which one build would unify in.
# Tauri's CLI from the UI's npm dependencies builds the UI, the desktop (serving its embedded
# UI) and its bundles.
start=$(date +%s)
TAURI_APP_PATH=src-tauri CI=true npm --prefix ui exec --no -- \
    tauri build --ci --bundles deb,rpm -- --profile dist -p switchboard
cargo build --profile dist -p switchboard-hub
# What each binary asks of glibc: its newest symbol version, and 2.36 for packed relocations.
glibc_needed() {
    local symbols versions
    symbols=$(objdump -T "$1") && versions=$(objdump -p "$1") || return 1
    { grep -o 'GLIBC_[0-9.]*[0-9]' <<<"$symbols" | sed 's/GLIBC_//'
      if grep -q GLIBC_ABI_DT_RELR <<<"$versions"; then echo 2.36; fi; } | sort -Vu | tail -1
}
# The desktop's dependency is written in tauri.conf.json: it must hold.
desktop_glibc=$(glibc_needed target/dist/switchboard)
[ -n "$desktop_glibc" ] || { echo "package: cannot read which glibc target/dist/switchboard needs" >&2; exit 1; }
grep -q "\"libc6 (>= $desktop_glibc)\"" tauri.conf.json \
    || { echo "package: the desktop needs glibc $desktop_glibc; tauri.conf.json's deb depends must say libc6 (>= $desktop_glibc)" >&2; exit 1; }
# Exactly this version's bundles (an older one may still lie there), named as Debian names
# packages (lower case).
cp "target/dist/bundle/deb/Switchboard_${version}_${arch}.deb" "$out/switchboard_${version}_${arch}.deb"
cp target/dist/bundle/rpm/Switchboard-"${version}"-1.*.rpm "$out"/
echo "package: both built in $(( $(date +%s) - start )) s"

# The hub's .deb: binary, hardened systemd unit, options file, admin doc.
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
install -D -m 0755 target/dist/switchboard-hub "$root/usr/bin/switchboard-hub"
install -D -m 0644 packaging/hub/switchboard-hub.service "$root/lib/systemd/system/switchboard-hub.service"
install -D -m 0644 packaging/hub/default "$root/etc/default/switchboard-hub"
install -D -m 0644 docs/deploy.md "$root/usr/share/doc/switchboard-hub/deploy.md"
install -d -m 0755 "$root/DEBIAN"
install -m 0755 packaging/hub/postinst packaging/hub/prerm packaging/hub/postrm "$root/DEBIAN/"
echo "/etc/default/switchboard-hub" > "$root/DEBIAN/conffiles"
size_kib=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
glibc=$(glibc_needed target/dist/switchboard-hub)
[ -n "$glibc" ] || { echo "package: cannot read which glibc target/dist/switchboard-hub needs" >&2; exit 1; }
cat > "$root/DEBIAN/control" <<CONTROL
Package: switchboard-hub
Version: $version
Architecture: $arch
Maintainer: Switchboard <hub@switchboard.invalid>
Section: net
Priority: optional
Installed-Size: $size_kib
Depends: libc6 (>= $glibc), libgcc-s1, libsqlite3-0 (>= 3.40), libssl3 | libssl3t64, ca-certificates, passwd
Recommends: sqlite3
Suggests: caddy | nginx
Description: Switchboard hub: the workspace server Switchboard desktops connect to
 Receives the messenger provider's webhooks, keeps every chat and message in SQLite, mirrors
 them to the CRM (Bitrix24 or the built-in one) and syncs each desktop what its employee may
 see. Runs as its own user with its data in /var/lib/switchboard-hub; see
 /usr/share/doc/switchboard-hub/deploy.md for TLS and backups.
CONTROL
dpkg-deb --root-owner-group -Zxz --build "$root" "$out/switchboard-hub_${version}_${arch}.deb" >/dev/null
ls -l "$out"

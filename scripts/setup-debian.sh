#!/usr/bin/env bash
# Installs what building, running and testing Switchboard needs on Debian 12, skipping what is
# already there: system packages (apt), the UI's npm packages, and tauri-driver for e2e tests.
# Needs Rust (rustup) and Node.js 20+ on PATH. Used by `make run`, `make test` and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # Tauri / WebKitGTK build and run
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev
  libjavascriptcoregtk-4.1-dev build-essential pkg-config libssl-dev
  # the system's SQLite (with FTS5) and D-Bus libraries, which the binaries link to
  libsqlite3-dev libdbus-1-dev
  # headless runs and end-to-end tests: X server, D-Bus session, WebDriver for WebKitGTK
  xvfb xauth dbus dbus-x11 webkit2gtk-driver libnotify-bin
  # voice notes and videos in the conversation: WebKitGTK plays them through GStreamer
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  # screenshots; reading window titles (the totals when no tray shows them)
  imagemagick xdotool
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust with rustup first" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup: npm not found; install Node.js 20 or newer first" >&2; exit 1; }

if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  echo "setup: installing the UI's npm packages"
  npm --prefix ui ci --no-audit --no-fund --loglevel=error
fi

if ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  echo "setup: installing tauri-driver (WebDriver for Tauri apps)"
  cargo install tauri-driver --version 2.1.0 --locked --quiet
fi

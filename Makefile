# One entry point for people and CI. `make run` and `make test` install what is missing first.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
CARGO ?= cargo
XVFB := xvfb-run -a -s "-screen 0 1280x800x24"
# Each step of `make test` says when it starts, so a CI log shows where the time goes.
STEP = @echo "make: $@ starts at $$(date +%T)"

.PHONY: setup ui build run hub test check lint rust-test ui-test e2e package package-test bindings openapi clean

setup:
	@bash scripts/setup-debian.sh

# The desktop binary embeds ui/dist, so the UI is built before any cargo build of the app.
ui: setup
	npm --prefix ui run build --silent

# Every binary (the app, the hub, the fakes, the end-to-end benches but `search-bench`, which
# needs `--features search-bench`); the test binaries are built by `cargo test`, and the benches
# are type-checked by clippy (`--all-targets`, with that feature).
build: ui
	$(STEP)
	$(CARGO) build --workspace --bins

## Run the desktop app on the demo workspace (a hub in-process on loopback).
run: ui
	$(CARGO) run -p switchboard

## Run a hub on its own: make hub ARGS="--data /tmp/hub --demo"
hub:
	$(CARGO) run -p switchboard-hub -- serve $(ARGS)

## Every check: formatting, lints, Rust tests, UI checks and tests, bindings, end-to-end, and
## the packages installed, driven and removed.
test: lint rust-test ui-test e2e package-test
	@echo "make test: all checks passed at $$(date +%T)"

lint: ui
	$(STEP)
	$(CARGO) fmt --all --check
	# With the search bench, which alone links the app's store into the end-to-end crate.
	$(CARGO) clippy --workspace --all-targets --features switchboard-e2e/search-bench -- -D warnings
	# The desktop that only connects to hubs, and the hub without the demo, build clean too.
	$(CARGO) clippy -p switchboard --no-default-features --features custom-protocol -- -D warnings
	$(CARGO) clippy -p switchboard-hub --no-default-features -- -D warnings

rust-test: ui
	$(STEP)
	$(CARGO) test --workspace --exclude switchboard-e2e

ui-test: setup
	$(STEP)
	npm --prefix ui run check --silent
	npm --prefix ui run test --silent

e2e: build
	$(STEP)
	$(XVFB) dbus-run-session -- $(CARGO) test -p switchboard-e2e --tests -- --nocapture --test-threads=1

## The desktop's .deb and .rpm and the hub's .deb, in target/packages/ (docs/deploy.md).
package: ui
	bash scripts/package.sh

## Build both packages, install them with apt, drive them end to end, remove them (root or sudo).
package-test: build
	$(STEP)
	bash scripts/package-test.sh

## Regenerate the TypeScript bindings from Rust (ui/src/lib/bindings.ts) and the OpenAPI file.
bindings: ui
	UPDATE_BINDINGS=1 $(CARGO) test -p switchboard --lib bindings_are_fresh
	UPDATE_OPENAPI=1 $(CARGO) test -p switchboard-hub --test hub openapi_file_is_fresh

clean:
	$(CARGO) clean
	rm -rf ui/dist ui/node_modules

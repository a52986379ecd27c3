# Tributary — one command to set up and start, one to set up and test.
#   make run    installs what is missing, builds the desktop app and opens the window
#   make test   installs what is missing and runs every test (what CI runs)
#   make bench  installs what is missing and prints the performance table
SHELL := /bin/bash
.DEFAULT_GOAL := run

GO       ?= go
GOBIN    := $(shell $(GO) env GOPATH)/bin
WAILS    := $(GOBIN)/wails
WAILS_VERSION := v2.11.0
APT_PKGS := mariadb-server mariadb-client libgtk-3-dev libwebkit2gtk-4.1-dev pkg-config xvfb chromium kcat imagemagick xdotool gcc
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)

.PHONY: setup setup-apt setup-node setup-go setup-wails frontend build build-headless run serve test test-go test-e2e vet bench screenshots clean

## setup: install everything that is missing (idempotent; fast when all is there)
setup: setup-apt setup-go setup-wails setup-node

setup-apt:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

setup-go:
	@$(GO) mod download

setup-wails:
	@if ! [ -x $(WAILS) ] || ! $(WAILS) version 2>/dev/null | grep -q $(WAILS_VERSION); then \
	  echo "installing the wails CLI $(WAILS_VERSION)"; \
	  $(GO) install github.com/wailsapp/wails/v2/cmd/wails@$(WAILS_VERSION); \
	fi

setup-node: frontend/node_modules/.stamp tests/e2e/node_modules/.stamp

frontend/node_modules/.stamp: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

tests/e2e/node_modules/.stamp: tests/e2e/package-lock.json
	cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## frontend: build the UI into frontend/dist (embedded into the binary)
frontend: setup-node
	cd frontend && npm run build --silent

## build: the desktop app (build/bin/tributary) and the headless binary (bin/tributary)
build: setup frontend build-headless
	$(WAILS) build -tags webkit2_41 -s -ldflags "$(LDFLAGS)"

build-headless: frontend
	@mkdir -p bin
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/tributary .

## run: set up, build and open the window (under Xvfb when there is no display)
run: build
	@if [ -n "$$DISPLAY" ] || [ -n "$$WAYLAND_DISPLAY" ]; then \
	  ./build/bin/tributary; \
	else \
	  echo "No display: starting the window under Xvfb on :99 (the browser UI: ./bin/tributary serve)"; \
	  (Xvfb :99 -screen 0 1400x900x24 -nolisten tcp >/dev/null 2>&1 &) ; sleep 1; \
	  DISPLAY=:99 ./build/bin/tributary; \
	fi

## serve: the same UI in a browser at http://127.0.0.1:8765
serve: build-headless
	./bin/tributary serve --addr 127.0.0.1:8765

vet: frontend
	$(GO) vet ./...

## test: every test — Go unit and integration tests (real MariaDB, kfake), the browser
## end-to-end test (tests/, headless Chromium against `tributary serve`)
test: setup frontend vet
	$(GO) test -count=1 -timeout 15m ./...

## bench: the performance table (not part of make test; about 3 minutes with the 10M-row
## memory run, BENCH_FLAGS= skips it)
BENCH_FLAGS ?= -flat-rows 10000000
bench: setup frontend
	$(GO) run ./bench $(BENCH_FLAGS)

## screenshots: real Wails window under Xvfb → docs/screenshots
screenshots: build
	bash tests/window/screenshots.sh

clean:
	rm -rf bin build/bin frontend/dist tests/e2e/out

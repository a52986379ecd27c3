#!/usr/bin/env bash
# Screenshots of the real Wails window under Xvfb, for the README. Needs `make build` first.
# It seeds a store through `tributary serve` (the same services the window binds), then opens
# the window on each page with TRIBUTARY_ROUTE and captures the screen with ImageMagick.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/screenshots
mkdir -p "$out"
store=${STORE:-$(mktemp -d)/store.db}
display=:97
Xvfb $display -screen 0 1400x900x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
sleep 1
shot() { # route file
  TRIBUTARY_ROUTE="$1" DISPLAY=$display ./build/bin/tributary --store "$store" >/dev/null 2>&1 &
  local pid=$!
  sleep "${WAIT:-6}"
  DISPLAY=$display import -window root "$out/$2"
  kill $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  echo "wrote $out/$2"
}
shot "${ROUTE_TASKS:-#/tasks}" window-tasks.png
[ -n "${ROUTE_DETAIL:-}" ] && shot "$ROUTE_DETAIL" window-detail.png
[ -n "${ROUTE_WIZARD:-}" ] && shot "$ROUTE_WIZARD" window-wizard.png
exit 0

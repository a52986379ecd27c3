#!/usr/bin/env bash
# Screenshots of the real Wails window under Xvfb, for the README (docs/screenshots/window-*.png).
# Needs `make build` (build/bin/tributary), Xvfb, xdotool, curl and ImageMagick.
#
#   STORE=/path/store.db tests/window/screenshots.sh
#
# STORE must be seeded by the browser flows while the source and the broker they used are still
# running (see tests/window/README.md):
#   TASK_RUNNING (default 1)  a full + incremental task, Paused (it is resumed here);
#   TASK_COPY    (default 2)  a not-started task of the same tables (t1, t2 edited, nokey);
#   and a completed task.
# The script opens the window once per page with TRIBUTARY_ROUTE and clicks like a person with
# xdotool where a page needs it (Test Connectivity and Proceed, right-click → Edit, View
# Details, Resume). The click positions are for the 1320×880 window and the English UI.
# Without STORE seeded so, the pictures show empty or wrong pages: look at each one.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-docs/screenshots}
mkdir -p "$out"
store=${STORE:?STORE=path of a seeded store}
running=${TASK_RUNNING:-1}
copy=${TASK_COPY:-2}
bin=./build/bin/tributary
export DISPLAY=${DISPLAY_NO:-:97}

Xvfb "$DISPLAY" -screen 0 1400x960x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  kill "$xvfb" 2>/dev/null || true
}
trap cleanup EXIT
sleep 1

# open ROUTE: starts the window on a page and waits until it is drawn; sets pid and wid.
open() {
  TRIBUTARY_ROUTE="$1" "$bin" --store "$store" >/tmp/tributary-window.log 2>&1 &
  pid=$!
  wid=
  for _ in $(seq 1 100); do
    wid=$(xdotool search --onlyvisible --name '^Tributary$' 2>/dev/null | head -1 || true)
    [ -n "$wid" ] && break
    sleep 0.1
  done
  [ -n "$wid" ] || { echo "the window did not open; see /tmp/tributary-window.log" >&2; exit 1; }
  xdotool windowmove "$wid" 0 0
  sleep "${WAIT:-6}"
}

close() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=
}

# click X Y [BUTTON]: a click at window coordinates (3 = the right button).
click() {
  xdotool mousemove --window "$wid" "$1" "$2"
  sleep 0.3
  xdotool click "${3:-1}"
}

# scroll X Y N [BUTTON]: N wheel steps down (or up with BUTTON 4) with the pointer at X Y.
scroll() {
  xdotool mousemove --window "$wid" "$1" "$2"
  xdotool click --repeat "$3" --delay 60 "${4:-5}"
}

# capture FILE: the window alone, as a palette PNG (small enough for the README). The pointer
# is parked over the empty part of the sidebar first, so that no tooltip shows.
capture() {
  xdotool mousemove --window "$wid" 100 840
  sleep 0.6
  import -window "$wid" "$out/$1"
  convert "$out/$1" -colors 256 -define png:compression-level=9 "PNG8:$out/$1"
  echo "wrote $out/$1 ($(($(stat -c %s "$out/$1") / 1024)) KB)"
}

# settings LANG THEME: saves the preferences into the store through `tributary serve`.
settings() {
  local port=18765
  "$bin" serve --addr 127.0.0.1:$port --store "$store" >/dev/null 2>&1 &
  local spid=$!
  for _ in $(seq 1 50); do curl -sf -o /dev/null -X POST "http://127.0.0.1:$port/api/System/Version" -d '[]' && break; sleep 0.1; done
  curl -sf -o /dev/null -X POST "http://127.0.0.1:$port/api/Settings/Save" -d "[{\"language\":\"$1\",\"theme\":\"$2\"}]"
  kill -INT $spid
  wait $spid 2>/dev/null || true
}

settings en light

# The wizard's Configure Objects step with the Edit Table dialog of a selected table: the
# not-started task opened for editing → Test Connectivity and Proceed → down to the objects →
# expand e2e → right-click e2e.t2 → Edit.
open "#/tasks/$copy/edit"
click 1175 839
sleep 4
scroll 760 500 12
sleep 1
click 254 420
sleep 1
click 1000 447 3
sleep 1
capture window-wizard-menu.png
click 1045 471
sleep 2
capture window-wizard-objects.png
close

# The precheck step of the same task (it runs again when the page opens); the first item (the
# problems come first) opened with View Details.
WAIT=10 open "#/tasks/$copy/edit/precheck"
click 1041 475
sleep 1
capture window-precheck.png
close

# The incremental task, resumed in this window: progress, latency and, further down, the charts
# and the event log.
open "#/tasks/$running"
click 600 168
sleep "${RUN_SECONDS:-45}"
scroll 760 600 8
sleep 2
capture window-detail.png

# The task list (same window, so the task keeps running): back up, Data Migration.
scroll 760 400 15 4
sleep 0.5
click 98 76
sleep 4
capture window-tasks.png
close

# The list once more in Simplified Chinese with the dark theme; then back to English, light.
settings zh dark
open "#/tasks"
capture window-tasks-zh-dark.png
close
settings en light

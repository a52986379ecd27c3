package main

import (
	"context"
	"os"
	"os/signal"
	goruntime "runtime"
	"strconv"
	"syscall"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"tributary/app"
)

// runWindow opens the desktop window (Wails). The services are the ones `serve` exposes over
// HTTP; events go to the window through the Wails runtime.
func runWindow(storePath string) int {
	if !generatingBindings && goruntime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return fail("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset): run `tributary serve` and open it in a browser, or start the window under a display (for example Xvfb)")
	}
	st, err := openStore(storePath)
	if err != nil {
		return fail("%v", err)
	}
	defer st.Close()
	fan := &app.Fanout{}
	fan.Add(app.EmitterFunc(func(name string, data any) {
		if name == "alert" {
			go notifyDesktop(data)
		}
	}))
	a := app.New(st, fan)
	a.RecoverInterrupted()
	err = wails.Run(&options.App{
		Title:     "Tributary",
		Width:     1320,
		Height:    880,
		MinWidth:  1024,
		MinHeight: 680,
		AssetServer: &assetserver.Options{
			Assets: distFS(),
		},
		OnStartup: func(ctx context.Context) {
			fan.Add(app.EmitterFunc(func(name string, data any) { runtime.EventsEmit(ctx, name, data) }))
			// SIGTERM / SIGINT close the window the normal way, so running tasks are paused
			// with their checkpoints saved.
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
			go func() {
				<-sig
				runtime.Quit(ctx)
			}()
		},
		OnDomReady: func(ctx context.Context) {
			// TRIBUTARY_ROUTE opens a page directly (used for the README screenshots).
			if route := os.Getenv("TRIBUTARY_ROUTE"); route != "" {
				runtime.WindowExecJS(ctx, "window.location.hash = "+strconv.Quote(route))
			}
		},
		OnShutdown: func(ctx context.Context) { a.Shutdown() },
		Bind:       a.Services(),
	})
	if err != nil {
		return fail("open the window: %v (to use Tributary without a display, run `tributary serve`)", err)
	}
	return 0
}

//go:build bindings

package main

// generatingBindings is true in the build `wails build` runs to generate the JavaScript
// bindings: it must reach wails.Run whatever the display.
const generatingBindings = true

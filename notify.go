package main

import (
	"fmt"

	"github.com/godbus/dbus/v5"
)

// notifyDesktop shows an alert as a desktop notification through the freedesktop
// notification service on the session bus (GNOME, KDE, XFCE...). The window also shows it
// in-app; without a notification service this does nothing.
func notifyDesktop(data any) {
	m, ok := data.(map[string]any)
	if !ok {
		return
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		return
	}
	title := fmt.Sprintf("Tributary: task %v", m["task"])
	switch m["kind"] {
	case "failed":
		title += " failed"
	case "latency":
		title += ": latency alert"
	}
	body := fmt.Sprint(m["message"])
	if tag, _ := m["environmentTag"].(string); tag != "" {
		body = "[" + tag + "] " + body
	}
	obj := conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
	obj.Call("org.freedesktop.Notifications.Notify", 0, "Tributary", uint32(0), "", title, body,
		[]string{}, map[string]dbus.Variant{}, int32(-1))
}

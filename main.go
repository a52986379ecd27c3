// Tributary migrates MySQL and MariaDB data into Kafka the way Alibaba Cloud DTS does: full
// data migration plus incremental (binlog) migration, in Canal JSON or DTS Avro.
//
// With no arguments it opens the desktop window; subcommands serve headless use (see --help).
package main

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
)

//go:embed all:frontend/dist
var assets embed.FS

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func distFS() fs.FS {
	sub, err := fs.Sub(assets, "frontend/dist")
	if err != nil {
		panic(err)
	}
	return sub
}

func main() {
	tuneGC()
	os.Exit(runCLI(os.Args[1:]))
}

// tuneGC trades memory for CPU: the data path allocates little that lives long, so a
// collection every 300% of heap growth is plenty, and a soft limit keeps the process near
// 256 MiB whatever the table size. GOGC and GOMEMLIMIT in the environment win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(256 << 20)
	}
}

func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "tributary: "+format+"\n", args...)
	return 2
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"tributary/app"
	"tributary/engine/pipeline"
	"tributary/engine/precheck"
	"tributary/engine/task"
	"tributary/store"
)

const usage = `Tributary migrates MySQL and MariaDB data into Kafka, as Alibaba Cloud DTS does.

Usage:
  tributary [--store PATH]                      open the desktop window
  tributary run --task FILE [--restart]         run a task file until done or SIGINT/SIGTERM
  tributary precheck --task FILE                run the precheck of a task file (exit 1 if an item fails)
  tributary serve [--addr 127.0.0.1:PORT]       serve the same UI in a browser (HTTP + server-sent events)
  tributary task export ID [--include-secrets]  print a saved task as a task file
  tributary task import FILE                    save a task file as a new task
  tributary version                             print the version

Every command takes --store PATH: the SQLite file that keeps connections, tasks and
checkpoints (default: %s).
Run "tributary COMMAND --help" for the options of a command.
`

func defaultStore() string {
	if p := os.Getenv("TRIBUTARY_STORE"); p != "" {
		return p
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = "."
	}
	return filepath.Join(dir, "tributary", "tributary.db")
}

// splitStore takes a global --store flag from anywhere in the arguments.
func splitStore(args []string) (string, []string, error) {
	path := defaultStore()
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--store" || a == "-store":
			if i+1 >= len(args) {
				return "", nil, errors.New("--store needs a file path")
			}
			path = args[i+1]
			i++
		case strings.HasPrefix(a, "--store="):
			path = strings.TrimPrefix(a, "--store=")
		default:
			rest = append(rest, a)
		}
	}
	return path, rest, nil
}

func runCLI(args []string) int {
	storePath, args, err := splitStore(args)
	if err != nil {
		return fail("%v", err)
	}
	app.Version = version
	if len(args) == 0 {
		return runWindow(storePath)
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Printf(usage, defaultStore())
		return 0
	case "version", "--version":
		fmt.Println("tributary", version)
		return 0
	case "run":
		return cmdRun(storePath, args[1:])
	case "precheck":
		return cmdPrecheck(storePath, args[1:])
	case "serve":
		return cmdServe(storePath, args[1:])
	case "task":
		return cmdTask(storePath, args[1:])
	}
	fmt.Fprintf(os.Stderr, usage, defaultStore())
	return fail("unknown command %q", args[0])
}

func openStore(path string) (*store.Store, error) {
	st, err := store.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open the store %s: %w", path, err)
	}
	return st, nil
}

func newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: tributary %s\n\n", synopsis)
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "  -store string\n    \tthe SQLite store (default %s)\n", defaultStore())
	}
	return fs
}

// flagExit is the exit status after a flag parse error: 0 for --help, 2 otherwise.
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

func readTaskFile(path string) (*task.Task, error) {
	if path == "" {
		return nil, errors.New("--task FILE is required")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := task.Parse(b)
	if err != nil {
		if es := task.AsErrors(err); es != nil {
			var lines []string
			for _, e := range es {
				lines = append(lines, "  "+e.Error())
			}
			return nil, fmt.Errorf("%s is not a valid task file:\n%s", path, strings.Join(lines, "\n"))
		}
		return nil, err
	}
	return t, nil
}

// cliObserver prints progress lines for headless runs.
type cliObserver struct {
	mu   sync.Mutex
	last time.Time
}

func (o *cliObserver) Progress(p pipeline.Progress) {
	o.mu.Lock()
	defer o.mu.Unlock()
	finished := p.Phase == "full" && p.Percent >= 100
	if time.Since(o.last) < 2*time.Second && !finished {
		return
	}
	o.last = time.Now()
	now := time.Now().Format("15:04:05")
	if p.Phase == "incremental" {
		latency := "unknown"
		if p.LatencyMs >= 0 {
			latency = (time.Duration(p.LatencyMs) * time.Millisecond).String()
		}
		fmt.Fprintf(os.Stderr, "%s  incremental: latency %s  %.0f rows/s  %.1f MB/s  at %s\n", now, latency, p.IncrementalRowsPerSec, p.MBPerSec, p.Position)
		return
	}
	fmt.Fprintf(os.Stderr, "%s  full: %5.1f%%  %d/%d rows  %.0f rows/s  %.1f MB/s\n", now, p.Percent, p.RowsDone, p.RowsEstimated, p.RowsPerSec, p.MBPerSec)
}

func (o *cliObserver) Log(level, msg string) {
	fmt.Fprintf(os.Stderr, "%s  %s: %s\n", time.Now().Format("15:04:05"), level, msg)
}

func (o *cliObserver) State(state, reason string) {
	if reason != "" {
		fmt.Fprintf(os.Stderr, "%s  state %s: %s\n", time.Now().Format("15:04:05"), state, reason)
	} else {
		fmt.Fprintf(os.Stderr, "%s  state %s\n", time.Now().Format("15:04:05"), state)
	}
}

// runRecord finds or creates the task record that holds a task file's checkpoints: one per
// task name and file name, shown in the window's task list as "NAME (run: FILE)".
func runRecord(st *store.Store, t *task.Task, file string) (*store.TaskRecord, error) {
	name := t.Name + " (run: " + filepath.Base(file) + ")"
	recs, err := st.Tasks()
	if err != nil {
		return nil, err
	}
	spec := *t
	spec.Name = name
	if len(spec.Name) > 128 {
		spec.Name = spec.Name[len(spec.Name)-128:]
	}
	for i := range recs {
		if recs[i].Spec.Name == spec.Name {
			r := &recs[i]
			r.Spec = spec
			if err := st.SaveTask(r); err != nil {
				return nil, err
			}
			return r, nil
		}
	}
	r := &store.TaskRecord{Spec: spec, State: app.StateNotStarted}
	if err := st.SaveTask(r); err != nil {
		return nil, err
	}
	return r, nil
}

func cmdRun(storePath string, args []string) int {
	fs := newFlags("run", "run --task FILE [--restart] [--skip-precheck]")
	file := fs.String("task", "", "the task file to run")
	restart := fs.Bool("restart", false, "forget this task file's checkpoints and start over")
	skip := fs.Bool("skip-precheck", false, "start without running the precheck")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	t, err := readTaskFile(*file)
	if err != nil {
		return fail("%v", err)
	}
	st, err := openStore(storePath)
	if err != nil {
		return fail("%v", err)
	}
	defer st.Close()
	resolved, err := app.Resolve(st, *t)
	if err != nil {
		return fail("%v", err)
	}
	rec, err := runRecord(st, t, *file)
	if err != nil {
		return fail("%v", err)
	}
	if *restart {
		if err := st.ClearCheckpoints(rec.ID); err != nil {
			return fail("%v", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !*skip {
		cp := mustCheckpoints(st, rec.ID)
		items := precheck.Run(ctx, resolved, precheck.Options{ResumePosition: pipeline.SavedPosition(cp), Resuming: len(cp) > 0}, func(precheck.Item) {})
		failed := printPrecheck(items)
		if failed > 0 {
			_ = st.SetTaskState(rec.ID, app.StatePrecheckFailed, "precheck failed")
			return fail("the precheck failed (%d items): fix them, or pass --skip-precheck", failed)
		}
	}
	if path := os.Getenv("TRIBUTARY_CPUPROFILE"); path != "" {
		// For `make bench` investigations: a CPU profile of the run.
		if f, err := os.Create(path); err == nil {
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	obs := &cliObserver{}
	r := pipeline.NewRunner(resolved, app.StoreCheckpoints{Store: st, TaskID: rec.ID}, obs)
	_ = st.SetTaskState(rec.ID, app.StateRunning, "")
	err = r.Run(ctx)
	switch {
	case err == nil:
		_ = st.SetTaskState(rec.ID, app.StateCompleted, "")
		fmt.Fprintln(os.Stderr, "completed")
		return 0
	case ctx.Err() != nil:
		_ = st.SetTaskState(rec.ID, app.StatePaused, "")
		fmt.Fprintln(os.Stderr, "stopped; run the same command again to resume from the last checkpoint")
		return 0
	default:
		_ = st.SetTaskState(rec.ID, app.StateFailed, err.Error())
		fmt.Fprintf(os.Stderr, "tributary: the task failed: %v\n", err)
		return 1
	}
}

func mustCheckpoints(st *store.Store, id int64) map[string][]byte {
	cp, _ := st.Checkpoints(id)
	return cp
}

func printPrecheck(items []precheck.Item) int {
	failed := 0
	for _, it := range items {
		mark := map[string]string{"passed": "PASS", "warning": "WARN", "failed": "FAIL"}[it.Result]
		fmt.Fprintf(os.Stderr, "%-4s %-24s %s\n", mark, it.Code, it.Name)
		if it.Result != "passed" {
			for _, d := range it.Details {
				fmt.Fprintf(os.Stderr, "       %s\n", d)
			}
			if it.Fix != "" {
				fmt.Fprintf(os.Stderr, "       fix: %s\n", it.Fix)
			}
		}
		if it.Result == "failed" {
			failed++
		}
	}
	return failed
}

func cmdPrecheck(storePath string, args []string) int {
	fs := newFlags("precheck", "precheck --task FILE [--report markdown|html]")
	file := fs.String("task", "", "the task file to check")
	report := fs.String("report", "", "also print the report as markdown or html on standard output")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	t, err := readTaskFile(*file)
	if err != nil {
		return fail("%v", err)
	}
	st, err := openStore(storePath)
	if err != nil {
		return fail("%v", err)
	}
	defer st.Close()
	resolved, err := app.Resolve(st, *t)
	if err != nil {
		return fail("%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	items := precheck.Run(ctx, resolved, precheck.Options{}, func(precheck.Item) {})
	failed := printPrecheck(items)
	switch *report {
	case "":
	case "markdown":
		fmt.Print(precheck.Markdown(t.Name, time.Now(), items))
	case "html":
		fmt.Print(precheck.HTML(t.Name, time.Now(), items))
	default:
		return fail("--report: %q is not offered; use markdown or html", *report)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

func cmdServe(storePath string, args []string) int {
	fs := newFlags("serve", "serve [--addr 127.0.0.1:PORT]")
	addr := fs.String("addr", "127.0.0.1:8765", "the address to listen on (keep it on loopback: the API has no login)")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	st, err := openStore(storePath)
	if err != nil {
		return fail("%v", err)
	}
	defer st.Close()
	broker := app.NewBroker()
	a := app.New(st, broker)
	a.RecoverInterrupted()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fail("listen on %s: %v", *addr, err)
	}
	srv := &http.Server{Handler: a.Handler(distFS(), broker), ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("Tributary %s serving on http://%s (store %s)\n", version, ln.Addr(), storePath)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		a.Shutdown()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fail("serve: %v", err)
	}
	return 0
}

func cmdTask(storePath string, args []string) int {
	if len(args) == 0 {
		return fail("task needs a subcommand: export ID [--include-secrets] | import FILE")
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Print(`Usage:
  tributary task export ID [--include-secrets]   print a saved task as a task file; passwords are
                                                 left out (the file refers to saved connections or
                                                 passwordEnv) unless --include-secrets is given
  tributary task import FILE                     save a task file as a new task (every invalid
                                                 field is reported with its JSON path)
  --store PATH                                   the SQLite store
`)
		return 0
	}
	st, err := openStore(storePath)
	if err != nil {
		return fail("%v", err)
	}
	defer st.Close()
	a := app.New(st, app.EmitterFunc(func(string, any) {}))
	switch args[0] {
	case "export":
		fs := newFlags("task export", "task export ID [--include-secrets]")
		secrets := fs.Bool("include-secrets", false, "write the passwords into the file (otherwise it refers to saved connections or passwordEnv)")
		var rest []string
		for _, x := range args[1:] {
			if strings.HasPrefix(x, "-") {
				rest = append([]string{x}, rest...)
			} else {
				rest = append(rest, x)
			}
		}
		if err := fs.Parse(rest); err != nil {
			return flagExit(err)
		}
		if fs.NArg() != 1 {
			return fail("task export needs one task ID")
		}
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil {
			return fail("task export: %q is not a task ID (a number)", fs.Arg(0))
		}
		text, err := a.Tasks.Export(id, *secrets)
		if err != nil {
			return fail("%v", err)
		}
		fmt.Print(text)
		return 0
	case "import":
		if len(args) != 2 || strings.HasPrefix(args[1], "-") {
			return fail("usage: tributary task import FILE")
		}
		b, err := os.ReadFile(args[1])
		if err != nil {
			return fail("%v", err)
		}
		res, err := a.Tasks.Import(string(b))
		if err != nil {
			return fail("%v", err)
		}
		if len(res.Errors) > 0 {
			fmt.Fprintf(os.Stderr, "%s is not a valid task file:\n", args[1])
			for _, e := range res.Errors {
				fmt.Fprintf(os.Stderr, "  %s\n", e.Error())
			}
			return 2
		}
		fmt.Printf("imported task %d (%s)\n", res.Task.ID, res.Task.Name)
		return 0
	}
	return fail("unknown task subcommand %q: use export or import", args[0])
}

// Package testenv starts throwaway MariaDB servers and in-process Kafka-protocol
// brokers (kfake) for integration tests and benchmarks.
//
// MariaDB needs the Debian mariadb-server package (mariadbd, mariadb-install-db);
// `make setup` installs it. Servers live under os.TempDir()/tributary-testenv.
package testenv

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
)

// Account created on every server, with ALL PRIVILEGES ON *.* (which includes
// REPLICATION SLAVE and REPLICATION CLIENT / BINLOG MONITOR) WITH GRANT OPTION.
const (
	AppUser     = "tributary"
	AppPassword = "Tr1but@ry-secret"
)

// Null is how Query represents SQL NULL (an empty string stays "").
const Null = "\x00NULL"

// StartTimeout is how long a server may take to accept connections.
const StartTimeout = 30 * time.Second

// MariaDB is a running (or stopped) mariadbd process owned by the caller.
// User/Password are the tributary account; root has no password over TCP.
type MariaDB struct {
	Host           string // always 127.0.0.1
	Port           int
	User, Password string // AppUser / AppPassword
	DataDir        string // holds the data, binlog*, sock and err.log

	bin   string
	flags []string // extra flags (WithFlags), after the defaults

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd exits
	waitErr error
}

type mariaCfg struct {
	flags    []string
	noBinlog bool
}

// MariaDBOption configures StartMariaDB / StartMariaDBDir.
type MariaDBOption func(*mariaCfg)

// WithFlags appends mariadbd flags after the defaults (later flags override
// earlier ones), e.g. WithFlags("--binlog-row-metadata=FULL").
func WithFlags(flags ...string) MariaDBOption {
	return func(c *mariaCfg) { c.flags = append(c.flags, flags...) }
}

// WithoutBinlog starts the server without --log-bin and the binlog flags
// (log_bin is then OFF).
func WithoutBinlog() MariaDBOption { return func(c *mariaCfg) { c.noBinlog = true } }

var baseDirOnce sync.Once

// BaseDir is the shared parent directory of every StartMariaDB server. It is
// world-writable and sticky, like /tmp, so root and other users can share it.
func BaseDir() string {
	d := filepath.Join(os.TempDir(), "tributary-testenv")
	baseDirOnce.Do(func() {
		if err := os.Mkdir(d, 0o777); err == nil {
			_ = os.Chmod(d, os.ModeSticky|0o777)
		}
	})
	return d
}

// StartMariaDB starts a fresh server in a new directory under BaseDir and
// registers cleanup (kill, remove the directory). Fails the test if MariaDB
// is not installed or does not start. Takes about 0.1-0.2 s (the first
// call per machine also initialises a template data directory, ~0.5 s).
func StartMariaDB(tb testing.TB, opts ...MariaDBOption) *MariaDB {
	tb.Helper()
	if _, err := findBin("mariadbd"); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	dir, err := os.MkdirTemp(BaseDir(), "mariadb-")
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	m, err := StartMariaDBDir(dir, opts...)
	if err != nil {
		_ = os.RemoveAll(dir)
		tb.Fatalf("testenv: %v", err)
	}
	tb.Cleanup(func() {
		m.Kill()
		if tb.Failed() {
			tb.Logf("testenv: tail of %s/err.log:\n%s", dir, m.errLogTail(2048))
		}
		_ = os.RemoveAll(dir)
	})
	return m
}

// StartMariaDBDir starts a server whose data directory is dir (created if
// missing). An already-initialised dir (one holding mysql/) is reused as is,
// otherwise it is initialised (a copy of a template made once by
// mariadb-install-db). The caller must Stop
// or Kill the server; the directory is left in place.
func StartMariaDBDir(dir string, opts ...MariaDBOption) (*MariaDB, error) {
	var c mariaCfg
	for _, o := range opts {
		o(&c)
	}
	bin, err := findBin("mariadbd")
	if err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "mysql")); err != nil {
		if err := installDB(dir); err != nil {
			return nil, err
		}
	}
	m := &MariaDB{Host: "127.0.0.1", User: AppUser, Password: AppPassword, DataDir: dir, bin: bin}
	if !c.noBinlog {
		m.flags = append(m.flags, "--log-bin="+filepath.Join(dir, "binlog"), "--binlog-format=ROW",
			"--binlog-row-image=FULL")
	}
	m.flags = append(m.flags, c.flags...)
	// A free port can be taken between probing and binding: retry then.
	for attempt := 0; ; attempt++ {
		if m.Port, err = freePort(); err != nil {
			return nil, err
		}
		err = m.start()
		if err == nil || attempt == 2 || !strings.Contains(err.Error(), "Bind on TCP/IP port") {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if err := m.ExecErr(fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s'", AppUser, AppPassword)); err != nil {
		m.Kill()
		return nil, err
	}
	if err := m.ExecErr(fmt.Sprintf("GRANT ALL PRIVILEGES ON *.* TO '%s'@'%%' WITH GRANT OPTION", AppUser)); err != nil {
		m.Kill()
		return nil, err
	}
	return m, nil
}

// Pid is the server process's id (0 when it is not running).
func (m *MariaDB) Pid() int {
	if m.cmd == nil || m.cmd.Process == nil {
		return 0
	}
	return m.cmd.Process.Pid
}

// Addr is "127.0.0.1:port".
func (m *MariaDB) Addr() string { return net.JoinHostPort(m.Host, strconv.Itoa(m.Port)) }

// DSN is a go-sql-driver/mysql DSN for the tributary account.
func (m *MariaDB) DSN(db string) string {
	return fmt.Sprintf("%s:%s@tcp(%s)/%s", m.User, m.Password, m.Addr(), db)
}

// Conn opens a go-mysql connection as root (no database selected).
func (m *MariaDB) Conn() (*client.Conn, error) { return client.Connect(m.Addr(), "root", "", "") }

// RootExec runs one statement as root on a new connection.
func (m *MariaDB) RootExec(sql string, args ...any) (*mysql.Result, error) {
	c, err := m.Conn()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	r, err := c.Execute(sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sql, err)
	}
	return r, nil
}

// ExecErr runs one statement as root and returns its error.
func (m *MariaDB) ExecErr(sql string) error {
	r, err := m.RootExec(sql)
	if r != nil {
		r.Close()
	}
	return err
}

// Exec runs the statements in order as root on one connection (so USE and
// session variables carry over) and fails the test on the first error.
func (m *MariaDB) Exec(tb testing.TB, sql ...string) {
	tb.Helper()
	c, err := m.Conn()
	if err != nil {
		tb.Fatalf("testenv: connect %s: %v", m.Addr(), err)
	}
	defer c.Close()
	for _, s := range sql {
		r, err := c.Execute(s)
		if err != nil {
			tb.Fatalf("testenv: exec %q: %v", s, err)
		}
		r.Close()
	}
}

// QueryErr runs a query as root and returns its rows as strings: numbers in
// decimal, bytes as is, NULL as the Null constant.
func (m *MariaDB) QueryErr(sql string) ([][]string, error) {
	r, err := m.RootExec(sql)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if r.Resultset == nil {
		return nil, nil
	}
	rows := make([][]string, r.RowNumber())
	for i := range rows {
		row := make([]string, r.ColumnNumber())
		for j := range row {
			if null, _ := r.IsNull(i, j); null {
				row[j] = Null
				continue
			}
			s, err := r.GetString(i, j)
			if err != nil {
				return nil, err
			}
			row[j] = strings.Clone(s) // the result set's buffers are pooled
		}
		rows[i] = row
	}
	return rows, nil
}

// Query is QueryErr that fails the test on error.
func (m *MariaDB) Query(tb testing.TB, sql string) [][]string {
	tb.Helper()
	rows, err := m.QueryErr(sql)
	if err != nil {
		tb.Fatalf("testenv: query: %v", err)
	}
	return rows
}

// Stop shuts the server down cleanly (SIGTERM, SIGKILL after 60 s).
// Stopping a stopped server is a no-op.
func (m *MariaDB) Stop() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return nil
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(60 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.done
		m.cmd = nil
		return errors.New("testenv: mariadbd did not stop within 60s; killed")
	}
	m.cmd = nil
	return nil
}

// Kill kills the server with SIGKILL (a crash, for outage tests) and waits
// for it to exit.
func (m *MariaDB) Kill() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Kill()
	<-m.done
	m.cmd = nil
}

// Restart stops the server (if running) and starts it again on the same port
// and data directory.
func (m *MariaDB) Restart() error {
	if err := m.Stop(); err != nil {
		return err
	}
	return m.start()
}

// Running reports whether the server process is alive.
func (m *MariaDB) Running() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return false
	}
	select {
	case <-m.done:
		return false
	default:
		return true
	}
}

func (m *MariaDB) args() []string {
	d := m.DataDir
	a := []string{"--no-defaults", "--datadir=" + d, "--socket=" + filepath.Join(d, "sock"),
		"--port=" + strconv.Itoa(m.Port), "--bind-address=127.0.0.1", "--server-id=1",
		"--log-error=" + filepath.Join(d, "err.log"), "--skip-name-resolve",
		"--pid-file=" + filepath.Join(d, "mariadbd.pid"), "--tmpdir=" + d,
		"--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
		"--innodb-log-file-size=8M"}
	if u := runUser(); u != "" {
		a = append(a, "--user="+u)
	}
	return append(a, m.flags...)
}

func (m *MariaDB) start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		return errors.New("testenv: mariadbd already running")
	}
	cmd := exec.Command(m.bin, m.args()...)
	cmd.SysProcAttr = sysProcAttr()
	out, err := os.OpenFile(filepath.Join(m.DataDir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("testenv: start mariadbd: %w", err)
	}
	done := make(chan struct{})
	go func() {
		m.waitErr = cmd.Wait()
		out.Close()
		close(done)
	}()
	m.cmd, m.done = cmd, done

	deadline := time.Now().Add(StartTimeout)
	for {
		select {
		case <-done:
			m.cmd = nil
			return fmt.Errorf("testenv: mariadbd exited (%v) before accepting connections; %s/err.log:\n%s",
				m.waitErr, m.DataDir, m.errLogTail(4096))
		default:
		}
		if c, err := client.Connect(m.Addr(), "root", "", ""); err == nil {
			c.Close()
			return nil
		} else if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			m.cmd = nil
			return fmt.Errorf("testenv: mariadbd not accepting connections on %s after %v (%v); %s/err.log:\n%s",
				m.Addr(), StartTimeout, err, m.DataDir, m.errLogTail(4096))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (m *MariaDB) errLogTail(n int64) string {
	f, err := os.Open(filepath.Join(m.DataDir, "err.log"))
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(st.Size()-n, 0)
	}
	b := make([]byte, n)
	k, _ := f.Read(b)
	return string(b[:k])
}

// installDB fills dir with a copy of a freshly initialised data directory.
// The first call (per user and mariadbd build) runs mariadb-install-db into a
// template under BaseDir; later calls just copy it, which is faster and
// avoids the occasional crash of concurrent bootstraps (seen: SIGSEGV in
// ha_maria::drop_table).
func installDB(dir string) error {
	tmpl, err := template()
	if err != nil {
		return err
	}
	return copyTree(tmpl, dir)
}

var tmplMu sync.Mutex

func template() (string, error) {
	tmplMu.Lock()
	defer tmplMu.Unlock()
	server, err := findBin("mariadbd")
	if err != nil {
		return "", err
	}
	st, err := os.Stat(server)
	if err != nil {
		return "", err
	}
	tmpl := filepath.Join(BaseDir(), fmt.Sprintf("template-%d-%d-%d", os.Geteuid(), st.Size(), st.ModTime().Unix()))
	if _, err := os.Stat(filepath.Join(tmpl, "mysql")); err == nil {
		return tmpl, nil
	}
	bin, err := findBin("mariadb-install-db", "mysql_install_db")
	if err != nil {
		return "", err
	}
	for attempt := 1; ; attempt++ {
		tmp, err := os.MkdirTemp(BaseDir(), "tmp-install-")
		if err != nil {
			return "", err
		}
		args := []string{"--no-defaults", "--datadir=" + tmp, "--auth-root-authentication-method=normal",
			"--skip-test-db", "--innodb-log-file-size=8M"}
		if os.Geteuid() == 0 { // as non-root --user makes the script chown what it cannot
			args = append(args, "--user=root")
		}
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err == nil {
			// Another process may have won the race; either template is fine.
			if err := os.Rename(tmp, tmpl); err != nil {
				_ = os.RemoveAll(tmp)
				if _, err2 := os.Stat(filepath.Join(tmpl, "mysql")); err2 != nil {
					return "", err
				}
			}
			return tmpl, nil
		}
		_ = os.RemoveAll(tmp)
		if attempt == 3 {
			return "", fmt.Errorf("testenv: %s failed: %v\n%s", bin, err, out)
		}
	}
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, info.Mode().Perm())
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// runUser is the --user for mariadbd: root as root, else the current user.
func runUser() string {
	if os.Geteuid() == 0 {
		return "root"
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// findBin looks in PATH and then in the usual sbin/bin directories.
func findBin(names ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
		for _, d := range []string{"/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/mysql/bin"} {
			p := filepath.Join(d, n)
			if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%s not found: MariaDB is not installed (run `make setup`, which installs Debian's mariadb-server)", names[0])
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

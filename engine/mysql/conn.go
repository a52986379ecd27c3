// Package mysql is the source side: connections, the catalog, the snapshot reader and (in
// binlog.go) the binlog stream. Every reader renders values in one canonical text form so that
// the same data read by the snapshot and by the binlog gives the same event.Value:
//
//   - integers: decimal text, unsigned as unsigned; BIT: decimal text of its unsigned value
//   - DECIMAL: exact text; FLOAT/DOUBLE: the shortest text that reads back to the same
//     float32/float64 (the full stored value, as DTS's ROUND(col, 38/308))
//   - DATE "YYYY-MM-DD"; DATETIME/TIMESTAMP "YYYY-MM-DD HH:MM:SS[.f]" with the column's
//     fractional digits, TIMESTAMP in UTC; TIME "[-]HH:MM:SS[.f]"; YEAR "YYYY"
//   - character types, ENUM, SET, JSON: the raw bytes in the column's character set
//   - binary types: raw bytes; GEOMETRY: MySQL's internal SRID + WKB bytes
package mysql

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gmysql "github.com/go-mysql-org/go-mysql/mysql"

	"tributary/engine/task"
)

// Password resolves the password of a connection: inline, or from the named environment
// variable.
func Password(m *task.MySQL) (string, error) {
	return task.ResolvePassword(m.Password, m.PasswordEnv, "passwordEnv")
}

// TLSConfig builds a TLS configuration from task settings, or nil when TLS is off.
func TLSConfig(t task.TLS, on bool, serverName string) (*tls.Config, error) {
	if !on && !t.Enabled {
		return nil, nil
	}
	return t.Config(serverName)
}

// Connect opens a connection to the source with the session settings every reader relies on:
// raw column bytes (character_set_results=binary) and UTC for TIMESTAMP.
func Connect(ctx context.Context, m *task.MySQL) (*client.Conn, error) {
	pw, err := Password(m)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := TLSConfig(m.TLS, m.Encryption == "ssl", m.Host)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(m.Host, strconv.Itoa(m.Port))
	var opts []client.Option
	if tlsCfg != nil {
		opts = append(opts, func(c *client.Conn) error { c.SetTLSConfig(tlsCfg); return nil })
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := client.ConnectWithContext(cctx, addr, m.User, pw, "", 10*time.Second, opts...)
	if err != nil {
		return nil, Explain(err, m)
	}
	for _, s := range []string{
		"SET NAMES utf8mb4",
		"SET character_set_results = binary",
		"SET time_zone = '+00:00'",
		"SET SESSION net_write_timeout = 600",
	} {
		if _, err := conn.Execute(s); err != nil {
			conn.Close()
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	return conn, nil
}

// Explain turns a connection error into a message that says what failed and what to do. It
// never includes the password.
func Explain(err error, m *task.MySQL) error {
	addr := net.JoinHostPort(m.Host, strconv.Itoa(m.Port))
	var myErr *gmysql.MyError
	var netErr net.Error
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.As(err, &myErr) && (myErr.Code == gmysql.ER_ACCESS_DENIED_ERROR || myErr.Code == gmysql.ER_DBACCESS_DENIED_ERROR):
		return &ConnError{Kind: "authentication", Err: fmt.Errorf("MySQL at %s refused the account %q: %s. Check the database account and password", addr, m.User, myErr.Message)}
	case errors.As(err, &myErr) && myErr.Code == gmysql.ER_HOST_NOT_PRIVILEGED:
		return &ConnError{Kind: "authentication", Err: fmt.Errorf("MySQL at %s does not let this host connect: %s. Grant the account access from this machine", addr, myErr.Message)}
	case errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || strings.Contains(err.Error(), "x509:"):
		return &ConnError{Kind: "certificate", Err: fmt.Errorf("TLS to MySQL at %s failed: the server certificate was not accepted (%v). Give the CA file that signed it, or check the server name", addr, rootCause(err))}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &ConnError{Kind: "refused", Err: fmt.Errorf("MySQL at %s refused the connection: nothing listens on that port. Check the host and port and that the server runs", addr)}
	case errors.As(err, &netErr) && netErr.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return &ConnError{Kind: "timeout", Err: fmt.Errorf("MySQL at %s did not answer within 10 s: check the host, the port and any firewall between", addr)}
	case strings.Contains(err.Error(), "no such host"):
		return &ConnError{Kind: "dns", Err: fmt.Errorf("the MySQL host %q cannot be resolved: check the host name", m.Host)}
	case strings.Contains(err.Error(), "does not support TLS") || strings.Contains(err.Error(), "SSL"):
		return &ConnError{Kind: "tls", Err: fmt.Errorf("TLS to MySQL at %s failed: %v. Turn encryption off or enable SSL on the server", addr, rootCause(err))}
	}
	return &ConnError{Kind: "other", Err: fmt.Errorf("connect to MySQL at %s: %v", addr, rootCause(err))}
}

func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// ConnError is a failure to reach or log in to a server; Kind classifies it (refused, timeout,
// authentication, certificate, tls, dns, other). The pipeline retries these within the "Retry
// Time for Failed Connections" window.
type ConnError struct {
	Kind string
	Err  error
}

func (e *ConnError) Error() string { return e.Err.Error() }
func (e *ConnError) Unwrap() error { return e.Err }

// IsConnError reports whether err is a connection failure (as opposed to, say, a bad query).
func IsConnError(err error) bool {
	var ce *ConnError
	if errors.As(err, &ce) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "connection was bad") || strings.Contains(s, "EOF") || strings.Contains(s, "broken pipe") || strings.Contains(s, "connection reset")
}

// QuoteName quotes an identifier with backticks.
func QuoteName(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// QuoteString quotes a string literal for MySQL.
func QuoteString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString("\\\\")
		case 0:
			b.WriteString("\\0")
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

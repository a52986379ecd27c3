package precheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"tributary/engine/mysql"
	"tributary/engine/task"
)

// poolSize is how many source connections the checks share.
const poolSize = 3

// fullRowsPerSecond is the full-migration speed assumed when no estimate is given.
const fullRowsPerSecond = 100000

// connPool lends source connections to concurrent checks.
type connPool struct {
	m   *task.MySQL
	sem chan struct{}

	mu     sync.Mutex
	idle   []*client.Conn
	all    []*client.Conn
	closed bool
}

func (p *connPool) add(c *client.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.all = append(p.all, c)
	p.idle = append(p.idle, c)
}

func (p *connPool) get(ctx context.Context) (*client.Conn, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.sem
		return nil, errors.New("the precheck has ended")
	}
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	c, err := mysql.Connect(ctx, p.m)
	if err != nil {
		<-p.sem
		return nil, err
	}
	p.mu.Lock()
	p.all = append(p.all, c)
	p.mu.Unlock()
	return c, nil
}

func (p *connPool) put(c *client.Conn, err error) {
	p.mu.Lock()
	if err != nil && mysql.IsConnError(err) {
		c.Close()
	} else if !p.closed {
		p.idle = append(p.idle, c)
	}
	p.mu.Unlock()
	<-p.sem
}

func (p *connPool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for _, c := range p.all {
		c.Close()
	}
	p.idle = nil
}

// rows is a query result copied out of the driver's buffers.
type rows struct {
	cols []string
	data [][]string
	null [][]bool
}

func (rs *rows) col(name string) int {
	for i, c := range rs.cols {
		if strings.EqualFold(c, name) {
			return i
		}
	}
	return -1
}

func (rs *rows) get(row int, name string) string {
	if i := rs.col(name); i >= 0 {
		return rs.data[row][i]
	}
	return ""
}

func (rs *rows) i64(row, col int) int64 {
	n, _ := strconv.ParseInt(rs.data[row][col], 10, 64)
	return n
}

// query runs one statement on a pooled connection.
func (r *runner) query(sql string) (*rows, error) {
	c, err := r.pool.get(r.ctx)
	if err != nil {
		return nil, err
	}
	rs, err := queryOn(c, sql)
	r.pool.put(c, err)
	return rs, err
}

func queryOn(c *client.Conn, sql string) (*rows, error) {
	res, err := c.Execute(sql)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	out := &rows{}
	if res.Resultset == nil {
		return out, nil
	}
	for _, f := range res.Fields {
		out.cols = append(out.cols, string(f.Name))
	}
	for i := 0; i < res.RowNumber(); i++ {
		row := make([]string, res.ColumnNumber())
		nulls := make([]bool, res.ColumnNumber())
		for j := range row {
			if n, _ := res.IsNull(i, j); n {
				nulls[j] = true
				continue
			}
			s, _ := res.GetString(i, j)
			row[j] = strings.Clone(s)
		}
		out.data = append(out.data, row)
		out.null = append(out.null, nulls)
	}
	return out, nil
}

// srcState is what the source checks share: the connection outcome and lazily loaded, bulk
// catalog reads.
type srcState struct {
	ready   chan struct{}
	connErr error
	addr    string

	vars    func() (map[string]string, error)
	grants  func() (*grants, error)
	tables  func() (map[string]*tableRow, error)
	keyed   func() (map[string]bool, error)
	columns func() (map[string][]columnRow, error)
}

type tableRow struct {
	db, name, typ, engine string
	rows, avgRowLen       int64
}

func (t *tableRow) ref() string { return t.db + "." + t.name }

type columnRow struct {
	name, dataType, columnType, nullable, extra, charset, collation, comment string
	def                                                                      *string
	octets                                                                   int64
}

func tableKey(db, table string) string { return strings.ToLower(db) + "\x00" + strings.ToLower(table) }

func newSrcState(r *runner) *srcState {
	s := &srcState{ready: make(chan struct{})}
	m := &r.t.Source.MySQL
	s.addr = net.JoinHostPort(m.Host, strconv.Itoa(m.Port))
	dbs := selectedDatabases(r.t)
	s.vars = sync.OnceValues(func() (map[string]string, error) {
		rs, err := r.query(`SHOW GLOBAL VARIABLES WHERE Variable_name IN ('version','version_comment','log_bin',
			'log_bin_basename','binlog_format','binlog_row_image','binlog_row_metadata','expire_logs_days',
			'binlog_expire_logs_seconds','binlog_expire_logs_auto_purge','server_id','log_slave_updates',
			'log_replica_updates','read_only','gtid_mode','lower_case_table_names')`)
		if err != nil {
			return nil, fmt.Errorf("read server variables: %w", err)
		}
		out := map[string]string{}
		for _, row := range rs.data {
			out[strings.ToLower(row[0])] = row[1]
		}
		return out, nil
	})
	s.grants = sync.OnceValues(func() (*grants, error) {
		c, err := r.pool.get(r.ctx)
		if err != nil {
			return nil, err
		}
		cu, err := queryOn(c, "SELECT CURRENT_USER()")
		if err != nil {
			r.pool.put(c, err)
			return nil, fmt.Errorf("SELECT CURRENT_USER(): %w", err)
		}
		gr, err := queryOn(c, "SHOW GRANTS")
		r.pool.put(c, err)
		if err != nil {
			return nil, fmt.Errorf("SHOW GRANTS: %w", err)
		}
		account := "'" + r.t.Source.User + "'@'%'"
		if len(cu.data) > 0 {
			account = accountOf(cu.data[0][0])
		}
		var lines []string
		for _, row := range gr.data {
			lines = append(lines, row[0])
		}
		return parseGrants(account, lines), nil
	})
	s.tables = sync.OnceValues(func() (map[string]*tableRow, error) {
		rs, err := r.query(`SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, IFNULL(ENGINE,''), IFNULL(TABLE_ROWS,0), IFNULL(AVG_ROW_LENGTH,0)
			FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (` + inList(dbs) + `)`)
		if err != nil {
			return nil, fmt.Errorf("read information_schema.TABLES: %w", err)
		}
		out := map[string]*tableRow{}
		for i, row := range rs.data {
			t := &tableRow{db: row[0], name: row[1], typ: row[2], engine: row[3], rows: rs.i64(i, 4), avgRowLen: rs.i64(i, 5)}
			out[tableKey(t.db, t.name)] = t
		}
		return out, nil
	})
	s.keyed = sync.OnceValues(func() (map[string]bool, error) {
		// A primary key, or a unique key whose columns are all NOT NULL. STATISTICS alone (no
		// join: MariaDB materialises joined information_schema tables on disk).
		rs, err := r.query(`SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
			WHERE NON_UNIQUE = 0 AND TABLE_SCHEMA IN (` + inList(dbs) + `)`)
		if err != nil {
			return nil, fmt.Errorf("read keys from information_schema.STATISTICS: %w", err)
		}
		cols, err := s.columns()
		if err != nil {
			return nil, err
		}
		nullable := map[string]bool{}
		for k, cs := range cols {
			for _, c := range cs {
				if c.nullable != "NO" {
					nullable[k+"\x00"+strings.ToLower(c.name)] = true
				}
			}
		}
		type index struct{ table, name string }
		ok := map[index]bool{}
		for _, row := range rs.data {
			k := tableKey(row[0], row[1])
			ix := index{k, row[2]}
			if _, seen := ok[ix]; !seen {
				ok[ix] = true
			}
			if row[2] != "PRIMARY" && nullable[k+"\x00"+strings.ToLower(row[3])] {
				ok[ix] = false
			}
		}
		out := map[string]bool{}
		for ix, good := range ok {
			if good {
				out[ix.table] = true
			}
		}
		return out, nil
	})
	s.columns = sync.OnceValues(func() (map[string][]columnRow, error) {
		rs, err := r.query(`SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT,
			EXTRA, IFNULL(CHARACTER_OCTET_LENGTH,0), IFNULL(CHARACTER_SET_NAME,''), IFNULL(COLLATION_NAME,''), COLUMN_COMMENT
			FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (` + inList(dbs) + `)
			ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`)
		if err != nil {
			return nil, fmt.Errorf("read information_schema.COLUMNS: %w", err)
		}
		out := map[string][]columnRow{}
		for i, row := range rs.data {
			c := columnRow{name: row[2], dataType: strings.ToLower(row[3]), columnType: row[4], nullable: row[5],
				extra: row[7], octets: rs.i64(i, 8), charset: row[9], collation: row[10], comment: row[11]}
			if !rs.null[i][6] {
				d := row[6]
				c.def = &d
			}
			k := tableKey(row[0], row[1])
			out[k] = append(out[k], c)
		}
		return out, nil
	})
	return s
}

func inList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = mysql.QuoteString(v)
	}
	if len(q) == 0 {
		return "''"
	}
	return strings.Join(q, ",")
}

func selectedDatabases(t *task.Task) []string {
	set := map[string]bool{}
	for _, o := range t.Objects {
		set[o.Database] = true
	}
	return sortedKeys(set)
}

// connectSource reports CHECK_CONN_SRC and opens the first pooled connection.
func (r *runner) connectSource() {
	s := r.src
	defer close(s.ready)
	m := &r.t.Source.MySQL
	c, err := mysql.Connect(r.ctx, m)
	if err != nil {
		s.connErr = err
		r.report(connSrcFailed(err, m, s.addr))
		return
	}
	r.pool.add(c)
	ver := mysql.Server(c).Version
	enc := "not encrypted"
	if m.Encryption == "ssl" || m.TLS.Enabled {
		enc = "SSL-encrypted"
	}
	r.report(Item{Code: CodeConnSrc, Result: ResultPassed, Details: []string{
		fmt.Sprintf("connected to %s as %q (%s); the server says %q", s.addr, m.User, enc, ver)}})
}

func connSrcFailed(err error, m *task.MySQL, addr string) Item {
	kind := "other"
	var ce *mysql.ConnError
	if errors.As(err, &ce) {
		kind = ce.Kind
	}
	details := []string{fmt.Sprintf("%s (%s)", err.Error(), kind)}
	var fix string
	switch kind {
	case "refused":
		fix = fmt.Sprintf("Nothing listens on %s: start the MySQL server, or correct the host and port in the task.", addr)
	case "timeout":
		fix = fmt.Sprintf("%s does not answer: check the host and port, that the server runs, and that no firewall or security group drops connections from this machine to port %d.", addr, m.Port)
	case "authentication":
		fix = fmt.Sprintf("Check the account %q and its password; the account must be allowed to connect from this machine, e.g.\nCREATE USER '%s'@'%%' IDENTIFIED BY '…';", m.User, m.User)
	case "certificate":
		fix = "Give the CA file that signed the server certificate (tls.caFile), correct tls.serverName, or — for a test server only — skip verification."
	case "tls":
		fix = "The server and the task disagree about SSL: turn SSL off in the task, or enable SSL on the server (ssl_cert, ssl_key)."
	case "dns":
		fix = fmt.Sprintf("The host name %q cannot be resolved: correct it or use an IP address.", m.Host)
	default:
		fix = "Correct the connection settings of the source and try again."
	}
	return Item{Code: CodeConnSrc, Result: ResultFailed, Details: details, Fix: fix}
}

// flavour is the server product and version, read from the server variables.
type flavour struct {
	mariadb             bool
	major, minor, patch int
	version             string
}

func flavourOf(vars map[string]string) flavour {
	v := vars["version"]
	f := flavour{version: v, mariadb: strings.Contains(strings.ToLower(v+" "+vars["version_comment"]), "mariadb")}
	num := strings.TrimPrefix(v, "5.5.5-") // MariaDB 10.x's replication-compatible prefix
	if i := strings.IndexFunc(num, func(r rune) bool { return r != '.' && (r < '0' || r > '9') }); i >= 0 {
		num = num[:i]
	}
	parts := strings.Split(num, ".")
	at := func(i int) int {
		if i < len(parts) {
			n, _ := strconv.Atoi(parts[i])
			return n
		}
		return 0
	}
	f.major, f.minor, f.patch = at(0), at(1), at(2)
	return f
}

func (f flavour) atLeast(major, minor, patch int) bool {
	if f.major != major {
		return f.major > major
	}
	if f.minor != minor {
		return f.minor > minor
	}
	return f.patch >= patch
}

func (f flavour) name() string {
	n := "MySQL"
	if f.mariadb {
		n = "MariaDB"
	}
	return fmt.Sprintf("%s %d.%d.%d", n, f.major, f.minor, f.patch)
}

func (r *runner) incremental() bool { return r.t.MigrationTypes.Incremental }

const fullOnlyNote = "only needed for incremental migration; this task runs full migration only"

func (r *runner) checkSrcVersion() Item {
	vars, err := r.src.vars()
	if err != nil {
		return failed([]string{err.Error()}, "Let the account read the server variables (SHOW GLOBAL VARIABLES needs no privilege; check that the connection is healthy).")
	}
	f := flavourOf(vars)
	detail := fmt.Sprintf("%s (version %q", f.name(), f.version)
	if c := vars["version_comment"]; c != "" {
		detail += ", " + c
	}
	detail += ")"
	switch {
	case f.mariadb && !f.atLeast(10, 2, 0):
		return warning([]string{detail, "MariaDB versions before 10.2 are not supported: they are untested and lack features Tributary relies on (e.g. information_schema defaults, GTIDs in the current form)"},
			"Upgrade the source to MariaDB 10.2 or later (10.5+ recommended for binlog_row_metadata).")
	case !f.mariadb && !f.atLeast(5, 6, 0):
		return warning([]string{detail, "MySQL versions before 5.6 are not supported: they lack binlog_row_image and GTIDs, and are untested"},
			"Upgrade the source to MySQL 5.6 or later (8.0 recommended).")
	}
	return passed(detail)
}

// checkAuthSrc parses SHOW GRANTS: SELECT on every selected table, REPLICATION SLAVE and
// REPLICATION CLIENT (MariaDB 10.5+: BINLOG MONITOR) for incremental migration, SHOW VIEW.
func (r *runner) checkAuthSrc() Item {
	g, err := r.src.grants()
	if err != nil {
		return failed([]string{err.Error()}, "The account must be able to run SHOW GRANTS for itself (every account can); check the connection.")
	}
	vars, _ := r.src.vars()
	f := flavourOf(vars)
	clientPriv := "REPLICATION CLIENT"
	if f.mariadb && f.atLeast(10, 5, 2) {
		clientPriv = "BINLOG MONITOR"
	}

	var details, stmts []string
	bad := false
	// SELECT on every selected table, grouped by database.
	missingSel := map[string][]string{}
	for _, o := range r.t.Objects {
		if !g.covers("SELECT", o.Database, o.Table) {
			missingSel[o.Database] = append(missingSel[o.Database], o.Table)
		}
	}
	for _, db := range sortedKeys(missingSel) {
		tables := missingSel[db]
		bad = true
		q := make([]string, len(tables))
		for i, t := range tables {
			q[i] = mysql.QuoteName(db) + "." + mysql.QuoteName(t)
		}
		details = append(details, fmt.Sprintf("SELECT is missing on %s", listNames(q, 20)))
		if len(tables) <= 10 {
			for _, t := range q {
				stmts = append(stmts, fmt.Sprintf("GRANT SELECT ON %s TO %s;", t, g.account))
			}
		} else {
			stmts = append(stmts, fmt.Sprintf("GRANT SELECT ON %s.* TO %s;", mysql.QuoteName(db), g.account))
		}
	}
	if len(missingSel) == 0 {
		details = append(details, fmt.Sprintf("SELECT: granted on all %s", plural(len(r.t.Objects), "selected table", "selected tables")))
	}
	// Replication privileges (global only).
	if r.incremental() {
		var missing []string
		if !g.coversGlobal("REPLICATION SLAVE") {
			missing = append(missing, "REPLICATION SLAVE")
		}
		clientAlts := []string{"REPLICATION CLIENT", "BINLOG MONITOR"}
		if !f.mariadb {
			clientAlts = append(clientAlts, "SUPER")
		}
		if !g.coversGlobal(clientAlts...) {
			if clientPriv == "BINLOG MONITOR" {
				missing = append(missing, "BINLOG MONITOR (formerly REPLICATION CLIENT)")
			} else {
				missing = append(missing, "REPLICATION CLIENT")
			}
		}
		if len(missing) > 0 {
			bad = true
			verb := "are"
			if len(missing) == 1 {
				verb = "is"
			}
			details = append(details, fmt.Sprintf("%s %s missing ON *.* (incremental migration reads the binary log)", strings.Join(missing, " and "), verb))
			var privs []string
			for _, p := range missing {
				privs = append(privs, strings.TrimSuffix(p, " (formerly REPLICATION CLIENT)"))
			}
			stmts = append(stmts, fmt.Sprintf("GRANT %s ON *.* TO %s;", strings.Join(privs, ", "), g.account))
		} else {
			details = append(details, fmt.Sprintf("REPLICATION SLAVE and %s: granted ON *.*", clientPriv))
		}
	} else {
		details = append(details, "REPLICATION SLAVE and "+clientPriv+": not needed (full migration only)")
	}
	// SHOW VIEW: DTS asks for it; Tributary migrates tables only, so its absence is a warning.
	var noView []string
	for _, db := range selectedDatabases(r.t) {
		if !g.coversDB("SHOW VIEW", db) {
			noView = append(noView, db)
		}
	}
	viewStmts := []string{}
	for _, db := range noView {
		viewStmts = append(viewStmts, fmt.Sprintf("GRANT SHOW VIEW ON %s.* TO %s;", mysql.QuoteName(db), g.account))
	}
	if len(noView) > 0 {
		details = append(details, fmt.Sprintf("SHOW VIEW is missing on %s (DTS requires it; Tributary reads only tables, so this is a warning)", listNames(noView, 20)))
	}
	if len(g.roles) > 0 {
		details = append(details, fmt.Sprintf("roles granted to the account: %s (their privileges count only while active, e.g. as a default role)", strings.Join(g.roles, ", ")))
	}
	details = append(details, "SHOW GRANTS for "+g.account+":")
	for _, l := range g.lines {
		details = append(details, "  "+l)
	}
	switch {
	case bad:
		return failed(details, "Run as an administrator:\n"+strings.Join(append(stmts, viewStmts...), "\n"))
	case len(noView) > 0:
		return warning(details, "Run as an administrator:\n"+strings.Join(viewStmts, "\n"))
	}
	return passed(details...)
}

func isOn(v string) bool { return strings.EqualFold(v, "ON") || v == "1" }

func (r *runner) varsOrFail() (map[string]string, flavour, *Item) {
	vars, err := r.src.vars()
	if err != nil {
		it := failed([]string{err.Error()}, "Check the source connection; SHOW GLOBAL VARIABLES needs no privilege.")
		return nil, flavour{}, &it
	}
	return vars, flavourOf(vars), nil
}

// myCnf renders the my.cnf lines every binlog fix ends with.
func myCnf(lines ...string) string {
	return "and add to the [mysqld] section of my.cnf so it survives a restart:\n[mysqld]\n" + strings.Join(lines, "\n")
}

func (r *runner) checkBinlogOn() Item {
	vars, f, bad := r.varsOrFail()
	if bad != nil {
		return *bad
	}
	v := vars["log_bin"]
	detail := "log_bin = " + v
	if isOn(v) {
		if b := vars["log_bin_basename"]; b != "" {
			detail += " (" + b + ".*)"
		}
		return passed(detail)
	}
	if !r.incremental() {
		return passed(detail, fullOnlyNote)
	}
	lines := []string{"log_bin = mysql-bin", "server_id = 1", "binlog_format = ROW", "binlog_row_image = FULL"}
	if f.mariadb && f.atLeast(10, 5, 0) || !f.mariadb && f.atLeast(8, 0, 1) {
		lines = append(lines, "binlog_row_metadata = FULL")
	}
	return failed([]string{detail, "incremental migration reads the binary log, which is off"},
		"Binary logging cannot be turned on at runtime. Add to the [mysqld] section of my.cnf and restart the server:\n[mysqld]\n"+strings.Join(lines, "\n"))
}

func (r *runner) checkBinlogMode() Item {
	vars, _, bad := r.varsOrFail()
	if bad != nil {
		return *bad
	}
	v := vars["binlog_format"]
	detail := "binlog_format = " + v
	if strings.EqualFold(v, "ROW") {
		return passed(detail)
	}
	if !r.incremental() {
		return passed(detail, fullOnlyNote)
	}
	return failed([]string{detail, "incremental migration needs row events: with STATEMENT or MIXED the binary log holds SQL text, not the changed rows"},
		"SET GLOBAL binlog_format = 'ROW';\n-- sessions opened before keep their format: reconnect the applications (or restart the server)\n"+myCnf("binlog_format = ROW"))
}

func (r *runner) checkBinlogRowImage() Item {
	vars, _, bad := r.varsOrFail()
	if bad != nil {
		return *bad
	}
	v, ok := vars["binlog_row_image"]
	if !ok {
		return passed("this server has no binlog_row_image (before MySQL 5.6): it always logs full row images")
	}
	detail := "binlog_row_image = " + v
	if strings.EqualFold(v, "FULL") {
		return passed(detail)
	}
	if !r.incremental() {
		return passed(detail, fullOnlyNote)
	}
	return failed([]string{detail, "with MINIMAL or NOBLOB, UPDATE and DELETE events lack the columns that did not change, so complete before and after images cannot be sent"},
		"SET GLOBAL binlog_row_image = 'FULL';\n-- sessions opened before keep their setting: reconnect the applications (or restart the server)\n"+myCnf("binlog_row_image = FULL"))
}

func (r *runner) checkBinlogMetadata() Item {
	vars, f, bad := r.varsOrFail()
	if bad != nil {
		return *bad
	}
	v, ok := vars["binlog_row_metadata"]
	if !r.incremental() {
		if !ok {
			return passed("this server has no binlog_row_metadata", fullOnlyNote)
		}
		return passed("binlog_row_metadata = "+v, fullOnlyNote)
	}
	if !ok {
		return warning([]string{fmt.Sprintf("%s has no binlog_row_metadata (MariaDB 10.5+ and MySQL 8.0.1+ have it)", f.name()),
			"row events then carry no column names: the schema is then rebuilt from the binlog's DDL (and the catalog at start), so a DDL the reader misses can misalign columns"},
			"Upgrade the source to MariaDB 10.5+ or MySQL 8.0.1+ and set binlog_row_metadata = FULL, or accept the risk (do not change table schemas while the task runs).")
	}
	detail := "binlog_row_metadata = " + v
	if strings.EqualFold(v, "FULL") {
		return passed(detail)
	}
	return warning([]string{detail, "row events carry no column names: the schema is then rebuilt from the binlog's DDL (and the catalog at start), so a DDL the reader misses can misalign columns",
		"nor ENUM/SET members: an ENUM or SET member with a 4-byte character (an emoji) reads as '?' in the server's own metadata, and changes then carry '?' for it"},
		"SET GLOBAL binlog_row_metadata = 'FULL';\n"+myCnf("binlog_row_metadata = FULL"))
}

// retention returns how long binary logs are kept (0 = never purged) and a description.
func retention(vars map[string]string) (time.Duration, string) {
	var desc []string
	if v, ok := vars["binlog_expire_logs_auto_purge"]; ok {
		desc = append(desc, "binlog_expire_logs_auto_purge = "+v)
		if !isOn(v) {
			return 0, strings.Join(desc, ", ")
		}
	}
	var secs float64
	if v, ok := vars["binlog_expire_logs_seconds"]; ok {
		desc = append(desc, "binlog_expire_logs_seconds = "+v)
		secs, _ = strconv.ParseFloat(v, 64)
	}
	if v, ok := vars["expire_logs_days"]; ok {
		desc = append(desc, "expire_logs_days = "+v)
		if secs == 0 {
			d, _ := strconv.ParseFloat(v, 64)
			secs = d * 86400
		}
	}
	return time.Duration(secs * float64(time.Second)), strings.Join(desc, ", ")
}

// estimatedFull is the expected full-migration time (0 = unknown or no full migration).
func (r *runner) estimatedFull() (time.Duration, string) {
	if !r.t.MigrationTypes.Full {
		return 0, ""
	}
	if r.opts.EstimatedFullDuration > 0 {
		return r.opts.EstimatedFullDuration, "the estimated full migration time"
	}
	tables, err := r.src.tables()
	if err != nil {
		return 0, ""
	}
	var n int64
	for _, o := range r.t.Objects {
		if t := tables[tableKey(o.Database, o.Table)]; t != nil {
			n += t.rows
		}
	}
	d := time.Duration(float64(n) / fullRowsPerSecond * float64(time.Second))
	return d, fmt.Sprintf("the estimated full migration time (about %d rows at ~%d rows/s)", n, fullRowsPerSecond)
}

func (r *runner) checkBinlogRetention() Item {
	vars, _, bad := r.varsOrFail()
	if bad != nil {
		return *bad
	}
	keep, desc := retention(vars)
	if keep == 0 {
		return passed(desc, "binary logs are never purged automatically")
	}
	details := []string{desc, "binary logs are kept " + humanDuration(keep)}
	if !r.incremental() {
		return passed(append(details, fullOnlyNote)...)
	}
	const week = 7 * 24 * time.Hour
	want := week
	var problems []string
	if keep < week {
		problems = append(problems, "that is shorter than the 7 days DTS requires for self-managed sources: if the task stops for longer, the binary logs it needs are purged and it must start again from full migration")
	}
	if est, what := r.estimatedFull(); est > 0 && keep < est {
		problems = append(problems, fmt.Sprintf("that is shorter than %s, %s: binary logs written during full migration could be purged before incremental migration reads them", what, humanDuration(est)))
		if est*2 > want {
			want = est * 2
		}
	}
	if len(problems) == 0 {
		return passed(details...)
	}
	days := int((want + 24*time.Hour - 1) / (24 * time.Hour))
	var fix string
	if _, ok := vars["binlog_expire_logs_seconds"]; ok {
		fix = fmt.Sprintf("SET GLOBAL binlog_expire_logs_seconds = %d;\n", days*86400) + myCnf(fmt.Sprintf("binlog_expire_logs_seconds = %d", days*86400))
	} else {
		fix = fmt.Sprintf("SET GLOBAL expire_logs_days = %d;\n", days) + myCnf(fmt.Sprintf("expire_logs_days = %d", days))
	}
	return warning(append(details, problems...), fix)
}

func (r *runner) checkBinlogExist() Item {
	pos := r.opts.ResumePosition
	if pos.IsZero() {
		return passed("the task has no position to resume from: incremental migration starts at the binary log position taken when the task starts")
	}
	if pos.File == "" {
		return passed(fmt.Sprintf("the task resumes from the GTID set %s; the server checks that its binary logs still hold it when the binlog reader connects", pos.GTID))
	}
	rs, err := r.query("SHOW BINARY LOGS")
	if err != nil {
		vars, _ := r.src.vars()
		f := flavourOf(vars)
		priv := "REPLICATION CLIENT"
		if f.mariadb && f.atLeast(10, 5, 2) {
			priv = "BINLOG MONITOR"
		}
		return failed([]string{"SHOW BINARY LOGS failed: " + err.Error()},
			fmt.Sprintf("Turn binary logging on, and let the account list them:\nGRANT %s ON *.* TO '%s'@'%%';", priv, r.t.Source.User))
	}
	var names []string
	for i, row := range rs.data {
		names = append(names, row[0])
		if row[0] == pos.File {
			size := rs.i64(i, 1)
			if i < len(rs.data)-1 && uint64(size) < pos.Offset {
				return failed([]string{fmt.Sprintf("the task resumes from %s, but %s holds only %d bytes", pos, pos.File, size)},
					"The binary log does not match the task's checkpoint (was the server rebuilt?): restart the task from full migration.")
			}
			return passed(fmt.Sprintf("the task resumes from %s; %s is still on the server (%d bytes; the server keeps %s … %s)", pos, pos.File, size, rs.data[0][0], rs.data[len(rs.data)-1][0]))
		}
	}
	avail := "none"
	if len(names) > 0 {
		avail = names[0] + " … " + names[len(names)-1]
	}
	return failed([]string{fmt.Sprintf("the task would resume from %s, but that binary log is no longer on the server (available: %s)", pos, avail)},
		"The binary logs the task needs have been purged: restart the task from full migration (reset its progress), and keep binary logs longer (see the binlog retention item).")
}

func (r *runner) checkServerID() Item {
	vars, _, bad := r.varsOrFail()
	if bad != nil {
		return *bad
	}
	v := vars["server_id"]
	id, _ := strconv.ParseUint(v, 10, 32)
	detail := "server_id = " + v
	if !r.incremental() {
		return passed(detail, fullOnlyNote)
	}
	if id == 0 {
		return failed([]string{detail, "a server with server_id 0 refuses binlog readers"},
			"SET GLOBAL server_id = 2;\n"+myCnf("server_id = 2"))
	}
	if sid := r.t.Source.ServerID; sid != 0 && uint64(sid) == id {
		return failed([]string{detail, fmt.Sprintf("the task's binlog reader announces serverId %d, the same as the source's own server_id", sid)},
			"Set $.source.serverId to a value no server in the replication topology uses (or 0 to derive one from the task).")
	}
	return passed(detail)
}

// replicaStatus returns "" when the server is not a replica, else a description of its primary.
func (r *runner) replicaStatus(f flavour) (string, error) {
	stmts := []string{"SHOW REPLICA STATUS", "SHOW SLAVE STATUS"}
	if f.mariadb {
		stmts = []string{"SHOW ALL SLAVES STATUS", "SHOW SLAVE STATUS"}
	}
	var lastErr error
	for _, s := range stmts {
		rs, err := r.query(s)
		if err != nil {
			lastErr = err
			continue
		}
		if len(rs.data) == 0 {
			return "", nil
		}
		var primaries []string
		for i := range rs.data {
			host := rs.get(i, "Source_Host") + rs.get(i, "Master_Host")
			port := rs.get(i, "Source_Port") + rs.get(i, "Master_Port")
			primaries = append(primaries, net.JoinHostPort(host, port))
		}
		return strings.Join(primaries, ", "), nil
	}
	return "", lastErr
}

func (r *runner) checkLogSlaveUpdates() Item {
	vars, f, bad := r.varsOrFail()
	if bad != nil {
		return *bad
	}
	name := "log_slave_updates"
	v, ok := vars["log_replica_updates"]
	if ok {
		name = "log_replica_updates"
	} else {
		v = vars["log_slave_updates"]
	}
	detail := name + " = " + v
	if !r.incremental() {
		return passed(detail, fullOnlyNote)
	}
	if isOn(v) {
		return passed(detail)
	}
	fix := name + " cannot be changed at runtime. Add to the [mysqld] section of my.cnf and restart the server:\n[mysqld]\n" + name + " = ON"
	primary, err := r.replicaStatus(f)
	switch {
	case err == nil && primary != "":
		return warning([]string{detail, "the source is a replica of " + primary + ": changes it applies from its primary are not written to its own binary log, so Tributary would miss them"}, fix)
	case isOn(vars["read_only"]):
		d := []string{detail, "read_only = ON: if this server is a replica, or part of a dual-primary cluster, changes it applies from another server are not written to its own binary log, so Tributary would miss them"}
		if err != nil {
			d = append(d, "replica status could not be read: "+err.Error())
		}
		return warning(d, fix)
	case err != nil:
		return passed(detail, "replica status could not be read ("+err.Error()+"); if this server is a replica or part of a dual-primary cluster, turn "+name+" ON")
	}
	return passed(detail, "the source is not a replica")
}

// selectedTables resolves the selected objects against information_schema.TABLES.
// selectedColumns returns the selected tables and the columns of every table, or the failed
// item to report when information_schema cannot be read.
func (r *runner) selectedColumns() ([]*tableRow, map[string][]columnRow, *Item) {
	found, _, err := r.selectedTables()
	if err == nil {
		var cols map[string][]columnRow
		if cols, err = r.src.columns(); err == nil {
			return found, cols, nil
		}
	}
	it := failed([]string{err.Error()}, "Let the account read information_schema.")
	return nil, nil, &it
}

func (r *runner) selectedTables() ([]*tableRow, []string, error) {
	tables, err := r.src.tables()
	if err != nil {
		return nil, nil, err
	}
	var found []*tableRow
	var missing []string
	for _, o := range r.t.Objects {
		if t := tables[tableKey(o.Database, o.Table)]; t != nil {
			found = append(found, t)
		} else {
			missing = append(missing, o.Database+"."+o.Table)
		}
	}
	return found, missing, nil
}

func (r *runner) checkTableExist() Item {
	found, missing, err := r.selectedTables()
	if err != nil {
		return failed([]string{err.Error()}, "Let the account read information_schema (it needs a privilege on the tables, e.g. SELECT).")
	}
	var views []string
	for _, t := range found {
		if strings.Contains(strings.ToUpper(t.typ), "VIEW") {
			views = append(views, t.ref())
		}
	}
	var details []string
	if len(missing) > 0 {
		details = append(details, fmt.Sprintf("not found in information_schema.TABLES: %s (the table does not exist, or the account has no privilege on it)", listNames(missing, 50)))
	}
	if len(views) > 0 {
		details = append(details, fmt.Sprintf("views, not tables: %s (only tables can be migrated, as in DTS)", listNames(views, 50)))
	}
	if len(details) > 0 {
		return failed(details, "Create the missing tables or correct their names, remove them (and any views) from the task, or — if they exist — grant the account SELECT on them.")
	}
	return passed(fmt.Sprintf("all %s exist", plural(len(found), "selected table", "selected tables")))
}

func (r *runner) checkEngine() Item {
	found, _, err := r.selectedTables()
	if err != nil {
		return failed([]string{err.Error()}, "Let the account read information_schema.")
	}
	counts := map[string]int{}
	var bad []string
	var stmts []string
	for _, t := range found {
		if strings.Contains(strings.ToUpper(t.typ), "VIEW") {
			continue
		}
		counts[t.engine]++
		switch strings.ToUpper(t.engine) {
		case "FEDERATED", "MRG_MYISAM", "MERGE":
			bad = append(bad, fmt.Sprintf("%s (ENGINE=%s)", t.ref(), t.engine))
			if strings.EqualFold(t.engine, "FEDERATED") {
				stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s.%s ENGINE=InnoDB;  -- copies the remote rows into a local table", mysql.QuoteName(t.db), mysql.QuoteName(t.name)))
			} else {
				stmts = append(stmts, fmt.Sprintf("-- %s.%s: select the MyISAM tables it merges instead", mysql.QuoteName(t.db), mysql.QuoteName(t.name)))
			}
		}
	}
	var summary []string
	for _, e := range sortedKeys(counts) {
		summary = append(summary, fmt.Sprintf("%s: %d", e, counts[e]))
	}
	if len(bad) == 0 {
		return passed("engines of the selected tables: " + strings.Join(summary, ", "))
	}
	details := []string{"unsupported engines: " + listNames(bad, 50),
		"FEDERATED and MRG_MyISAM tables hold no rows of their own: changes reach the binary log under the underlying tables' names (or not at all), so incremental migration cannot follow them"}
	fix := "Remove these tables from the task, or convert them:\n" + strings.Join(capLines(stmts, 20), "\n")
	if r.incremental() {
		return failed(details, fix)
	}
	return warning(append(details, "full migration reads them with SELECT, which works"), fix)
}

func (r *runner) checkPrimaryKey() Item {
	found, _, err := r.selectedTables()
	if err != nil {
		return failed([]string{err.Error()}, "Let the account read information_schema.")
	}
	keyed, err := r.src.keyed()
	if err != nil {
		return failed([]string{err.Error()}, "Let the account read information_schema.")
	}
	var bad, stmts []string
	for _, t := range found {
		if strings.Contains(strings.ToUpper(t.typ), "VIEW") || keyed[tableKey(t.db, t.name)] {
			continue
		}
		bad = append(bad, t.ref())
		stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s.%s ADD PRIMARY KEY (<columns that identify a row>);", mysql.QuoteName(t.db), mysql.QuoteName(t.name)))
	}
	if len(bad) == 0 {
		return passed(fmt.Sprintf("all %s have a primary key or a NOT NULL unique key", plural(len(found), "selected table", "selected tables")))
	}
	details := []string{"without a primary key or NOT NULL unique key: " + listNames(bad, 50),
		"duplicates possible: a retried or resumed batch cannot be told apart from new rows; full migration of these tables is not resumable (read in one pass)"}
	if r.t.PartitionPolicy == "hash-primary-key" {
		details = append(details, "with the primary-key hash policy, all their rows go to partition 0")
	}
	return warning(details, "Add a primary key (or a unique key over NOT NULL columns) to each table, e.g.\n"+strings.Join(capLines(stmts, 20), "\n")+"\nor ignore this warning to accept possible duplicates.")
}

func (r *runner) checkInvisibleColumns() Item {
	found, cols, fail := r.selectedColumns()
	if fail != nil {
		return *fail
	}
	vars, _ := r.src.vars()
	f := flavourOf(vars)
	var bad, stmts []string
	for _, t := range found {
		for _, c := range cols[tableKey(t.db, t.name)] {
			if !strings.Contains(strings.ToUpper(c.extra), "INVISIBLE") {
				continue
			}
			bad = append(bad, fmt.Sprintf("%s.%s (%s)", t.ref(), c.name, c.columnType))
			stmts = append(stmts, visibleStatement(f, t, c))
		}
	}
	if len(bad) == 0 {
		return passed("no invisible columns in the selected tables")
	}
	return warning([]string{"invisible columns: " + listNames(bad, 50),
		"SELECT * leaves invisible columns out, so DTS loses their data; Tributary names every column, so their values are migrated, but consumers that rebuild rows from the table definition may not expect them"},
		"Make the columns visible:\n"+strings.Join(capLines(stmts, 30), "\n"))
}

// visibleStatement is the ALTER that makes a column visible: MySQL has ALTER COLUMN … SET
// VISIBLE; MariaDB needs the column redefined without INVISIBLE.
func visibleStatement(f flavour, t *tableRow, c columnRow) string {
	tbl := mysql.QuoteName(t.db) + "." + mysql.QuoteName(t.name)
	if !f.mariadb {
		return fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s SET VISIBLE;", tbl, mysql.QuoteName(c.name))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ALTER TABLE %s MODIFY %s %s", tbl, mysql.QuoteName(c.name), c.columnType)
	if c.charset != "" && c.collation != "" {
		fmt.Fprintf(&b, " CHARACTER SET %s COLLATE %s", c.charset, c.collation)
	}
	var extras []string // EXTRA is e.g. "on update current_timestamp(), INVISIBLE"
	for _, e := range strings.Split(c.extra, ",") {
		if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "INVISIBLE") {
			extras = append(extras, e)
		}
	}
	for _, e := range extras {
		l := strings.ToLower(e)
		if strings.Contains(l, "generated") || l == "virtual" || l == "stored" || l == "persistent" {
			return fmt.Sprintf("-- %s.%s is a generated column: repeat its definition from SHOW CREATE TABLE %s without INVISIBLE", tbl, mysql.QuoteName(c.name), tbl)
		}
	}
	if c.nullable == "NO" {
		b.WriteString(" NOT NULL")
	} else {
		b.WriteString(" NULL")
	}
	if c.def != nil {
		// MariaDB 10.2.7+ reports defaults as SQL expressions ('text', NULL, current_timestamp()).
		fmt.Fprintf(&b, " DEFAULT %s", *c.def)
	}
	for _, e := range extras {
		l := strings.ToLower(e)
		switch {
		case l == "auto_increment":
			b.WriteString(" AUTO_INCREMENT")
		case strings.HasPrefix(l, "on update "):
			b.WriteString(" ON UPDATE " + strings.TrimSpace(e[len("on update "):]))
		}
	}
	if c.comment != "" {
		b.WriteString(" COMMENT " + mysql.QuoteString(c.comment))
	}
	b.WriteString(";")
	return b.String()
}

func (r *runner) checkFilters() Item {
	var refs []mysql.Ref
	filters := map[mysql.Ref]string{}
	for _, o := range r.t.Objects {
		if strings.TrimSpace(o.Filter) == "" {
			continue
		}
		ref := mysql.Ref{Database: o.Database, Table: o.Table}
		refs = append(refs, ref)
		filters[ref] = o.Filter
	}
	if len(refs) == 0 {
		return passed("no filter conditions are set")
	}
	c, err := r.pool.get(r.ctx)
	if err != nil {
		return failed([]string{err.Error()}, "Check the source connection.")
	}
	tables, err := mysql.LoadTables(r.ctx, c, refs)
	if err != nil {
		r.pool.put(c, err)
		return failed([]string{err.Error()}, "Let the account read information_schema.")
	}
	var ok, bad []string
	var lastErr error
	for _, ref := range refs {
		f := filters[ref]
		tbl := tables[ref]
		if tbl == nil {
			ok = append(ok, fmt.Sprintf("%s: not checked, the table does not exist (see the objects item)", ref))
			continue
		}
		if err := mysql.CheckFilter(tbl, f); err != nil {
			bad = append(bad, fmt.Sprintf("%s: filter %q: %v", ref, f, err))
			continue
		}
		if err := mysql.RunFilter(c, tbl, f); err != nil {
			lastErr = err
			bad = append(bad, fmt.Sprintf("%s: filter %q: %v", ref, f, err))
			continue
		}
		ok = append(ok, fmt.Sprintf("%s: %q parses and runs", ref, f))
	}
	r.pool.put(c, lastErr)
	if len(bad) > 0 {
		return failed(append(bad, ok...), "Correct each filter named above: one SQL condition without WHERE and without ';', over the table's own columns, with string literals in single quotes, e.g. id>100 AND city IN ('hangzhou','shanghai').")
	}
	return passed(ok...)
}

package precheck

import (
	"regexp"
	"strings"
)

// grant is one line of SHOW GRANTS that names privileges on an object.
type grant struct {
	privs  map[string]bool // upper case; column-level privileges are left out
	revoke bool            // a partial revoke (MySQL 8 partial_revokes)
	global bool            // ON *.*
	db     string          // database: a LIKE pattern for database-level grants
	table  string          // "" = database level
}

func (g *grant) has(priv string) bool {
	if g.revoke {
		return g.privs[priv]
	}
	return g.privs[priv] || g.privs["ALL PRIVILEGES"] || g.privs["ALL"]
}

// grants is the parsed output of SHOW GRANTS.
type grants struct {
	account string // 'user'@'host' for GRANT statements
	lines   []string
	list    []grant
	roles   []string
}

// parseGrants parses SHOW GRANTS lines (MySQL and MariaDB spellings).
func parseGrants(account string, lines []string) *grants {
	g := &grants{account: account}
	for _, l := range lines {
		g.lines = append(g.lines, redactGrant(l))
		if gr, role, ok := parseGrantLine(l); ok {
			if role != "" {
				g.roles = append(g.roles, role)
			} else {
				g.list = append(g.list, gr)
			}
		}
	}
	return g
}

// redactGrant cuts the password hash off a SHOW GRANTS line.
func redactGrant(l string) string {
	if i := indexTop(l, " IDENTIFIED "); i >= 0 {
		return l[:i] + " IDENTIFIED BY PASSWORD '…'"
	}
	return l
}

// parseGrantLine reads "GRANT privs ON object TO account" (or a partial "REVOKE … FROM"). A
// role grant ("GRANT `r` TO `u`") returns the role name.
func parseGrantLine(line string) (g grant, role string, ok bool) {
	s := strings.TrimSpace(line)
	switch {
	case hasPrefixFold(s, "GRANT "):
		s = s[len("GRANT "):]
	case hasPrefixFold(s, "REVOKE "):
		s = s[len("REVOKE "):]
		g.revoke = true
	default:
		return g, "", false
	}
	on := indexTop(s, " ON ")
	if on < 0 {
		if to := indexTop(s, " TO "); to >= 0 && !g.revoke {
			return g, strings.TrimSpace(s[:to]), true
		}
		return g, "", false
	}
	privPart, rest := s[:on], s[on+len(" ON "):]
	end := indexTop(rest, " TO ")
	if g.revoke {
		end = indexTop(rest, " FROM ")
	}
	if end < 0 {
		return g, "", false
	}
	obj := strings.TrimSpace(rest[:end])
	for _, kind := range []string{"FUNCTION ", "PROCEDURE ", "PACKAGE "} {
		if hasPrefixFold(obj, kind) {
			return g, "", false
		}
	}
	if hasPrefixFold(obj, "TABLE ") {
		obj = strings.TrimSpace(obj[len("TABLE "):])
	}
	g.privs = map[string]bool{}
	for _, p := range splitTop(privPart, ',') {
		p = strings.TrimSpace(p)
		if p == "" || strings.Contains(p, "(") { // column-level: SELECT (a, b)
			continue
		}
		g.privs[strings.ToUpper(strings.Join(strings.Fields(p), " "))] = true
	}
	parts := splitTop(obj, '.')
	switch {
	case obj == "*.*":
		g.global = true
	case len(parts) == 2 && strings.TrimSpace(parts[1]) == "*":
		g.db = unquoteIdent(parts[0])
	case len(parts) == 2:
		g.db, g.table = unquoteIdent(parts[0]), unquoteIdent(parts[1])
		g.db = unescapeLike(g.db)
	default:
		return g, "", false // "ON *" (the current database) and unknown shapes
	}
	return g, "", true
}

// covers reports whether the grants give priv (or ALL) on db.table.
func (gs *grants) covers(priv, db, table string) bool {
	for i := range gs.list {
		g := &gs.list[i]
		if g.revoke && g.has(priv) && g.table == "" && !g.global && strings.EqualFold(g.db, db) {
			return false
		}
	}
	for i := range gs.list {
		g := &gs.list[i]
		if g.revoke || !g.has(priv) {
			continue
		}
		switch {
		case g.global:
			return true
		case g.table == "" && likeMatch(g.db, db):
			return true
		case g.table != "" && strings.EqualFold(g.db, db) && strings.EqualFold(g.table, table):
			return true
		}
	}
	return false
}

// coversDB reports whether the grants give priv on the whole database (global or database level).
func (gs *grants) coversDB(priv, db string) bool {
	for i := range gs.list {
		g := &gs.list[i]
		if !g.revoke && g.has(priv) && (g.global || (g.table == "" && likeMatch(g.db, db))) {
			return true
		}
	}
	return false
}

// coversGlobal reports whether any of the privileges is granted ON *.*.
func (gs *grants) coversGlobal(privs ...string) bool {
	for i := range gs.list {
		g := &gs.list[i]
		if !g.global || g.revoke {
			continue
		}
		for _, p := range privs {
			if g.has(p) {
				return true
			}
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// walkTop calls visit with every index of s that lies outside quotes, backticks and
// parentheses, until visit returns false.
func walkTop(s string, visit func(i int) bool) {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			switch {
			case c == '\\' && quote != '`':
				i++
			case c == quote && i+1 < len(s) && s[i+1] == quote:
				i++
			case c == quote:
				quote = 0
			}
			continue
		}
		switch c {
		case '`', '\'', '"':
			quote = c
			continue
		case '(':
			depth++
		case ')':
			depth--
		}
		if depth == 0 && !visit(i) {
			return
		}
	}
}

// indexTop finds kw (case-insensitive) outside quotes, backticks and parentheses.
func indexTop(s, kw string) int {
	at := -1
	walkTop(s, func(i int) bool {
		if hasPrefixFold(s[i:], kw) {
			at = i
			return false
		}
		return true
	})
	return at
}

// splitTop splits s at sep outside quotes, backticks and parentheses.
func splitTop(s string, sep byte) []string {
	var out []string
	start := 0
	walkTop(s, func(i int) bool {
		if s[i] == sep {
			out = append(out, s[start:i])
			start = i + 1
		}
		return true
	})
	return append(out, s[start:])
}

func unquoteIdent(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
	}
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// unescapeLike removes the backslashes of \_ and \% (table-level grants name literal databases).
func unescapeLike(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// likeMatch matches a database name against a database-level grant's LIKE pattern (_ and %
// wildcards, \ escapes), case-insensitively.
func likeMatch(pattern, s string) bool {
	if !strings.ContainsAny(pattern, `_%\`) {
		return strings.EqualFold(pattern, s)
	}
	var b strings.Builder
	b.WriteString(`(?is)^`)
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '\\' && i+1 < len(pattern):
			i++
			b.WriteString(regexp.QuoteMeta(string(pattern[i])))
		case c == '%':
			b.WriteString(`.*`)
		case c == '_':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(s)
}

// accountOf turns CURRENT_USER() ("user@host") into 'user'@'host'.
func accountOf(cu string) string {
	i := strings.LastIndexByte(cu, '@')
	if i < 0 {
		return sqlString(cu)
	}
	return sqlString(cu[:i]) + "@" + sqlString(cu[i+1:])
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

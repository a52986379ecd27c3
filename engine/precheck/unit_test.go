package precheck

import (
	"slices"
	"strings"
	"testing"
	"time"

	"tributary/engine/task"
)

func TestParseGrants(t *testing.T) {
	g := parseGrants("'u'@'%'", []string{
		"GRANT USAGE ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '*ABCDEF'",
		"GRANT SELECT, SHOW VIEW ON `shop`.* TO `u`@`%`",
		"GRANT SELECT ON `crm`.`customers` TO `u`@`%`",
		"GRANT SELECT (`id`, `name`) ON `crm`.`secrets` TO `u`@`%`",
		"GRANT INSERT ON `log\\_2024`.* TO `u`@`%`",
		"GRANT SELECT ON `arch_%`.* TO `u`@`%`",
		"GRANT EXECUTE ON FUNCTION `shop`.`f` TO `u`@`%`",
		"GRANT `reader` TO `u`@`%`",
		"GRANT PROXY ON ''@'%' TO 'u'@'%'",
	})
	cases := []struct {
		priv, db, table string
		want            bool
	}{
		{"SELECT", "shop", "orders", true},
		{"SHOW VIEW", "shop", "orders", true},
		{"SELECT", "crm", "customers", true},
		{"SELECT", "CRM", "Customers", true},
		{"SELECT", "crm", "orders", false},
		{"SELECT", "crm", "secrets", false}, // column-level only
		{"INSERT", "log_2024", "t", true},
		{"INSERT", "logx2024", "t", false}, // \_ is a literal underscore
		{"SELECT", "arch_2023", "t", true},
		{"SELECT", "arch", "t", false},
		{"REPLICATION SLAVE", "shop", "orders", false},
	}
	for _, c := range cases {
		if got := g.covers(c.priv, c.db, c.table); got != c.want {
			t.Errorf("covers(%s, %s.%s) = %v, want %v", c.priv, c.db, c.table, got, c.want)
		}
	}
	if g.coversGlobal("REPLICATION SLAVE", "SELECT") {
		t.Error("USAGE ON *.* must not cover anything")
	}
	if !slices.Equal(g.roles, []string{"`reader`"}) {
		t.Errorf("roles = %q", g.roles)
	}
	if strings.Contains(strings.Join(g.lines, "\n"), "ABCDEF") {
		t.Errorf("password hash not redacted: %q", g.lines)
	}

	all := parseGrants("'a'@'%'", []string{"GRANT ALL PRIVILEGES ON *.* TO `a`@`%` WITH GRANT OPTION"})
	if !all.coversGlobal("REPLICATION SLAVE") || !all.covers("SELECT", "x", "y") || !all.coversDB("SHOW VIEW", "x") {
		t.Error("ALL PRIVILEGES ON *.* must cover everything")
	}
	// MySQL 8: dynamic privileges and a partial revoke.
	my := parseGrants("'m'@'%'", []string{
		"GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `m`@`%`",
		"GRANT REPLICATION_SLAVE_ADMIN ON *.* TO `m`@`%`",
		"REVOKE SELECT ON `mysql`.* FROM `m`@`%`",
	})
	if !my.coversGlobal("REPLICATION CLIENT") || !my.covers("SELECT", "shop", "t") || my.covers("SELECT", "mysql", "user") {
		t.Error("MySQL 8 grants with a partial revoke misread")
	}
	if got := accountOf("tributary@%"); got != "'tributary'@'%'" {
		t.Errorf("accountOf = %s", got)
	}
}

func TestFlavour(t *testing.T) {
	for _, c := range []struct {
		version, comment string
		maria            bool
		name             string
	}{
		{"10.11.19-MariaDB-0+deb12u1", "Debian 12", true, "MariaDB 10.11.19"},
		{"5.5.5-10.3.39-MariaDB", "", true, "MariaDB 10.3.39"},
		{"8.0.36", "MySQL Community Server - GPL", false, "MySQL 8.0.36"},
		{"5.5.62-log", "", false, "MySQL 5.5.62"},
	} {
		f := flavourOf(map[string]string{"version": c.version, "version_comment": c.comment})
		if f.mariadb != c.maria || f.name() != c.name {
			t.Errorf("%s: %+v %s", c.version, f, f.name())
		}
	}
}

func TestRetention(t *testing.T) {
	for _, c := range []struct {
		vars map[string]string
		want time.Duration
	}{
		{map[string]string{"expire_logs_days": "0"}, 0},
		{map[string]string{"expire_logs_days": "1.000000", "binlog_expire_logs_seconds": "86400"}, 24 * time.Hour},
		{map[string]string{"expire_logs_days": "0", "binlog_expire_logs_seconds": "2592000"}, 30 * 24 * time.Hour},
		{map[string]string{"expire_logs_days": "3"}, 72 * time.Hour},
		{map[string]string{"binlog_expire_logs_seconds": "3600", "binlog_expire_logs_auto_purge": "OFF"}, 0},
	} {
		if got, _ := retention(c.vars); got != c.want {
			t.Errorf("%v: %v, want %v", c.vars, got, c.want)
		}
	}
}

func TestCodesAndPassed(t *testing.T) {
	tk := &task.Task{MigrationTypes: task.MigrationTypes{Full: true}}
	full := Codes(tk)
	tk.MigrationTypes.Incremental = true
	incr := Codes(tk)
	if slices.Contains(full, CodeBinlogExist) || slices.Contains(full, CodeDDLTopic) {
		t.Errorf("full-only codes include incremental-only items: %v", full)
	}
	if !slices.Contains(incr, CodeBinlogExist) || !slices.Contains(incr, CodeDDLTopic) || len(incr) != len(full)+2 {
		t.Errorf("incremental codes: %v", incr)
	}
	if incr[0] != CodeConnSrc || incr[1] != CodeConnDest {
		t.Errorf("connectivity first: %v", incr)
	}
	for _, c := range incr {
		if Name(c) == "" {
			t.Errorf("%s has no name", c)
		}
	}
	p := Item{Result: ResultPassed}
	w := Item{Result: ResultWarning, Ignorable: true}
	wi := Item{Result: ResultWarning, Ignorable: true, Ignored: true}
	f := Item{Result: ResultFailed}
	if !Passed([]Item{p, wi}) || Passed([]Item{p, w}) || Passed([]Item{p, f}) || !Passed(nil) {
		t.Error("Passed")
	}
}

func TestReports(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	items := []Item{
		{Code: CodeConnSrc, Name: Name(CodeConnSrc), Result: ResultPassed, Details: []string{"connected to 127.0.0.1:3306"}},
		{Code: CodeFilter, Name: Name(CodeFilter), Result: ResultFailed, Details: []string{`shop.t: filter "a<b | <script>alert(1)</script>": bad`},
			Fix: "Correct the filter, e.g. ```id>1```"},
		{Code: CodePrimaryKey, Name: Name(CodePrimaryKey), Result: ResultWarning, Ignorable: true, Ignored: true, Details: []string{"without a key: shop.log"}, Fix: "ALTER TABLE …"},
	}
	md := Markdown("orders <sync>", at, items)
	for _, want := range []string{"# Precheck report: orders &lt;sync&gt;", "2026-05-01 12:00:00 UTC", "| 2 | Filter conditions | `CHECK_FILTER` | Failed |",
		"Warning (ignored)", "Not passed", "&lt;script&gt;", "````\nCorrect the filter, e.g. ```id>1```\n````"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "<script>") {
		t.Error("markdown carries raw HTML")
	}
	h := HTML("orders <sync>", at, items)
	for _, want := range []string{"<!DOCTYPE html>", "<title>Precheck report: orders &lt;sync&gt;</title>", "&lt;script&gt;alert(1)&lt;/script&gt;",
		`<td class="badge failed">Failed</td>`, "Warning (ignored)", "<style>", "2026-05-01 12:00:00 UTC"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(h, "<script>") || strings.Contains(h, "http://") || strings.Contains(h, "https://") {
		t.Error("HTML is not self-contained or not escaped")
	}
}

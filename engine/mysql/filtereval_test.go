package mysql

import (
	"testing"

	"tributary/engine/event"
)

func TestFilterEval(t *testing.T) {
	tbl := &event.Table{Database: "d", Name: "t", Columns: []event.Column{
		{Name: "id", DataType: "bigint"}, {Name: "name", DataType: "varchar", Charset: "utf8mb4"},
		{Name: "amount", DataType: "decimal", Scale: 2}, {Name: "created", DataType: "datetime"},
		{Name: "enabled", DataType: "tinyint"}, {Name: "bin", DataType: "varbinary"}, {Name: "d", DataType: "date"},
		{Name: "u", DataType: "bigint", Unsigned: true},
	}}
	row := event.Row{event.Value("7"), event.Value("Alice "), event.Value("10.50"), event.Value("2020-01-01 00:00:00"),
		event.Value("1"), event.Value("AbC"), event.Value("2024-02-29"), event.Value("18446744073709551615")}
	nullRow := event.Row{event.Value("8"), nil, nil, nil, nil, nil, nil, nil}
	cases := []struct {
		filter string
		row    event.Row
		want   bool
	}{
		{"id > 5", row, true},
		{"id > '5'", row, true},
		{"id = 7 AND name = 'alice'", row, true}, // case-insensitive, trailing spaces ignored
		{"name LIKE 'al%'", row, true},
		{"name LIKE 'al_ce'", row, false}, // trailing space is a character for LIKE
		{"name NOT LIKE 'b%'", row, true},
		{"amount = 10.5", row, true},
		{"amount BETWEEN 10 AND 11", row, true},
		{"amount * 2 = 21", row, true},
		{"amount / 0 IS NULL", row, true},
		{"id % 4 = 3", row, true},
		{"id IN (1, 2, 7)", row, true},
		{"id NOT IN (1, 2)", row, true},
		{"id IN (1, NULL)", row, false},
		{"created = '2020-01-01'", row, true},
		{"created > '2019-12-31 23:59:59'", row, true},
		{"d >= '2024-02-01' AND d < '2024-03-01'", row, true},
		{"enabled = 1", row, true},
		{"NOT enabled", row, false},
		{"bin = 'abc'", row, false}, // binary: exact bytes
		{"bin = 'AbC'", row, true},
		{"u = 18446744073709551615", row, true},
		{"u > 18446744073709551614", row, true},
		{"name IS NULL", nullRow, true},
		{"name = 'x'", nullRow, false},
		{"NOT (name = 'x')", nullRow, false}, // unknown stays unknown
		{"name = 'x' OR id = 8", nullRow, true},
		{"amount IS NOT NULL", nullRow, false},
		{"-id < 0", row, true},
		{"(id = 7) XOR (id = 8)", row, true},
		{"enabled IS TRUE", row, true},
	}
	for _, c := range cases {
		f, err := CompileFilter(c.filter)
		if err != nil {
			t.Fatalf("%q: %v", c.filter, err)
		}
		got, err := f.Match(tbl, c.row)
		if err != nil {
			t.Fatalf("%q: %v", c.filter, err)
		}
		if got != c.want {
			t.Errorf("%q = %v, want %v", c.filter, got, c.want)
		}
	}
}

func TestFilterRejected(t *testing.T) {
	for _, f := range []string{"id > 1;", "WHERE id > 1", "id IN (SELECT id FROM x)", "UPPER(name) = 'A'", "@x = 1", "id >", "id > 1 ORDER BY id"} {
		if _, err := CompileFilter(f); err == nil {
			t.Errorf("%q was accepted", f)
		} else {
			t.Logf("%q: %v", f, err)
		}
	}
}

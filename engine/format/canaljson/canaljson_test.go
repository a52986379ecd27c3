package canaljson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"tributary/engine/event"
	"tributary/engine/format"
	"tributary/engine/format/formattest"
)

func newEncoder(t testing.TB, o Options) *Encoder {
	t.Helper()
	o.Now = formattest.Clock
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func encode(t testing.TB, e *Encoder, ev *event.Event) []byte {
	t.Helper()
	b, err := e.Encode(nil, ev)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatalf("invalid JSON: %s", b)
	}
	return b
}

func TestGolden(t *testing.T) {
	variants := []struct {
		suffix string
		opts   Options
		cases  []string // nil = all
	}{
		{"", Options{}, nil},
		{"_oldfull", Options{OldFullImage: true}, []string{"update", "update_nochange"}},
		{"_base64", Options{BinaryEncoding: "base64"}, []string{"init", "insert_extremes"}},
		{"_sqltype_dts", Options{SQLType: "dts"}, []string{"init"}},
		{"_upper", Options{Capitalization: "upper"}, []string{"update", "ddl"}},
		{"_lower", Options{Capitalization: "lower"}, []string{"ddl_database"}},
	}
	for _, v := range variants {
		e := newEncoder(t, v.opts)
		for _, c := range formattest.Cases() {
			if v.cases != nil && !contains(v.cases, c.Name) {
				continue
			}
			name := "canal_" + c.Name + v.suffix + ".json"
			t.Run(name, func(t *testing.T) {
				got := encode(t, e, c.Event)
				formattest.Golden(t, name, append(got, '\n'), nil)
			})
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type message struct {
	Data      []map[string]*string `json:"data"`
	Database  string               `json:"database"`
	Es        int64                `json:"es"`
	GTID      *string              `json:"gtid"`
	ID        int64                `json:"id"`
	IsDdl     bool                 `json:"isDdl"`
	MySQLType map[string]string    `json:"mysqlType"`
	Old       []map[string]*string `json:"old"`
	PKNames   []string             `json:"pkNames"`
	SQL       string               `json:"sql"`
	SQLType   map[string]int       `json:"sqlType"`
	Table     string               `json:"table"`
	Ts        int64                `json:"ts"`
	Type      string               `json:"type"`
}

func decode(t *testing.T, b []byte) (message, []string) {
	t.Helper()
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	var keys []string
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	return m, keys
}

// iso88591 reverses the ISO-8859-1 rendering of binary values.
func iso88591(t *testing.T, s string) []byte {
	var b []byte
	for _, r := range s {
		if r > 0xFF {
			t.Fatalf("rune %U in ISO-8859-1 text", r)
		}
		b = append(b, byte(r))
	}
	return b
}

func TestValues(t *testing.T) {
	tbl := formattest.AllTypes()
	for _, rowName := range []string{"typical", "extremes", "nulls"} {
		var r event.Row
		switch rowName {
		case "typical":
			r = formattest.Typical(tbl)
		case "extremes":
			r = formattest.Extremes(tbl)
		default:
			r = formattest.Nulls(tbl)
		}
		ev := &event.Event{Kind: event.Insert, Table: tbl, After: r}
		for _, enc := range []string{"iso-8859-1", "base64"} {
			m, _ := decode(t, encode(t, newEncoder(t, Options{BinaryEncoding: enc}), ev))
			data := m.Data[0]
			if len(data) != len(tbl.Columns) {
				t.Fatalf("data has %d columns, want %d", len(data), len(tbl.Columns))
			}
			for i, c := range tbl.Columns {
				got, want := data[c.Name], r[i]
				if want == nil {
					if got != nil {
						t.Errorf("%s %s: got %q, want null", rowName, c.Name, *got)
					}
					continue
				}
				if got == nil {
					t.Errorf("%s %s: got null, want %q", rowName, c.Name, want)
					continue
				}
				var gotBytes []byte
				kind := format.KindOf(&c)
				switch {
				case kind.IsBinary() && enc == "base64":
					var err error
					if gotBytes, err = base64.StdEncoding.DecodeString(*got); err != nil {
						t.Fatal(err)
					}
				case kind.IsBinary():
					gotBytes = iso88591(t, *got)
				case c.Charset == "latin1":
					// Back to latin1 through the same table.
					for _, r := range *got {
						found := false
						for b := 0; b < 256; b++ {
							if format.Latin1Rune(byte(b)) == r {
								gotBytes = append(gotBytes, byte(b))
								found = true
								break
							}
						}
						if !found {
							t.Fatalf("rune %U not in latin1", r)
						}
					}
				default:
					gotBytes = []byte(*got)
				}
				if !bytes.Equal(gotBytes, want) {
					t.Errorf("%s %s (%s): got %q, want %q", rowName, c.Name, enc, gotBytes, want)
				}
			}
		}
	}
}

func TestLatin1Text(t *testing.T) {
	m, _ := decode(t, encode(t, newEncoder(t, Options{}), formattest.Cases()[0].Event))
	for col, want := range map[string]string{
		"c_char_latin1":    "café",
		"c_varchar_latin1": "€ \u0081 ÿ",
		"c_text_latin1":    "naïve",
		"c_binary":         "\u0000\u00ff\u007f\"",
	} {
		if got := m.Data[0][col]; got == nil || *got != want {
			t.Errorf("%s = %q, want %q", col, deref(got), want)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestShape(t *testing.T) {
	e := newEncoder(t, Options{})
	rowKeys := []string{"data", "database", "es", "gtid", "id", "isDdl", "mysqlType", "old", "pkNames", "sql", "sqlType", "table", "ts", "type"}
	for _, c := range formattest.Cases() {
		m, keys := decode(t, encode(t, e, c.Event))
		ev := c.Event
		want := rowKeys
		switch {
		case ev.Kind == event.DDL:
			want = []string{"database", "es", "gtid", "id", "isDdl", "sql", "table", "ts", "type"}
		case ev.Kind == event.Delete:
			want = []string{"data", "database", "es", "gtid", "id", "isDdl", "mysqlType", "pkNames", "sql", "sqlType", "table", "ts", "type"}
		}
		if ev.Pos.GTID == "" {
			want = without(want, "gtid")
		}
		if strings.Join(keys, ",") != strings.Join(want, ",") {
			t.Errorf("%s: keys %v, want %v", c.Name, keys, want)
		}
		if m.Ts != formattest.Now.UnixMilli() || m.Es != ev.CommitTime.UnixMilli() || m.ID != int64(ev.Seq) {
			t.Errorf("%s: ts/es/id = %d/%d/%d", c.Name, m.Ts, m.Es, m.ID)
		}
		if ev.Kind == event.DDL {
			if !m.IsDdl || m.Type != "DDL" || m.SQL != ev.SQL || m.Table != ev.TableName || m.Database != ev.Database {
				t.Errorf("%s: %+v", c.Name, m)
			}
			continue
		}
		if m.IsDdl || m.SQL != "" || m.Type != ev.Kind.String() || len(m.Data) != 1 {
			t.Errorf("%s: %+v", c.Name, m)
		}
		if m.MySQLType["c_int_u"] != "int unsigned" || m.MySQLType["c_varchar"] != "varchar" {
			t.Errorf("%s: mysqlType %v", c.Name, m.MySQLType)
		}
		if m.SQLType["id"] != 3 || m.SQLType["c_bigint"] != -5 || m.SQLType["c_int_u"] != -5 ||
			m.SQLType["c_text"] != 2005 || m.SQLType["c_blob"] != 2004 {
			t.Errorf("%s: sqlType %v", c.Name, m.SQLType)
		}
		if strings.Join(m.PKNames, ",") != "id" {
			t.Errorf("%s: pkNames %v", c.Name, m.PKNames)
		}
	}
}

func without(list []string, s string) []string {
	var out []string
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

func TestUpdateOld(t *testing.T) {
	var update *event.Event
	for _, c := range formattest.Cases() {
		if c.Name == "update" {
			update = c.Event
		}
	}
	m, _ := decode(t, encode(t, newEncoder(t, Options{}), update))
	old := m.Old[0]
	var names []string
	for k := range old {
		names = append(names, k)
	}
	if len(old) != 5 || old["c_int"] == nil || *old["c_int"] != "-2000000000" || old["c_varchar"] == nil {
		t.Errorf("old = %v", names)
	}
	if v, ok := m.Data[0]["c_varchar"]; !ok || v != nil {
		t.Errorf("data c_varchar = %v, want null", v)
	}
	m, _ = decode(t, encode(t, newEncoder(t, Options{OldFullImage: true}), update))
	if len(m.Old[0]) != len(update.Table.Columns) {
		t.Errorf("full old has %d columns", len(m.Old[0]))
	}
}

func TestNoPrimaryKey(t *testing.T) {
	tbl := &event.Table{Database: "d", Name: "t", Columns: []event.Column{{Name: "a", DataType: "int"}}}
	b := encode(t, newEncoder(t, Options{}), &event.Event{Kind: event.Insert, Table: tbl, After: event.Row{event.Value("1")}})
	if !bytes.Contains(b, []byte(`"pkNames":null,`)) {
		t.Errorf("%s", b)
	}
}

func TestInvalidUTF8AndEscapes(t *testing.T) {
	tbl := &event.Table{Database: "d\"b", Name: "t\n", Columns: []event.Column{
		{Name: "v\x00", DataType: "varchar", Charset: "utf8mb4"},
		{Name: "g", DataType: "varchar", Charset: "gbk"},
		{Name: "u", DataType: "varchar", Charset: "some-future-charset"},
	}}
	ev := &event.Event{Kind: event.Insert, Table: tbl, After: event.Row{
		event.Value("a\xffb\xc3\x28\x7f\u2028"), event.Value("\xc4\xe3\xba\xc3"), event.Value("\xe9")}}
	b := encode(t, newEncoder(t, Options{}), ev)
	want := `{"data":[{"v\u0000":"a` + "\uFFFD" + `b` + "\uFFFD" + "(\x7f\u2028" + `","g":"你好","u":"é"}],"database":"d\"b"`
	if !bytes.HasPrefix(b, []byte(want)) {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestHeartbeatAndErrors(t *testing.T) {
	e := newEncoder(t, Options{})
	if _, err := e.Encode(nil, &event.Event{Kind: event.Heartbeat}); !errors.Is(err, format.ErrSkip) {
		t.Errorf("heartbeat: %v", err)
	}
	if _, err := e.Encode(nil, &event.Event{Kind: event.Insert}); err == nil {
		t.Error("insert without table: no error")
	}
	tbl := formattest.AllTypes()
	if _, err := e.Encode(nil, &event.Event{Kind: event.Insert, Table: tbl, After: event.Row{nil}}); err == nil {
		t.Error("short row: no error")
	}
	for _, o := range []Options{{SQLType: "x"}, {BinaryEncoding: "hex"}, {Capitalization: "camel"}} {
		if _, err := New(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestAppendsToDst(t *testing.T) {
	e := newEncoder(t, Options{})
	ev := formattest.Bench()
	want := encode(t, e, ev)
	got, err := e.Encode([]byte("prefix"), ev)
	if err != nil || string(got) != "prefix"+string(want) {
		t.Errorf("got %s, %v", got, err)
	}
}

func TestConcurrent(t *testing.T) {
	e := newEncoder(t, Options{})
	cases := formattest.Cases()
	want := make([][]byte, len(cases))
	for i, c := range cases {
		want[i] = encode(t, newEncoder(t, Options{}), c.Event)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for n := 0; n < 50; n++ {
				for i, c := range cases {
					var err error
					buf, err = e.Encode(buf[:0], c.Event)
					if err != nil || !bytes.Equal(buf, want[i]) {
						t.Errorf("%s: concurrent encode differs", c.Name)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkCanalJSON(b *testing.B) {
	e := newEncoder(b, Options{})
	ev := formattest.Bench()
	buf, _ := e.Encode(nil, ev)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		if buf, err = e.Encode(buf[:0], ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
}

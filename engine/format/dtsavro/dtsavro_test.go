package dtsavro

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/linkedin/goavro/v2"

	"tributary/engine/event"
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

// decoders holds the independent readers every message is checked with.
type decoders struct {
	goavro2020, goavro2019 *goavro.Codec
	hamba2020              avro.Schema // writer = reader
	hamba2019              avro.Schema // Record.2019.avsc reading Record.avsc data
}

func newDecoders(t testing.TB) *decoders {
	t.Helper()
	var d decoders
	var err error
	if d.goavro2020, err = goavro.NewCodec(RecordSchema()); err != nil {
		t.Fatal(err)
	}
	if d.goavro2019, err = goavro.NewCodec(RecordSchema2019()); err != nil {
		t.Fatal(err)
	}
	// hamba parses the published files (arrays of named types) directly; the Record type is
	// then taken from the schema cache.
	parse := func(file string) avro.Schema {
		cache := &avro.SchemaCache{}
		if _, err := avro.ParseWithCache(file, "", cache); err != nil {
			t.Fatal(err)
		}
		s := cache.Get(RecordName)
		if s == nil {
			t.Fatal("no Record in schema file")
		}
		if ref, ok := s.(*avro.RefSchema); ok {
			s = ref.Schema()
		}
		return s
	}
	d.hamba2020 = parse(SchemaFile)
	reader2019 := parse(Schema2019File)
	if d.hamba2019, err = avro.NewSchemaCompatibility().Resolve(reader2019, d.hamba2020); err != nil {
		t.Fatal(err)
	}
	return &d
}

// normal turns a decoded native value into plain JSON values, so that the natives of different
// libraries compare.
func normal(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// check decodes msg with every reader, compares the results, and returns goavro's native.
func (d *decoders) check(t *testing.T, msg []byte) map[string]any {
	t.Helper()
	native, rest, err := d.goavro2020.NativeFromBinary(msg)
	if err != nil {
		t.Fatalf("goavro: %v", err)
	}
	if len(rest) != 0 {
		t.Fatalf("goavro: %d bytes left over", len(rest))
	}
	rec := native.(map[string]any)
	want := normal(t, hambaStyle(rec, ""))

	var h any
	if err := avro.Unmarshal(d.hamba2020, msg, &h); err != nil {
		t.Fatalf("hamba (Record.avsc): %v", err)
	}
	if got := normal(t, h); !reflect.DeepEqual(got, want) {
		t.Errorf("hamba (Record.avsc) decodes differently:\n got %v\nwant %v", got, want)
	}

	want2019 := normal(t, hambaStyle(rec, "")).(map[string]any)
	delete(want2019, "bornTimestamp")
	var h19 any
	if err := avro.Unmarshal(d.hamba2019, msg, &h19); err != nil {
		t.Fatalf("hamba (Record.2019.avsc reader): %v", err)
	}
	if got := normal(t, h19); !reflect.DeepEqual(got, any(want2019)) {
		t.Errorf("hamba (Record.2019.avsc reader) decodes differently:\n got %v\nwant %v", got, want2019)
	}

	// A consumer compiled against the 2019 schema (the Java SDK) reads the record with it as
	// both writer and reader schema: everything but the trailing bornTimestamp.
	n19, rest19, err := d.goavro2019.NativeFromBinary(msg)
	if err != nil {
		t.Fatalf("goavro (Record.2019.avsc): %v", err)
	}
	if got := normal(t, hambaStyle(n19, "")); !reflect.DeepEqual(got, any(want2019)) {
		t.Errorf("goavro (Record.2019.avsc) decodes differently:\n got %v\nwant %v", got, want2019)
	}
	if born := appendLong(nil, rec["bornTimestamp"].(int64)); !bytes.Equal(rest19, born) {
		t.Errorf("after the 2019 fields: %x, want bornTimestamp %x", rest19, born)
	}
	return rec
}

// hambaStyle rewrites a goavro native in hamba's convention, which gives the value of a
// two-branch nullable union (objectName, the parts of a DateTime) without its branch name.
func hambaStyle(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 && (key == "objectName" || key == "dateTimePart") {
			for k, inner := range x {
				if k == "string" || k == "int" {
					return inner
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, inner := range x {
			switch {
			case key == Namespace+".DateTime":
				out[k] = hambaStyle(inner, "dateTimePart")
			default:
				out[k] = hambaStyle(inner, k)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, inner := range x {
			out[i] = hambaStyle(inner, "")
		}
		return out
	}
	return v
}

type golden struct {
	Hex    string          `json:"hex"`
	Record json.RawMessage `json:"record"`
}

// goldenFile renders a message as its golden file: the hex of the bytes and goavro's textual
// form of the record, with sorted keys so that the file is stable.
func goldenFile(t *testing.T, msg, text []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var rec any
	if err := dec.Decode(&rec); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(map[string]any{"hex": hex.EncodeToString(msg), "record": rec}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func goldenEqual(want, got []byte) bool {
	var w, g golden
	if json.Unmarshal(want, &w) != nil || json.Unmarshal(got, &g) != nil || w.Hex != g.Hex {
		return false
	}
	var wr, gr any
	if json.Unmarshal(w.Record, &wr) != nil || json.Unmarshal(g.Record, &gr) != nil {
		return false
	}
	return reflect.DeepEqual(wr, gr)
}

func TestGolden(t *testing.T) {
	d := newDecoders(t)
	variants := []struct {
		suffix string
		opts   Options
		cases  []string
	}{
		{"", Options{}, nil},
		{"_textchar", Options{TextAsCharacter: true}, []string{"init"}},
		{"_upper", Options{Capitalization: "upper"}, []string{"update", "ddl"}},
	}
	for _, v := range variants {
		e := newEncoder(t, v.opts)
		cases := formattest.Cases()
		cases = append(cases, formattest.Case{Name: "heartbeat", Event: &event.Event{Kind: event.Heartbeat,
			Pos: cases[1].Event.Pos, SafePos: cases[1].Event.SafePos, CommitTime: cases[1].Event.CommitTime,
			Seq: 10, ServerID: 1, SourceVersion: "8.0.34"}})
		for _, c := range cases {
			if v.cases != nil && !contains(v.cases, c.Name) {
				continue
			}
			name := "avro_" + c.Name + v.suffix + ".json"
			t.Run(name, func(t *testing.T) {
				msg, err := e.Encode(nil, c.Event)
				if err != nil {
					t.Fatal(err)
				}
				native := d.check(t, msg)
				text, err := d.goavro2020.TextualFromNative(nil, native)
				if err != nil {
					t.Fatal(err)
				}
				formattest.Golden(t, name, goldenFile(t, msg, text), goldenEqual)
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

// field returns the decoded value union of the named column in an image.
func field(t *testing.T, rec map[string]any, image, col string) (string, any) {
	t.Helper()
	fields := rec["fields"].(map[string]any)["array"].([]any)
	values := rec[image].(map[string]any)["array"].([]any)
	for i, f := range fields {
		if f.(map[string]any)["name"] == col {
			if values[i] == nil {
				return "null", nil
			}
			for k, v := range values[i].(map[string]any) {
				return strings.TrimPrefix(k, Namespace+"."), v
			}
		}
	}
	t.Fatalf("no column %s", col)
	return "", nil
}

func i32(v int) map[string]any { return map[string]any{"int": int32(v)} }

func TestValues(t *testing.T) {
	d := newDecoders(t)
	e := newEncoder(t, Options{})
	cases := formattest.Cases()
	dec := func(ev *event.Event) map[string]any {
		msg, err := e.Encode(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		return d.check(t, msg)
	}
	typical := dec(cases[0].Event)
	extremes := dec(cases[1].Event)
	nulls := dec(cases[2].Event)
	dt := func(y, mo, da, h, mi, s, us any) map[string]any {
		m := map[string]any{"year": y, "month": mo, "day": da, "hour": h, "minute": mi, "second": s, "millis": us}
		for k, v := range m {
			if v != nil {
				m[k] = i32(v.(int))
			}
		}
		return m
	}
	tests := []struct {
		rec    map[string]any
		col    string
		branch string
		value  any
	}{
		{typical, "id", "Integer", map[string]any{"precision": int32(8), "value": "7"}},
		{typical, "c_tinyint", "Integer", map[string]any{"precision": int32(1), "value": "-8"}},
		{typical, "c_mediumint_u", "Integer", map[string]any{"precision": int32(3), "value": "16000000"}},
		{typical, "c_int", "Integer", map[string]any{"precision": int32(4), "value": "-2000000000"}},
		{extremes, "c_bigint_u", "Integer", map[string]any{"precision": int32(8), "value": "18446744073709551615"}},
		{extremes, "c_bit64", "Integer", map[string]any{"precision": int32(64), "value": "18446744073709551615"}},
		{typical, "c_bit1", "Integer", map[string]any{"precision": int32(1), "value": "1"}},
		{typical, "c_decimal", "Decimal", map[string]any{"precision": int32(65), "scale": int32(30),
			"value": "12345678901234567890123456789012345.123456789012345678901234567890"}},
		{typical, "c_float", "Float", map[string]any{"precision": int32(12), "scale": int32(0), "value": 3.14}},
		{typical, "c_double", "Float", map[string]any{"precision": int32(22), "scale": int32(0), "value": 2.718281828459045}},
		{extremes, "c_float", "Float", map[string]any{"precision": int32(12), "scale": int32(0), "value": -3.4028235e+38}},
		{extremes, "c_double", "Float", map[string]any{"precision": int32(22), "scale": int32(0), "value": math.MaxFloat64}},
		{typical, "c_timestamp6", "Timestamp", map[string]any{"timestamp": int64(1714564800), "millis": int32(1)}},
		{typical, "c_timestamp3", "Timestamp", map[string]any{"timestamp": int64(1714564800), "millis": int32(123000)}},
		{extremes, "c_timestamp0", "Timestamp", map[string]any{"timestamp": int64(0), "millis": int32(0)}},
		{extremes, "c_timestamp1", "Timestamp", map[string]any{"timestamp": int64(1), "millis": int32(0)}},
		{extremes, "c_timestamp6", "Timestamp", map[string]any{"timestamp": int64(2147483647), "millis": int32(999999)}},
		{typical, "c_datetime6", "DateTime", dt(2024, 5, 1, 12, 0, 0, 123456)},
		{typical, "c_datetime1", "DateTime", dt(2024, 5, 1, 12, 0, 0, 100000)},
		{extremes, "c_datetime0", "DateTime", dt(0, 0, 0, 0, 0, 0, 0)},
		{typical, "c_date", "DateTime", dt(2024, 5, 1, nil, nil, nil, nil)},
		{extremes, "c_date", "DateTime", dt(0, 0, 0, nil, nil, nil, nil)},
		{typical, "c_time", "DateTime", dt(nil, nil, nil, 12, 34, 56, 0)},
		{typical, "c_time6", "DateTime", dt(nil, nil, nil, -12, -34, -56, -789)},
		{extremes, "c_time", "DateTime", dt(nil, nil, nil, 838, 59, 59, 0)},
		{extremes, "c_time6", "DateTime", dt(nil, nil, nil, -838, -59, -59, 0)},
		{typical, "c_year", "DateTime", dt(2024, nil, nil, nil, nil, nil, nil)},
		{extremes, "c_year", "DateTime", dt(0, nil, nil, nil, nil, nil, nil)},
		{typical, "c_char", "Character", map[string]any{"charset": "utf8mb4", "value": []byte("héllo 😀")}},
		{typical, "c_char_latin1", "Character", map[string]any{"charset": "latin1", "value": []byte("caf\xe9")}},
		{extremes, "c_varchar", "Character", map[string]any{"charset": "utf8mb4", "value": []byte{}}},
		{typical, "c_binary", "Character", map[string]any{"charset": "binary", "value": []byte{0, 0xFF, 0x7F, '"'}}},
		{typical, "c_varbinary", "Character", map[string]any{"charset": "binary", "value": []byte{0, 0xFF, '\\', '\n', 0x80}}},
		{typical, "c_text", "BinaryObject", map[string]any{"type": "TEXT", "value": []byte("long text 😀\u2028")}},
		{typical, "c_text_latin1", "BinaryObject", map[string]any{"type": "TEXT", "value": []byte("na\xefve")}},
		{typical, "c_blob", "BinaryObject", map[string]any{"type": "BLOB", "value": []byte{0, 0xFF, 1, 0xC3, 0xA9}}},
		{typical, "c_enum", "TextObject", map[string]any{"type": "ENUM", "value": "green"}},
		{typical, "c_set", "TextObject", map[string]any{"type": "SET", "value": "a,c"}},
		{typical, "c_json", "TextObject", map[string]any{"type": "JSON", "value": `{"k": "v\"", "n": [1, 2.5, null], "e": "😀"}`}},
		{typical, "c_point", "BinaryGeometry", map[string]any{"type": "GEOMETRY",
			"value": []byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0, 0, 0, 0, 0, 0, 0, 0x40}}},
		{nulls, "c_json", "null", nil},
		{nulls, "id", "Integer", map[string]any{"precision": int32(8), "value": "9"}},
	}
	for _, tc := range tests {
		branch, v := field(t, tc.rec, "afterImages", tc.col)
		if branch != tc.branch || !reflect.DeepEqual(v, tc.value) {
			t.Errorf("%s: got %s %#v, want %s %#v", tc.col, branch, v, tc.branch, tc.value)
		}
	}

	// Header fields.
	want := map[string]any{
		"version": int32(0), "id": int64(2), "sourceTimestamp": int64(1714564799),
		"sourcePosition": "2924526@143", "safeSourcePosition": "2924372@143", "sourceTxid": "0",
		"source":     map[string]any{"sourceType": "MySQL", "version": "8.0.34"},
		"operation":  "INSERT",
		"objectName": map[string]any{"string": "shop.all_types"}, "processTimestamps": nil,
		"tags": map[string]any{"readerThroughoutTime": "1714564800412", "server_id": "2814094928",
			"pk_uk_info": `{"PRIMARY":["id"],"uk_int_varchar":["c_int","c_varchar"]}`},
		"beforeImages": nil, "bornTimestamp": int64(1714564799000),
	}
	for k, v := range want {
		if !reflect.DeepEqual(extremes[k], v) {
			t.Errorf("%s = %#v, want %#v", k, extremes[k], v)
		}
	}
	if typical["sourcePosition"] != "0@0" || typical["operation"] != "INIT" {
		t.Errorf("INIT header: %v %v", typical["sourcePosition"], typical["operation"])
	}
	fields := extremes["fields"].(map[string]any)["array"].([]any)
	wantNums := map[string]int32{"id": 8, "c_tinyint": 1, "c_smallint": 2, "c_mediumint": 9, "c_int": 3,
		"c_decimal": 246, "c_float": 4, "c_double": 5, "c_bit1": 16, "c_date": 10, "c_time": 11,
		"c_datetime3": 12, "c_timestamp3": 7, "c_year": 13, "c_char": 254, "c_varchar": 253,
		"c_tinytext": 249, "c_text": 252, "c_mediumtext": 250, "c_longtext": 251, "c_binary": 254,
		"c_varbinary": 253, "c_tinyblob": 249, "c_blob": 252, "c_mediumblob": 250, "c_longblob": 251,
		"c_enum": 247, "c_set": 248, "c_json": 245, "c_geometry": 255, "c_point": 255}
	for _, f := range fields {
		m := f.(map[string]any)
		if n, ok := wantNums[m["name"].(string)]; ok && m["dataTypeNumber"] != n {
			t.Errorf("%s dataTypeNumber = %v, want %d", m["name"], m["dataTypeNumber"], n)
		}
	}
}

func TestImagesAndDDL(t *testing.T) {
	d := newDecoders(t)
	e := newEncoder(t, Options{})
	for _, c := range formattest.Cases() {
		msg, err := e.Encode(nil, c.Event)
		if err != nil {
			t.Fatal(err)
		}
		rec := d.check(t, msg)
		before, after := rec["beforeImages"], rec["afterImages"]
		switch c.Event.Kind {
		case event.Init, event.Insert:
			if before != nil || after == nil {
				t.Errorf("%s: images %v %v", c.Name, before, after)
			}
		case event.Update:
			if before == nil || after == nil {
				t.Errorf("%s: images %v %v", c.Name, before, after)
			}
		case event.Delete:
			if before == nil || after != nil {
				t.Errorf("%s: images %v %v", c.Name, before, after)
			}
		case event.DDL:
			if rec["operation"] != "DDL" || rec["fields"] != nil || before != nil ||
				!reflect.DeepEqual(after, map[string]any{"string": c.Event.SQL}) ||
				!reflect.DeepEqual(rec["objectName"], map[string]any{"string": c.Event.Database}) {
				t.Errorf("%s: %v", c.Name, rec)
			}
		}
	}
}

func TestObjectNameEscaping(t *testing.T) {
	d := newDecoders(t)
	tbl := &event.Table{Database: "my.db", Name: "t.1", Columns: []event.Column{{Name: "a.b", DataType: "int"}},
		UniqueKeys: []event.Key{{Name: "u\"k", Columns: []int{0}}}}
	e := newEncoder(t, Options{})
	msg, err := e.Encode(nil, &event.Event{Kind: event.Insert, Table: tbl, After: event.Row{event.Value("1")}})
	if err != nil {
		t.Fatal(err)
	}
	rec := d.check(t, msg)
	if got := rec["objectName"].(map[string]any)["string"]; got != `my\u002Edb.t\u002E1` {
		t.Errorf("objectName %s", got)
	}
	if got := rec["tags"].(map[string]any)["pk_uk_info"]; got != `{"u\"k":["a.b"]}` {
		t.Errorf("pk_uk_info %s", got)
	}
	if _, ok := rec["tags"].(map[string]any)["server_id"]; ok {
		t.Error("server_id tag without a server id")
	}
}

func TestErrors(t *testing.T) {
	e := newEncoder(t, Options{})
	tbl := formattest.AllTypes()
	bad := formattest.Typical(tbl)
	bad[tbl.ColumnIndex("c_datetime3")] = event.Value("yesterday")
	if _, err := e.Encode(nil, &event.Event{Kind: event.Insert, Table: tbl, After: bad}); err == nil ||
		!strings.Contains(err.Error(), "c_datetime3") {
		t.Errorf("bad datetime: %v", err)
	}
	dst := []byte("keep")
	got, err := e.Encode(dst, &event.Event{Kind: event.Insert, Table: tbl, After: bad})
	if err == nil || string(got) != "keep" {
		t.Errorf("failed encode left %q", got)
	}
	if _, err := e.Encode(nil, &event.Event{Kind: event.Update, Table: tbl, After: bad}); err == nil {
		t.Error("update without before image: no error")
	}
	if _, err := e.Encode(nil, &event.Event{Kind: event.Insert}); err == nil {
		t.Error("insert without table: no error")
	}
}

func TestSchemaInlining(t *testing.T) {
	var s map[string]any
	if err := json.Unmarshal([]byte(RecordSchema()), &s); err != nil {
		t.Fatal(err)
	}
	if s["name"] != RecordName || s["type"] != "record" {
		t.Fatalf("schema root %v %v", s["name"], s["type"])
	}
	// The inlined schema has the same canonical form as the Record hamba finds in the file.
	h, err := avro.Parse(RecordSchema())
	if err != nil {
		t.Fatal(err)
	}
	// hamba's canonical form keeps references to types defined outside the record, so compare
	// by resolution both ways and by decoding a message.
	published := newDecoders(t).hamba2020
	sc := avro.NewSchemaCompatibility()
	if err := sc.Compatible(h, published); err != nil {
		t.Error(err)
	}
	if err := sc.Compatible(published, h); err != nil {
		t.Error(err)
	}
	msg, err := newEncoder(t, Options{}).Encode(nil, formattest.Cases()[0].Event)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := avro.Unmarshal(h, msg, &a); err != nil {
		t.Fatal(err)
	}
	if err := avro.Unmarshal(published, msg, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normal(t, a), normal(t, b)) {
		t.Error("inlined schema decodes differently from the published one")
	}
	if strings.Contains(RecordSchema2019(), "bornTimestamp") || !strings.Contains(RecordSchema(), "bornTimestamp") {
		t.Error("schema versions mixed up")
	}
}

func TestConcurrent(t *testing.T) {
	e := newEncoder(t, Options{})
	cases := formattest.Cases()
	want := make([][]byte, len(cases))
	for i, c := range cases {
		var err error
		if want[i], err = newEncoder(t, Options{}).Encode(nil, c.Event); err != nil {
			t.Fatal(err)
		}
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

func BenchmarkDTSAvro(b *testing.B) {
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

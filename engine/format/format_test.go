package format

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"tributary/engine/event"
	// Registers the -update flag, so that go test ./engine/format/... -update works.
	_ "tributary/engine/format/formattest"
)

func TestAppendJSONString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{"q\"b\\s/", `"q\"b\\s/"`},
		{"\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f" + `"`},
		{"é😀\u2028", `"é😀` + "\u2028" + `"`},
		{"a\xffb", `"a` + "\uFFFD" + `b"`},
		{"\xed\xa0\x80", `"` + strings.Repeat("\uFFFD", 3) + `"`}, // a surrogate in UTF-8
		{"<&>", `"<&>"`},
	}
	for _, tc := range tests {
		got := string(AppendJSONString(nil, tc.in))
		if got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.in, got, tc.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("%q: invalid JSON %s", tc.in, got)
		}
	}
	// Every single byte and every pair of bytes gives valid JSON that decodes to the same text
	// as Go's own decoding of the (sanitized) input.
	for a := 0; a < 256; a++ {
		for b := 0; b < 256; b += 7 {
			in := string([]byte{byte(a), byte(b)})
			out := AppendJSONString(nil, in)
			var s string
			if err := json.Unmarshal(out, &s); err != nil {
				t.Fatalf("%q: %v (%s)", in, err, out)
			}
			if want := strings.ToValidUTF8(in, "\uFFFD"); s != want && !strings.Contains(s, "\uFFFD") {
				t.Fatalf("%q: decoded %q, want %q", in, s, want)
			}
		}
	}
}

func TestISO88591AndLatin1(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	var s string
	if err := json.Unmarshal(AppendJSONISO88591(nil, all), &s); err != nil {
		t.Fatal(err)
	}
	i := 0
	for _, r := range s {
		if r != rune(i) {
			t.Fatalf("byte %d decodes to %U", i, r)
		}
		i++
	}
	if i != 256 {
		t.Fatalf("%d runes", i)
	}

	// MySQL latin1 is cp1252 with the five undefined bytes kept as C1 controls.
	latin1 := LookupCharset("latin1")
	if err := json.Unmarshal(AppendJSONText(nil, all, latin1), &s); err != nil {
		t.Fatal(err)
	}
	if string(latin1.AppendUTF8(nil, all)) != s {
		t.Error("AppendJSONText and AppendUTF8 disagree for latin1")
	}
	i = 0
	for _, r := range s {
		want := charmap.Windows1252.DecodeByte(byte(i))
		if want == utf8.RuneError {
			want = rune(i)
		}
		if r != want {
			t.Errorf("latin1 byte %#x decodes to %U, want %U", i, r, want)
		}
		i++
	}
}

func TestCharsets(t *testing.T) {
	tests := []struct {
		charset string
		in      string
		want    string
	}{
		{"utf8mb4", "héllo 😀", "héllo 😀"},
		{"UTF8MB3", "a\xffb", "a\uFFFDb"},
		{"latin1", "caf\xe9 \x80", "café €"},
		{"binary", "\x00\xff", "\u0000\u00ff"},
		{"gbk", "\xc4\xe3\xba\xc3", "你好"},
		{"gb18030", "\x90\x30\x81\x30", "\U00010000"},
		{"big5", "\xa4\xa4", "中"},
		{"sjis", "\x82\xa0", "あ"},
		{"ujis", "\xa4\xa2", "あ"},
		{"euckr", "\xb0\xa1", "가"},
		{"cp1251", "\xcf\xf0\xe8", "При"},
		{"latin2", "\xb1", "ą"},
		{"koi8r", "\xf0", "П"},
		{"ucs2", "\x00A\x26\x3a", "A☺"},
		{"utf16", "\xd8\x3d\xde\x00", "😀"},
		{"utf16le", "A\x00", "A"},
		{"utf32", "\x00\x01\xf6\x00", "😀"},
		{"armscii8", "\xe9", "é"}, // unknown: latin1 fallback
	}
	for _, tc := range tests {
		cs := LookupCharset(tc.charset)
		got := string(cs.AppendUTF8([]byte(">"), []byte(tc.in)))
		if got != ">"+tc.want {
			t.Errorf("%s %q: got %q, want %q", tc.charset, tc.in, got, ">"+tc.want)
		}
		var s string
		if err := json.Unmarshal(AppendJSONText(nil, []byte(tc.in), cs), &s); err != nil || s != tc.want {
			t.Errorf("%s JSON: %q %v", tc.charset, s, err)
		}
	}
}

func TestNames(t *testing.T) {
	tbl := &event.Table{Database: "Shop", Name: "Order_Ä", Columns: []event.Column{{Name: "Id"}, {Name: "ß_x"}}}
	for _, tc := range []struct {
		policy, db, table, col string
	}{
		{"", "Shop", "Order_Ä", "Id"},
		{"dts-default", "Shop", "Order_Ä", "Id"},
		{"source", "Shop", "Order_Ä", "Id"},
		{"upper", "SHOP", "ORDER_Ä", "ID"},
		{"lower", "shop", "order_ä", "id"},
	} {
		n, err := NewNames(tc.policy)
		if err != nil {
			t.Fatal(err)
		}
		tn := n.Table(tbl)
		if tn.Database != tc.db || tn.Table != tc.table || tn.Columns[0] != tc.col {
			t.Errorf("%s: %+v", tc.policy, tn)
		}
		if n.Table(tbl) != tn {
			t.Errorf("%s: names not cached", tc.policy)
		}
		if got := n.Name(tbl.Database); got != tc.db {
			t.Errorf("%s: Name(%s) = %s", tc.policy, tbl.Database, got)
		}
	}
	if _, err := NewNames("camel"); err == nil {
		t.Error("unknown policy accepted")
	}
	// Concurrent first use of one table.
	n, _ := NewNames("upper")
	var wg sync.WaitGroup
	res := make([]*TableNames, 8)
	for i := range res {
		wg.Add(1)
		go func() { defer wg.Done(); res[i] = n.Table(tbl) }()
	}
	wg.Wait()
	for _, r := range res {
		if r != res[0] {
			t.Error("different TableNames for one table")
		}
	}
}

func TestTypeTables(t *testing.T) {
	tests := []struct {
		dataType string
		unsigned bool
		number   int32
		jdbc     int32
		kind     Kind
	}{
		{"tinyint", false, 1, -6, KindInteger},
		{"tinyint", true, 1, 5, KindInteger},
		{"smallint", true, 2, 4, KindInteger},
		{"mediumint", false, 9, 4, KindInteger},
		{"mediumint", true, 9, 4, KindInteger},
		{"int", false, 3, 4, KindInteger},
		{"int", true, 3, -5, KindInteger},
		{"bigint", false, 8, -5, KindInteger},
		{"bigint", true, 8, 3, KindInteger},
		{"decimal", false, 246, 3, KindDecimal},
		{"float", false, 4, 7, KindFloat},
		{"double", false, 5, 8, KindFloat},
		{"bit", false, 16, -7, KindBit},
		{"date", false, 10, 91, KindDate},
		{"time", false, 11, 92, KindTime},
		{"datetime", false, 12, 93, KindDateTime},
		{"timestamp", false, 7, 93, KindTimestamp},
		{"year", false, 13, 12, KindYear},
		{"char", false, 254, 1, KindChar},
		{"varchar", false, 253, 12, KindChar},
		{"tinytext", false, 249, 2005, KindText},
		{"text", false, 252, 2005, KindText},
		{"mediumtext", false, 250, 2005, KindText},
		{"longtext", false, 251, 2005, KindText},
		{"binary", false, 254, 2004, KindBinary},
		{"varbinary", false, 253, 2004, KindBinary},
		{"tinyblob", false, 249, 2004, KindBlob},
		{"blob", false, 252, 2004, KindBlob},
		{"mediumblob", false, 250, 2004, KindBlob},
		{"longblob", false, 251, 2004, KindBlob},
		{"enum", false, 247, 1, KindEnum},
		{"set", false, 248, 1, KindSet},
		{"json", false, 245, 12, KindJSON},
		{"geometry", false, 255, 2004, KindGeometry},
		{"multipolygon", false, 255, 2004, KindGeometry},
		{"VARCHAR", false, 253, 12, KindChar},
	}
	for _, tc := range tests {
		c := &event.Column{DataType: tc.dataType, Unsigned: tc.unsigned}
		if n, j, k := DataTypeNumber(c), JDBCType(c), KindOf(c); n != tc.number || j != tc.jdbc || k != tc.kind {
			t.Errorf("%s unsigned=%v: %d %d %d, want %d %d %d", tc.dataType, tc.unsigned, n, j, k, tc.number, tc.jdbc, tc.kind)
		}
	}
	if got := MySQLTypeName(&event.Column{DataType: "int", Unsigned: true}); got != "int unsigned" {
		t.Error(got)
	}
}

func TestKey(t *testing.T) {
	tbl := &event.Table{Columns: make([]event.Column, 4),
		UniqueKeys: []event.Key{{Name: "a", Columns: []int{1}}, {Name: "b", Columns: []int{2, 3}, NotNull: true}}}
	if k := Key(tbl, nil); len(k) != 2 || k[0] != 2 {
		t.Errorf("not-null unique key: %v", k)
	}
	tbl.UniqueKeys[1].NotNull = false
	if k := Key(tbl, nil); len(k) != 1 || k[0] != 1 {
		t.Errorf("first unique key: %v", k)
	}
	tbl.PrimaryKey = []int{0}
	if k := Key(tbl, nil); len(k) != 1 || k[0] != 0 {
		t.Errorf("primary key: %v", k)
	}
	if k := Key(tbl, []int{3}); len(k) != 1 || k[0] != 3 {
		t.Errorf("chosen key: %v", k)
	}
	if Key(&event.Table{}, nil) != nil {
		t.Error("key of a keyless table")
	}
}

package kafka

import (
	"testing"
	"unicode/utf16"

	"tributary/engine/event"
)

// refHash is Java's String.hashCode written from its definition, s[0]*31^(n-1) + ... + s[n-1]
// over UTF-16 code units, in 64-bit arithmetic truncated to int32 at the end.
func refHash(s string) int32 {
	var h int64
	for _, u := range utf16.Encode([]rune(s)) {
		h = (h*31 + int64(u)) & 0xFFFFFFFF
	}
	return int32(uint32(h))
}

// refPartition is Java's Math.floorMod(hash, n).
func refPartition(s string, n int32) int32 {
	m := int64(refHash(s)) % int64(n)
	if m < 0 {
		m += int64(n)
	}
	return int32(m)
}

func TestJavaHash(t *testing.T) {
	tests := []struct {
		s    string
		want int32
	}{
		{"", 0},
		{"a", 97},
		{"hello", 99162322},
		{"Aa", 2112},
		{"BB", 2112},
		{"polygenelubricants", -2147483648}, // Integer.MIN_VALUE
		{"shop.orders", refHash("shop.orders")},
		{"é", 0xE9},
		{"😀", 0xD83D*31 + 0xDE00}, // one rune, two UTF-16 code units
		{"\U0010FFFF", 0xDBFF*31 + 0xDFFF},
		{"a\xffb", (97*31+0xFFFD)*31 + 98}, // invalid UTF-8 counts as U+FFFD
	}
	for _, tc := range tests {
		if got := JavaHash(tc.s); got != tc.want {
			t.Errorf("JavaHash(%q) = %d, want %d", tc.s, got, tc.want)
		}
		if got := refHash(tc.s); tc.s != "a\xffb" && got != tc.want {
			t.Errorf("refHash(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
	for _, s := range []string{"订单表.订单", "x😀y🎉z", "Ünïcödé", "shop.all_types", "a,b,c"} {
		if JavaHash(s) != refHash(s) {
			t.Errorf("JavaHash(%q) = %d, reference %d", s, JavaHash(s), refHash(s))
		}
	}
	if floorMod(-2147483648, 3) != 1 || floorMod(-1, 5) != 4 || floorMod(7, 5) != 2 {
		t.Error("floorMod")
	}
}

func table() *event.Table {
	return &event.Table{Database: "shop", Name: "orders", PrimaryKey: []int{0, 1},
		Columns: []event.Column{
			{Name: "id", DataType: "bigint"},
			{Name: "region", DataType: "varchar", Charset: "utf8mb4"},
			{Name: "name_latin1", DataType: "varchar", Charset: "latin1"},
			{Name: "code", DataType: "varbinary"},
			{Name: "at", DataType: "datetime"},
		}}
}

func rowOf(vals ...any) event.Row {
	r := make(event.Row, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case string:
			r[i] = event.Value(x)
		case []byte:
			r[i] = event.Value(x)
		}
	}
	return r
}

func TestPartition(t *testing.T) {
	tbl := table()
	a := rowOf("7", "华东😀", "caf\xe9", []byte{0x00, 0xFF}, "2024-05-01 12:00:00")
	b := rowOf("-12", "north", nil, []byte{}, nil)
	ins := &event.Event{Kind: event.Insert, Table: tbl, After: a}
	initEv := &event.Event{Kind: event.Init, Table: tbl, After: a}
	upd := &event.Event{Kind: event.Update, Table: tbl, Before: b, After: a} // key changes b → a
	del := &event.Event{Kind: event.Delete, Table: tbl, Before: b}
	ddl := &event.Event{Kind: event.DDL, Database: "shop", TableName: "orders"}
	ddlDB := &event.Event{Kind: event.DDL, Database: "shop"}
	hb := &event.Event{Kind: event.Heartbeat}
	noKey := &event.Event{Kind: event.Insert, Table: &event.Table{Database: "d", Name: "t",
		Columns: []event.Column{{Name: "x", DataType: "int"}}}, After: rowOf("1")}
	ukOnly := &event.Event{Kind: event.Insert, Table: &event.Table{Database: "d", Name: "t",
		Columns:    []event.Column{{Name: "x", DataType: "int"}, {Name: "y", DataType: "int"}},
		UniqueKeys: []event.Key{{Name: "u", Columns: []int{1, 0}}}}, After: rowOf("1", nil)}

	keyA := "7,华东😀"
	keyB := "-12,north"
	for _, n := range []int32{1, 2, 3, 7, 12, 64, 1000} {
		tests := []struct {
			name    string
			policy  string
			ev      *event.Event
			db, tbl string
			keyCols []int
			want    int32
		}{
			{"p0 insert", PolicyPartition0, ins, "shop", "orders", nil, 0},
			{"p0 ddl", PolicyPartition0, ddl, "shop", "orders", nil, 0},
			{"unknown policy", "round-robin", ins, "shop", "orders", nil, 0},
			{"dbtable insert", PolicyHashDBTable, ins, "shop", "orders", nil, refPartition("shop.orders", n)},
			{"dbtable delete", PolicyHashDBTable, del, "shop", "orders", nil, refPartition("shop.orders", n)},
			{"dbtable ddl", PolicyHashDBTable, ddl, "shop", "orders", nil, refPartition("shop.orders", n)},
			{"dbtable ddl no table", PolicyHashDBTable, ddlDB, "shop", "", nil, 0},
			{"dbtable capitalized", PolicyHashDBTable, ins, "SHOP", "ORDERS", nil, refPartition("SHOP.ORDERS", n)},
			{"dbtable unicode", PolicyHashDBTable, ins, "商店", "订单😀", nil, refPartition("商店.订单😀", n)},
			{"dbtable heartbeat", PolicyHashDBTable, hb, "", "", nil, 0},
			{"pk insert", PolicyHashPrimaryKey, ins, "shop", "orders", nil, refPartition(keyA, n)},
			{"pk init", PolicyHashPrimaryKey, initEv, "shop", "orders", nil, refPartition(keyA, n)},
			{"pk update uses after", PolicyHashPrimaryKey, upd, "shop", "orders", nil, refPartition(keyA, n)},
			{"pk delete uses before", PolicyHashPrimaryKey, del, "shop", "orders", nil, refPartition(keyB, n)},
			{"pk ddl", PolicyHashPrimaryKey, ddl, "shop", "orders", nil, 0},
			{"pk no key", PolicyHashPrimaryKey, noKey, "d", "t", nil, 0},
			{"pk unique key with null", PolicyHashPrimaryKey, ukOnly, "d", "t", nil, refPartition(",1", n)},
			{"pk chosen latin1", PolicyHashPrimaryKey, ins, "shop", "orders", []int{2}, refPartition("café", n)},
			{"pk chosen binary", PolicyHashPrimaryKey, ins, "shop", "orders", []int{3, 0}, refPartition("\u0000\u00ff,7", n)},
			{"pk chosen null", PolicyHashPrimaryKey, del, "shop", "orders", []int{4, 2}, refPartition(",", n)},
			{"pk bad key column", PolicyHashPrimaryKey, ins, "shop", "orders", []int{9}, 0},
		}
		for _, tc := range tests {
			want := tc.want
			if n == 1 {
				want = 0
			}
			got := Partition(tc.policy, tc.ev, tc.db, tc.tbl, n, tc.keyCols)
			if got != want {
				t.Errorf("%s (n=%d): partition %d, want %d", tc.name, n, got, want)
			}
			if got < 0 || got >= n {
				t.Errorf("%s (n=%d): partition %d out of range", tc.name, n, got)
			}
		}
	}
	// A hash that is negative must still land in range: find keys with negative hashes.
	neg := 0
	for i := 0; i < 200; i++ {
		ev := &event.Event{Kind: event.Insert, Table: tbl, After: rowOf(string(rune('a'+i%26))+"polygenelubricants", "x")}
		k, _ := KeyString(ev, nil)
		if JavaHash(k) < 0 {
			neg++
		}
		if got, want := Partition(PolicyHashPrimaryKey, ev, "", "", 10, nil), refPartition(k, 10); got != want {
			t.Errorf("%q: %d, want %d", k, got, want)
		}
	}
	if neg == 0 {
		t.Error("no negative hash exercised")
	}
	if Partition(PolicyHashDBTable, ins, "shop", "orders", 0, nil) != 0 {
		t.Error("zero partitions")
	}
}

func TestMessageKey(t *testing.T) {
	tbl := table()
	ev := &event.Event{Kind: event.Insert, Table: tbl,
		After: rowOf("7", "华东😀", "caf\xe9", []byte{0x00, 0xFF}, nil)}
	if got := string(MessageKey(nil, ev, nil)); got != "7,华东😀" {
		t.Errorf("key %q", got)
	}
	if got := string(MessageKey([]byte("k:"), ev, []int{2, 3, 4})); got != "k:café,\u0000\u00ff," {
		t.Errorf("chosen key %q", got)
	}
	if s, ok := KeyString(ev, nil); !ok || s != "7,华东😀" {
		t.Errorf("KeyString %q %v", s, ok)
	}
	for _, e := range []*event.Event{
		{Kind: event.DDL, Database: "shop", TableName: "orders"},
		{Kind: event.Heartbeat},
		{Kind: event.Insert, Table: &event.Table{Columns: []event.Column{{Name: "x", DataType: "int"}}}, After: rowOf("1")},
	} {
		if k := MessageKey(nil, e, nil); k != nil {
			t.Errorf("%v: key %q, want nil", e.Kind, k)
		}
		if _, ok := KeyString(e, nil); ok {
			t.Errorf("%v: KeyString ok", e.Kind)
		}
	}
	// The partition of a row is the hash of its message key.
	for _, n := range []int32{3, 16} {
		if Partition(PolicyHashPrimaryKey, ev, "", "", n, nil) != refPartition(string(MessageKey(nil, ev, nil)), n) {
			t.Error("partition and key disagree")
		}
	}
}

func BenchmarkPartitionPrimaryKey(b *testing.B) {
	tbl := table()
	ev := &event.Event{Kind: event.Insert, Table: tbl, After: rowOf("1234567890", "east-china", "x", []byte{1}, nil)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Partition(PolicyHashPrimaryKey, ev, "shop", "orders", 12, nil)
	}
}

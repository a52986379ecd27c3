package kafka

import (
	"unicode/utf8"

	"tributary/engine/event"
	"tributary/engine/format"
)

// Partition policies (task.PartitionPolicies).
const (
	PolicyPartition0     = "partition-0"
	PolicyHashDBTable    = "hash-db-table"
	PolicyHashPrimaryKey = "hash-primary-key"
)

// JavaHash returns Java's String.hashCode of s: h = 31*h + c over the UTF-16 code units of
// the string (a rune above U+FFFF counts as its surrogate pair), with int32 wrap-around.
// Invalid UTF-8 bytes count as U+FFFD, as Java decodes them.
func JavaHash(s string) int32 {
	var h int32
	for _, r := range s {
		h = hashRune(h, r)
	}
	return h
}

func hashRune(h int32, r rune) int32 {
	if r >= 0x10000 {
		r -= 0x10000
		h = 31*h + int32(0xD800+(r>>10))
		return 31*h + int32(0xDC00+(r&0x3FF))
	}
	return 31*h + int32(r)
}

func hashString(h int32, s string) int32 {
	for _, r := range s {
		h = hashRune(h, r)
	}
	return h
}

// floorMod is Java's Math.floorMod: the result has the sign of n.
func floorMod(h, n int32) int32 {
	m := h % n
	if m < 0 {
		m += n
	}
	return m
}

// Partition returns the partition of an event under a partition policy (reference §3.1). The
// hash formulas DTS uses are not published [unverified]; Tributary uses Java's String.hashCode
// and Math.floorMod, as a DTS consumer written in Java can recompute them:
//
//   - "partition-0": every event goes to partition 0.
//   - "hash-db-table": floorMod(hashCode(db + "." + table), partitions). A DDL goes to the
//     partition of the table it touches, or to 0 when it touches none (table == "").
//   - "hash-primary-key": floorMod(hashCode(key), partitions), key being KeyString of the row.
//     A DDL, and every event of a table without a key, goes to 0.
//
// db and table are the names as they appear in the message (after capitalization). keyCols are
// the "Partition Key" columns chosen for the table (indexes into Table.Columns), nil for the
// default (format.Key: primary key, else a unique key). Unknown policies and partitions < 1
// give 0.
func Partition(policy string, ev *event.Event, db, table string, partitions int32, keyCols []int) int32 {
	if partitions <= 1 {
		return 0
	}
	switch policy {
	case PolicyHashDBTable:
		if table == "" || ev.Kind == event.Heartbeat {
			return 0
		}
		h := hashString(0, db)
		h = hashRune(h, '.')
		return floorMod(hashString(h, table), partitions)
	case PolicyHashPrimaryKey:
		h, ok := keyHash(ev, keyCols)
		if !ok {
			return 0
		}
		return floorMod(h, partitions)
	}
	return 0
}

// KeySeparator joins the values of a multi-column key in KeyString [inferred].
const KeySeparator = ','

// keyImage returns the row image that carries an event's key: the after image for INIT,
// INSERT and UPDATE (an UPDATE that changes the key goes with its new key), the before image
// for DELETE.
func keyImage(ev *event.Event) event.Row {
	switch ev.Kind {
	case event.Init, event.Insert, event.Update:
		return ev.After
	case event.Delete:
		return ev.Before
	}
	return nil
}

func keyColumns(ev *event.Event, keyCols []int) (event.Row, []int) {
	row := keyImage(ev)
	if row == nil || ev.Table == nil {
		return nil, nil
	}
	cols := format.Key(ev.Table, keyCols)
	for _, c := range cols {
		if c < 0 || c >= len(row) || c >= len(ev.Table.Columns) {
			return nil, nil
		}
	}
	return row, cols
}

// keyHash is JavaHash(KeyString(ev, keyCols)) computed without building the string.
func keyHash(ev *event.Event, keyCols []int) (int32, bool) {
	row, cols := keyColumns(ev, keyCols)
	if len(cols) == 0 {
		return 0, false
	}
	var h int32
	for i, c := range cols {
		if i > 0 {
			h = hashRune(h, KeySeparator)
		}
		h = hashValue(h, &ev.Table.Columns[c], row[c])
	}
	return h, true
}

func hashValue(h int32, col *event.Column, v event.Value) int32 {
	if v == nil {
		return h
	}
	kind := format.KindOf(col)
	switch {
	case kind.IsBinary():
		for _, b := range v {
			h = 31*h + int32(b)
		}
		return h
	case kind.IsCharacter():
		cs := format.LookupCharset(col.Charset)
		if !cs.IsUTF8() {
			v = cs.AppendUTF8(nil, v)
		}
	}
	for i := 0; i < len(v); {
		r, n := utf8.DecodeRune(v[i:])
		h = hashRune(h, r)
		i += n
	}
	return h
}

// KeyString returns the text that "hash-primary-key" hashes and MessageKey writes: the values
// of the key columns (keyCols, else the primary key, else a unique key; see format.Key) in key
// order, joined by KeySeparator, from the after image (the before image for DELETE). Character
// values are decoded from their character set; binary values map each byte to the character of
// the same code point (ISO-8859-1), as Canal JSON renders them; SQL NULL is the empty string
// [inferred]. ok is false for events without a key (DDL, heartbeats, tables without keys).
func KeyString(ev *event.Event, keyCols []int) (s string, ok bool) {
	k := MessageKey(nil, ev, keyCols)
	if k == nil {
		return "", false
	}
	return string(k), true
}

// MessageKey appends the UTF-8 bytes of KeyString to dst, the Kafka message key Tributary
// writes [inferred: DTS's key is not published]. It returns nil when the event has no key.
func MessageKey(dst []byte, ev *event.Event, keyCols []int) []byte {
	row, cols := keyColumns(ev, keyCols)
	if len(cols) == 0 {
		return nil
	}
	if dst == nil {
		dst = make([]byte, 0, 32)
	}
	for i, c := range cols {
		if i > 0 {
			dst = append(dst, KeySeparator)
		}
		col := &ev.Table.Columns[c]
		v := row[c]
		if v == nil {
			continue
		}
		kind := format.KindOf(col)
		switch {
		case kind.IsBinary():
			dst = format.LookupCharset("binary").AppendUTF8(dst, v)
		case kind.IsCharacter():
			dst = format.LookupCharset(col.Charset).AppendUTF8(dst, v)
		default:
			dst = format.LookupCharset("utf8mb4").AppendUTF8(dst, v)
		}
	}
	return dst
}

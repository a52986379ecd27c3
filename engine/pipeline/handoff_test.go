package pipeline

import (
	"testing"

	"tributary/engine/event"
)

// TestHandoffResumedSegment checks the hand-off decision for a segment read in two pieces
// (resumed after key "m"/500): with an integer key the piece is known exactly, so a change
// the later snapshot already holds is not sent; with a character key, whose collation order
// only the server knows, every change after the earliest snapshot is sent (applied at most
// twice, never lost), and a change before it is still skipped.
func TestHandoffResumedSegment(t *testing.T) {
	pos := func(off uint64) event.Position { return event.Position{File: "binlog.000001", Offset: off} }
	for _, tc := range []struct {
		dataType   string
		from, low  string // resume key of the second piece; a key read by the first piece
		high       string // a key read by the second piece
		sendHighAt bool   // is a change to the high key between the two snapshots sent
	}{
		{"int", "500", "300", "700", false},
		{"varchar", "m", "c", "z", true},
	} {
		tbl := &event.Table{Database: "d", Name: "t", Columns: []event.Column{{Name: "k", DataType: tc.dataType, InPrimaryKey: true}, {Name: "v", DataType: "int"}}, PrimaryKey: []int{0}}
		h := &handoff{tables: map[string]*handoffTable{routeKey("d", "t"): {keyNames: []string{"k"}, segments: []segmentState{{
			Pieces: []piece{{H: pos(100)}, {From: []event.Value{event.Value(tc.from)}, H: pos(200)}},
		}}}}, maxH: pos(200)}
		sent := func(key string, at uint64) bool {
			ev := &event.Event{Kind: event.Insert, Table: tbl, After: event.Row{event.Value(key), event.Value("1")}, SafePos: pos(at)}
			_, ok := h.filter(ev)
			return ok
		}
		if sent(tc.low, 50) || sent(tc.high, 50) {
			t.Errorf("%s: a change before both snapshots was sent again", tc.dataType)
		}
		if !sent(tc.low, 150) {
			t.Errorf("%s: a change after the first snapshot to a row it read was not sent (lost)", tc.dataType)
		}
		if got := sent(tc.high, 150); got != tc.sendHighAt {
			t.Errorf("%s: a change between the snapshots to a row the second read: sent %v, want %v", tc.dataType, got, tc.sendHighAt)
		}
		if !sent(tc.high, 250) || !sent(tc.low, 250) {
			t.Errorf("%s: a change after both snapshots was not sent", tc.dataType)
		}
	}
}

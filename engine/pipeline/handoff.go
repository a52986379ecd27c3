package pipeline

import (
	"encoding/json"
	"strconv"

	"tributary/engine/event"
	"tributary/engine/mysql"
)

// The hand-off from full to incremental migration. Incremental migration starts at the binlog
// position taken before full migration read anything; full migration reads every segment in a
// consistent snapshot whose binlog position H it records (a "piece"; a resumed segment has one
// piece per start). For a change of the binlog that lies before the last H, the pieces decide:
// a transaction that started before the H of the piece holding the row's key is already in the
// INIT rows and is not sent again; one that started at or after it is sent. So INIT rows
// followed by the binlog changes replay to exactly the source state, with no change missed and
// none applied twice. (For a resumed segment whose key has a character column, whose collation
// order only the server knows, changes between its pieces' positions are all sent: at most
// applied twice, never missed.) (Where the server cannot give a snapshot's position — MySQL — no pieces
// are recorded and every change since the start position is sent: at-least-once.)
type handoff struct {
	tables map[string]*handoffTable // routeKey → table
	maxH   event.Position
}

type handoffTable struct {
	keyNames []string // chunk key columns (nil: one-pass table)
	segments []segmentState
}

// loadHandoff reads the full-migration pieces from the checkpoints; nil when there are none.
func loadHandoff(saved map[string][]byte, tables map[mysql.Ref]*event.Table) *handoff {
	h := &handoff{tables: map[string]*handoffTable{}}
	for ref, t := range tables {
		n, err := strconv.Atoi(string(saved[planKey(ref)]))
		if err != nil || n == 0 {
			continue
		}
		ht := &handoffTable{}
		for _, c := range mysql.ChunkKey(t) {
			ht.keyNames = append(ht.keyNames, t.Columns[c].Name)
		}
		for i := 0; i < n; i++ {
			var st segmentState
			if json.Unmarshal(saved[segKey(ref, i)], &st) != nil || len(st.Pieces) == 0 {
				continue
			}
			for _, p := range st.Pieces {
				if p.H.Compare(h.maxH) > 0 || h.maxH.File == "" {
					h.maxH = p.H
				}
			}
			ht.segments = append(ht.segments, st)
		}
		if len(ht.segments) > 0 {
			h.tables[routeKey(ref.Database, ref.Table)] = ht
		}
	}
	if len(h.tables) == 0 {
		return nil
	}
	return h
}

// pieceOf returns the piece that read the row with the given key, or nil.
func (ht *handoffTable) pieceOf(t *event.Table, key []int, k []event.Value) *piece {
	if key == nil {
		if len(ht.segments) > 0 && len(ht.segments[0].Pieces) > 0 {
			ps := ht.segments[0].Pieces
			return &ps[len(ps)-1]
		}
		return nil
	}
	for si := range ht.segments {
		s := &ht.segments[si]
		if s.Lo != nil && mysql.CompareKey(t, key, k, s.Lo) <= 0 {
			continue
		}
		if s.UpTo != nil && mysql.CompareKey(t, key, k, s.UpTo) > 0 {
			continue
		}
		if len(s.Pieces) > 1 && !mysql.ExactKeyOrder(t, key) {
			// Only the server knows its collation's order, so which piece read the row is not
			// certain. The earliest snapshot is a safe answer: a change before it is in every
			// piece; a change after it is sent, even if a later piece already holds it (a
			// change applied twice, never one lost).
			return &s.Pieces[0] // pieces are recorded in the order they were read
		}
		var found *piece
		for pi := range s.Pieces {
			p := &s.Pieces[pi]
			if p.From == nil || mysql.CompareKey(t, key, k, p.From) > 0 {
				found = p
			}
		}
		return found
	}
	return nil
}

// filter decides what of a binlog row change the INIT rows do not already hold.
func (h *handoff) filter(ev *event.Event) (*event.Event, bool) {
	if h == nil || ev.Kind == event.DDL || ev.Table == nil || ev.SafePos.File == "" || ev.SafePos.Compare(h.maxH) >= 0 {
		return ev, true
	}
	ht := h.tables[routeKey(ev.Table.Database, ev.Table.Name)]
	if ht == nil {
		return ev, true
	}
	var key []int
	for _, name := range ht.keyNames {
		c := ev.Table.ColumnIndex(name)
		if c < 0 {
			return ev, true // the key changed since full migration: send everything
		}
		key = append(key, c)
	}
	inSnapshot := func(row event.Row) bool {
		var k []event.Value
		for _, c := range key {
			k = append(k, row[c])
		}
		p := ht.pieceOf(ev.Table, key, k)
		return p != nil && ev.SafePos.Compare(p.H) < 0
	}
	switch ev.Kind {
	case event.Insert:
		return ev, !inSnapshot(ev.After)
	case event.Delete:
		return ev, !inSnapshot(ev.Before)
	case event.Update:
		before, after := inSnapshot(ev.Before), inSnapshot(ev.After)
		switch {
		case before && after:
			return nil, false
		case before: // the new key's row is not in the snapshot: it arrives now
			ins := *ev
			ins.Kind, ins.Before = event.Insert, nil
			return &ins, true
		case after: // the old key's row was read before it moved: it goes now
			del := *ev
			del.Kind, del.After = event.Delete, nil
			return &del, true
		}
	}
	return ev, true
}

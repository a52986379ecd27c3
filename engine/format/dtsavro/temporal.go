package dtsavro

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

func isValidUTF8(b []byte) bool { return utf8.Valid(b) }

var errNumber = errors.New("not a number")

// atoi parses unsigned decimal digits.
func atoi(b []byte) (int, error) {
	if len(b) == 0 || len(b) > 9 {
		return 0, errNumber
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errNumber
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

type dateTime struct {
	year, month, day, hour, minute, second, micros int
}

// parseFraction reads ".f…" (1–6 digits) as microseconds; an empty b is 0.
func parseFraction(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if b[0] != '.' || len(b) < 2 || len(b) > 7 {
		return 0, errNumber
	}
	f, err := atoi(b[1:])
	if err != nil {
		return 0, err
	}
	for i := len(b) - 1; i < 6; i++ {
		f *= 10
	}
	return f, nil
}

// parseDate reads "YYYY-MM-DD".
func parseDate(v []byte) (dateTime, error) {
	var d dateTime
	if len(v) != 10 || v[4] != '-' || v[7] != '-' {
		return d, fmt.Errorf("bad DATE value %q", v)
	}
	var e1, e2, e3 error
	d.year, e1 = atoi(v[0:4])
	d.month, e2 = atoi(v[5:7])
	d.day, e3 = atoi(v[8:10])
	if e1 != nil || e2 != nil || e3 != nil {
		return d, fmt.Errorf("bad DATE value %q", v)
	}
	return d, nil
}

// parseDateTime reads "YYYY-MM-DD HH:MM:SS[.f…]".
func parseDateTime(v []byte) (dateTime, error) {
	if len(v) < 19 || v[10] != ' ' || v[13] != ':' || v[16] != ':' {
		return dateTime{}, fmt.Errorf("bad DATETIME value %q", v)
	}
	d, err := parseDate(v[:10])
	if err != nil {
		return d, fmt.Errorf("bad DATETIME value %q", v)
	}
	var e1, e2, e3, e4 error
	d.hour, e1 = atoi(v[11:13])
	d.minute, e2 = atoi(v[14:16])
	d.second, e3 = atoi(v[17:19])
	d.micros, e4 = parseFraction(v[19:])
	if e1 != nil || e2 != nil || e3 != nil || e4 != nil {
		return d, fmt.Errorf("bad DATETIME value %q", v)
	}
	return d, nil
}

// parseTimestamp reads a UTC "YYYY-MM-DD HH:MM:SS[.f…]" as epoch seconds and microseconds.
// The zero timestamp is 0, 0.
func parseTimestamp(v []byte) (int64, int, error) {
	d, err := parseDateTime(v)
	if err != nil {
		return 0, 0, fmt.Errorf("bad TIMESTAMP value %q", v)
	}
	if d.year == 0 && d.month == 0 && d.day == 0 {
		return 0, d.micros, nil
	}
	t := time.Date(d.year, time.Month(d.month), d.day, d.hour, d.minute, d.second, 0, time.UTC)
	return t.Unix(), d.micros, nil
}

// parseTime reads "[-]H…H:MM:SS[.f…]". A negative time has every part negated.
func parseTime(v []byte) (dateTime, error) {
	var d dateTime
	neg := len(v) > 0 && v[0] == '-'
	s := v
	if neg {
		s = s[1:]
	}
	c1 := -1
	for i, b := range s {
		if b == ':' {
			c1 = i
			break
		}
	}
	if c1 < 1 || len(s) < c1+6 || s[c1+3] != ':' {
		return d, fmt.Errorf("bad TIME value %q", v)
	}
	var e1, e2, e3, e4 error
	d.hour, e1 = atoi(s[:c1])
	d.minute, e2 = atoi(s[c1+1 : c1+3])
	d.second, e3 = atoi(s[c1+4 : c1+6])
	d.micros, e4 = parseFraction(s[c1+6:])
	if e1 != nil || e2 != nil || e3 != nil || e4 != nil {
		return d, fmt.Errorf("bad TIME value %q", v)
	}
	if neg {
		d.hour, d.minute, d.second, d.micros = -d.hour, -d.minute, -d.second, -d.micros
	}
	return d, nil
}

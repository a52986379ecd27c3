package format

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"

	"tributary/engine/charset"
)

// Charset decodes column bytes in one MySQL character set to UTF-8.
//
// utf8, utf8mb3, utf8mb4 and ascii pass through (invalid sequences become U+FFFD). latin1 is
// MySQL's latin1, which is Windows-1252 with the five bytes cp1252 leaves undefined (0x81,
// 0x8D, 0x8F, 0x90, 0x9D) mapped to the C1 controls of the same value. binary maps each byte to
// the rune of the same value (ISO-8859-1), as Canal does. The other MySQL character sets that
// golang.org/x/text knows are decoded with it; any other character set is decoded as latin1
// [inferred fallback: a byte-preserving decoding that never fails].
type Charset struct {
	Name string
	kind uint8 // csUTF8, csLatin1, csISO88591, csOther
	enc  encoding.Encoding
}

const (
	csUTF8 uint8 = iota
	csLatin1
	csISO88591
	csOther
)

// LookupCharset returns the decoder of a MySQL character set name.
func LookupCharset(name string) Charset {
	n := strings.ToLower(name)
	c := Charset{Name: name}
	switch n {
	case "", "utf8", "utf8mb3", "utf8mb4", "ascii", "utf-8":
		c.kind = csUTF8
		return c
	case "latin1":
		c.kind = csLatin1
		return c
	case "binary":
		c.kind = csISO88591
		return c
	}
	e := charset.Encoding(n)
	if e == nil {
		c.kind = csLatin1
		return c
	}
	c.kind = csOther
	c.enc = e
	return c
}

// IsUTF8 reports whether the character set passes bytes through unchanged.
func (c Charset) IsUTF8() bool { return c.kind == csUTF8 }

// latin1High maps bytes 0x80–0x9F of MySQL latin1 (cp1252) to runes; 0xA0–0xFF map to
// themselves.
var latin1High = [32]rune{
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
}

// Latin1Rune returns the rune of one MySQL latin1 byte.
func Latin1Rune(b byte) rune {
	if b >= 0x80 && b < 0xA0 {
		return latin1High[b-0x80]
	}
	return rune(b)
}

// AppendUTF8 appends src decoded to valid UTF-8.
func (c Charset) AppendUTF8(dst, src []byte) []byte {
	switch c.kind {
	case csUTF8:
		if utf8.Valid(src) {
			return append(dst, src...)
		}
		return appendValidUTF8(dst, src)
	case csLatin1:
		for _, b := range src {
			if b < 0x80 {
				dst = append(dst, b)
			} else {
				dst = utf8.AppendRune(dst, Latin1Rune(b))
			}
		}
		return dst
	case csISO88591:
		for _, b := range src {
			if b < 0x80 {
				dst = append(dst, b)
			} else {
				dst = append(dst, 0xC0|b>>6, 0x80|b&0x3F)
			}
		}
		return dst
	}
	out, err := c.enc.NewDecoder().Bytes(src)
	if err != nil {
		// x/text decoders replace bad input rather than fail; fall back to latin1 anyway.
		return Charset{kind: csLatin1}.AppendUTF8(dst, src)
	}
	return appendValidUTF8(dst, out)
}

// appendValidUTF8 appends src with every invalid byte replaced by U+FFFD.
func appendValidUTF8(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		b := src[i]
		if b < utf8.RuneSelf {
			dst = append(dst, b)
			i++
			continue
		}
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, src[i:i+n]...)
		}
		i += n
	}
	return dst
}

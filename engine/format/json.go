package format

import (
	"unicode/utf8"
	"unsafe"
)

const hexDigits = "0123456789abcdef"

// jsonSafe[b] is true for ASCII bytes that appear unescaped inside a JSON string.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// appendEscapedASCII appends the escape of an ASCII byte that is not jsonSafe.
func appendEscapedASCII(dst []byte, b byte) []byte {
	switch b {
	case '"':
		return append(dst, '\\', '"')
	case '\\':
		return append(dst, '\\', '\\')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
}

// AppendJSONString appends s as a quoted JSON string (RFC 8259). Control characters are
// escaped; invalid UTF-8 bytes become U+FFFD, so the output is always valid JSON.
func AppendJSONString(dst []byte, s string) []byte {
	return AppendJSONBytes(dst, unsafe.Slice(unsafe.StringData(s), len(s)))
}

// AppendJSONBytes appends UTF-8 bytes as a quoted JSON string (see AppendJSONString).
func AppendJSONBytes(dst, s []byte) []byte {
	dst = append(dst, '"')
	dst = appendJSONContent(dst, s)
	return append(dst, '"')
}

func appendJSONContent(dst, s []byte) []byte {
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = appendEscapedASCII(dst, b)
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i++
			start = i
			continue
		}
		i += n
	}
	return append(dst, s[start:]...)
}

// AppendJSONText appends column bytes in a character set as a quoted JSON string.
func AppendJSONText(dst, s []byte, cs Charset) []byte {
	switch cs.kind {
	case csUTF8:
		return AppendJSONBytes(dst, s)
	case csLatin1:
		dst = append(dst, '"')
		for _, b := range s {
			switch {
			case b < utf8.RuneSelf && jsonSafe[b]:
				dst = append(dst, b)
			case b < utf8.RuneSelf:
				dst = appendEscapedASCII(dst, b)
			case b >= 0xA0:
				dst = append(dst, 0xC0|b>>6, 0x80|b&0x3F)
			default:
				dst = utf8.AppendRune(dst, latin1High[b-0x80])
			}
		}
		return append(dst, '"')
	case csISO88591:
		return AppendJSONISO88591(dst, s)
	}
	return AppendJSONBytes(dst, cs.AppendUTF8(nil, s))
}

// AppendJSONISO88591 appends raw bytes as a quoted JSON string in which each byte is the
// character of the same code point (ISO-8859-1), as Canal renders binary values.
func AppendJSONISO88591(dst, s []byte) []byte {
	dst = append(dst, '"')
	for _, b := range s {
		switch {
		case b < utf8.RuneSelf && jsonSafe[b]:
			dst = append(dst, b)
		case b < utf8.RuneSelf:
			dst = appendEscapedASCII(dst, b)
		default:
			dst = append(dst, 0xC0|b>>6, 0x80|b&0x3F)
		}
	}
	return append(dst, '"')
}

package wire

import (
	"strings"
	"unicode/utf8"
)

// The remoting header is JSON, written and read for every request and
// answer; encoding/json spent close to a tenth of the gateway's CPU on it
// under transaction load (reflection, sorted map keys, an intermediate
// buffer). appendHeader writes it directly; parseHeader reads the headers
// brokers and name servers write and declines anything else (escapes in a
// string, a fraction, a key it does not know in another case), which
// ReadFrame then hands to encoding/json: what parseHeader accepts it
// decodes exactly as encoding/json does (FuzzHeaderCodec).

// appendHeader appends cmd's JSON header (the fields of Command's json
// tags) to dst.
func appendHeader(dst []byte, cmd *Command) []byte {
	dst = append(dst, `{"code":`...)
	dst = appendInt(dst, int64(cmd.Code))
	dst = append(dst, `,"language":`...)
	dst = appendString(dst, cmd.Language)
	dst = append(dst, `,"version":`...)
	dst = appendInt(dst, int64(cmd.Version))
	dst = append(dst, `,"opaque":`...)
	dst = appendInt(dst, int64(cmd.Opaque))
	dst = append(dst, `,"flag":`...)
	dst = appendInt(dst, int64(cmd.Flag))
	if cmd.Remark != "" {
		dst = append(dst, `,"remark":`...)
		dst = appendString(dst, cmd.Remark)
	}
	if len(cmd.ExtFields) > 0 {
		dst = append(dst, `,"extFields":{`...)
		first := true
		for k, v := range cmd.ExtFields {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendString(dst, k)
			dst = append(dst, ':')
			dst = appendString(dst, v)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

func appendInt(dst []byte, n int64) []byte {
	if n < 0 {
		dst = append(dst, '-')
		if n == -n { // the smallest int64
			return append(dst, "9223372036854775808"...)
		}
		n = -n
	}
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD (as encoding/json
// does).
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// headerKeys are the JSON names of Command's fields.
var headerKeys = []string{"code", "language", "version", "opaque", "flag", "remark", "extFields"}

// parseHeader decodes a JSON header into cmd; ok is false for anything it
// does not handle (cmd is then to be decoded by encoding/json).
func parseHeader(b []byte, cmd *Command) (ok bool) {
	p := parser{b: b}
	p.ws()
	if !p.byte('{') {
		return false
	}
	return p.object(func(key string) bool {
		switch key {
		case "code":
			n, ok := p.int(-1<<63, 1<<63-1)
			if !ok || int64(int(n)) != n {
				return false
			}
			cmd.Code = int(n)
		case "version":
			n, ok := p.int(-1<<63, 1<<63-1)
			if !ok || int64(int(n)) != n {
				return false
			}
			cmd.Version = int(n)
		case "opaque":
			n, ok := p.int(-1<<31, 1<<31-1)
			if !ok {
				return false
			}
			cmd.Opaque = int32(n)
		case "flag":
			n, ok := p.int(-1<<31, 1<<31-1)
			if !ok {
				return false
			}
			cmd.Flag = int32(n)
		case "language", "remark":
			if p.null() {
				break // encoding/json leaves the field as it was
			}
			s, ok := p.str()
			if !ok {
				return false
			}
			if key == "language" {
				cmd.Language = s
			} else {
				cmd.Remark = s
			}
		case "extFields":
			if p.null() {
				cmd.ExtFields = nil
				break
			}
			if !p.extFields(cmd) {
				return false
			}
		default:
			for _, k := range headerKeys {
				if strings.EqualFold(k, key) {
					return false // encoding/json matches names in any case
				}
			}
			return p.skip(0)
		}
		return true
	}) && p.end()
}

type parser struct {
	b []byte
	i int
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) byte(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) end() bool {
	p.ws()
	return p.i == len(p.b)
}

func (p *parser) null() bool {
	if len(p.b)-p.i >= 4 && string(p.b[p.i:p.i+4]) == "null" {
		p.i += 4
		return true
	}
	return false
}

// str reads a string without escapes, in valid UTF-8.
func (p *parser) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if !utf8.Valid(s) {
				return "", false
			}
			return string(s), true
		case c == '\\' || c < 0x20:
			return "", false
		}
		p.i++
	}
	return "", false
}

// int reads an integer within [lo, hi] (no fraction, no exponent).
func (p *parser) int(lo, hi int64) (int64, bool) {
	neg := p.byte('-')
	start := p.i
	var n uint64 // 19 digits at most: below 2^64
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		if p.i-start == 19 {
			return 0, false
		}
		n = n*10 + uint64(p.b[p.i]-'0')
		p.i++
	}
	digits := p.i - start
	if digits == 0 || digits > 1 && p.b[start] == '0' {
		return 0, false
	}
	if p.i < len(p.b) && (p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		return 0, false
	}
	if neg {
		if n > uint64(-(lo+1))+1 {
			return 0, false
		}
		return -int64(n), true // n = 2^63 wraps to the smallest int64, as wanted
	}
	if n > uint64(hi) {
		return 0, false
	}
	return int64(n), true
}

// extFields reads an object of strings into cmd.ExtFields (added to what
// it holds, as encoding/json does).
func (p *parser) extFields(cmd *Command) bool {
	if !p.byte('{') {
		return false
	}
	if cmd.ExtFields == nil {
		cmd.ExtFields = make(map[string]string, 8)
	}
	return p.object(func(k string) bool {
		v, ok := p.str()
		if ok {
			cmd.ExtFields[k] = v
		}
		return ok
	})
}

// object reads the members of an object whose '{' was just read, through
// its '}': for each, the key, then member with the parser at its value.
func (p *parser) object(member func(key string) bool) bool {
	p.ws()
	if p.byte('}') {
		return true
	}
	for {
		p.ws()
		key, ok := p.str()
		if !ok {
			return false
		}
		p.ws()
		if !p.byte(':') {
			return false
		}
		p.ws()
		if !member(key) {
			return false
		}
		p.ws()
		if p.byte(',') {
			continue
		}
		return p.byte('}')
	}
}

// skip skips one value of a field parseHeader ignores: a string without
// escapes, an integer, true, false, null, or an object or array of those.
func (p *parser) skip(depth int) bool {
	if depth > 16 || p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		_, ok := p.str()
		return ok
	case c == '-' || '0' <= c && c <= '9':
		_, ok := p.int(-1<<63, 1<<63-1)
		return ok
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if len(p.b)-p.i >= len(lit) && string(p.b[p.i:p.i+len(lit)]) == lit {
				p.i += len(lit)
				return true
			}
		}
		return false
	case c == '{':
		p.i++
		return p.object(func(string) bool { return p.skip(depth + 1) })
	case c == '[':
		p.i++
		p.ws()
		if p.byte(']') {
			return true
		}
		for {
			p.ws()
			if !p.skip(depth + 1) {
				return false
			}
			p.ws()
			if p.byte(',') {
				continue
			}
			return p.byte(']')
		}
	}
	return false
}

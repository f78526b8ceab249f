// Package jsonvalue decodes JSON objects into the values k8s.io/apimachinery/pkg/util/json
// gives (integers as int64, other numbers as float64, strings, bools, nil, []any and
// map[string]any), several times faster than it: it reads the text once, and strings
// without escapes are not copied. It serves the render cache's entries and the API
// server's list responses, the two places a sync reads megabytes of JSON.
package jsonvalue

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// DecodeObject decodes one JSON object as utiljson.Unmarshal would. Strings without
// escapes (nearly all of them: keys, names, CRD descriptions) are not copied but refer to
// data, which the caller must never modify afterwards. It is strict: malformed input is an
// error, never a panic.
func DecodeObject(data []byte) (map[string]any, error) {
	d := &jsonDecoder{data: data}
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	d.space()
	m, ok := v.(map[string]any)
	if !ok || d.pos != len(d.data) {
		return nil, errJSON
	}
	return m, nil
}

var errJSON = errors.New("malformed JSON")

type jsonDecoder struct {
	data []byte
	pos  int
}

func (d *jsonDecoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value() (any, error) {
	d.space()
	if d.pos >= len(d.data) {
		return nil, errJSON
	}
	switch d.data[d.pos] {
	case '{':
		return d.object()
	case '[':
		return d.array()
	case '"':
		return d.string()
	case 't':
		return d.literal("true", true)
	case 'f':
		return d.literal("false", false)
	case 'n':
		return d.literal("null", nil)
	}
	return d.number()
}

func (d *jsonDecoder) literal(word string, v any) (any, error) {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return nil, errJSON
	}
	d.pos += len(word)
	return v, nil
}

func (d *jsonDecoder) object() (any, error) {
	d.pos++ // {
	m := map[string]any{}
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return m, nil
	}
	for {
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, errJSON
		}
		k, err := d.string()
		if err != nil {
			return nil, err
		}
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, errJSON
		}
		d.pos++
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		m[k.(string)] = v
		if done, err := d.next('}'); err != nil {
			return nil, err
		} else if done {
			return m, nil
		}
	}
}

func (d *jsonDecoder) array() (any, error) {
	d.pos++ // [
	a := []any{}
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return a, nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		if done, err := d.next(']'); err != nil {
			return nil, err
		} else if done {
			return a, nil
		}
	}
}

// next reads what follows a member or element: ',' (more follow) or closer (the object
// or array ends).
func (d *jsonDecoder) next(closer byte) (done bool, err error) {
	d.space()
	if d.pos >= len(d.data) {
		return false, errJSON
	}
	switch d.data[d.pos] {
	case ',':
		d.pos++
		return false, nil
	case closer:
		d.pos++
		return true, nil
	}
	return false, errJSON
}

// string decodes a string.
func (d *jsonDecoder) string() (any, error) {
	d.pos++ // "
	start := d.pos
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			raw := d.data[start:d.pos]
			d.pos++
			if !utf8.Valid(raw) {
				return nil, errJSON
			}
			if len(raw) == 0 {
				return "", nil
			}
			return unsafe.String(&raw[0], len(raw)), nil // data is never modified: see DecodeObject
		}
		if c == '\\' {
			return d.escaped(start)
		}
		if c < 0x20 {
			return nil, errJSON
		}
		d.pos++
	}
	return nil, errJSON
}

// escaped decodes a string with escapes, from start (just after the opening quote).
func (d *jsonDecoder) escaped(start int) (any, error) {
	buf := append([]byte(nil), d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			if !utf8.Valid(buf) {
				return nil, errJSON
			}
			return string(buf), nil
		case c < 0x20:
			return nil, errJSON
		case c != '\\':
			buf = append(buf, c)
			d.pos++
			continue
		}
		if d.pos+1 >= len(d.data) {
			return nil, errJSON
		}
		e := d.data[d.pos+1]
		d.pos += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return nil, errJSON
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
					save := d.pos
					d.pos += 2
					var ok2 bool
					if r2, ok2 = d.hex4(); !ok2 {
						return nil, errJSON
					}
					if utf16.DecodeRune(r, r2) == utf8.RuneError {
						d.pos = save
						r2 = -1
					}
				}
				if r2 < 0 {
					r = utf8.RuneError
				} else {
					r = utf16.DecodeRune(r, r2)
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return nil, errJSON
		}
	}
	return nil, errJSON
}

func (d *jsonDecoder) hex4() (rune, bool) {
	if len(d.data)-d.pos < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(d.data[d.pos:d.pos+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	d.pos += 4
	return rune(n), true
}

// number decodes an int64, or a float64 for fractions, exponents and integers out of range,
// as utiljson does.
func (d *jsonDecoder) number() (any, error) {
	start := d.pos
	float := false
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c >= '0' && c <= '9' || c == '-' || c == '+' {
			d.pos++
			continue
		}
		if c == '.' || c == 'e' || c == 'E' {
			float = true
			d.pos++
			continue
		}
		break
	}
	s := string(d.data[start:d.pos])
	if s == "" || !validNumber(s) {
		return nil, errJSON
	}
	if !float {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, errJSON
	}
	return f, nil
}

// validNumber checks the JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(s string) bool {
	i := 0
	if s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

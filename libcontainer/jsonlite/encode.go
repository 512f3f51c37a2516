package jsonlite

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Marshal is json.Marshal.
func Marshal(v any) ([]byte, error) {
	e := encoder{b: make([]byte, 0, 1024)}
	if err := e.value(reflect.ValueOf(v)); err != nil {
		if errors.Is(err, errUnsupported) {
			return json.Marshal(v)
		}
		return nil, err
	}
	return e.b, nil
}

// MarshalIndent is json.MarshalIndent.
func MarshalIndent(v any, prefix, indent string) ([]byte, error) {
	b, err := Marshal(v)
	if err != nil {
		return nil, err
	}
	return Indent(b, prefix, indent), nil
}

// maxDepth bounds the walk (a cycle of pointers).
const maxDepth = 1000

type encoder struct {
	b     []byte
	depth int
}

func (e *encoder) value(v reflect.Value) error {
	if !v.IsValid() {
		e.b = append(e.b, "null"...)
		return nil
	}
	t := v.Type()
	if hasMethods(t) {
		if done, err := e.methods(v, t); done || err != nil {
			return err
		}
	}
	switch v.Kind() {
	case reflect.Bool:
		e.b = strconv.AppendBool(e.b, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.b = strconv.AppendInt(e.b, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.b = strconv.AppendUint(e.b, v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return e.float(v.Float(), t.Bits())
	case reflect.String:
		if t == numberType {
			return e.number(v.String())
		}
		e.b = appendString(e.b, v.String())
	case reflect.Struct:
		return e.nested(func() error { return e.object(v, t) })
	case reflect.Map:
		if v.IsNil() {
			e.b = append(e.b, "null"...)
			return nil
		}
		return e.nested(func() error { return e.mapValue(v, t) })
	case reflect.Slice:
		if v.IsNil() {
			e.b = append(e.b, "null"...)
			return nil
		}
		if t.Elem().Kind() == reflect.Uint8 && !byteElemHasMethods(t.Elem()) {
			e.b = append(e.b, '"')
			e.b = base64.StdEncoding.AppendEncode(e.b, v.Bytes())
			e.b = append(e.b, '"')
			return nil
		}
		return e.nested(func() error { return e.array(v) })
	case reflect.Array:
		return e.nested(func() error { return e.array(v) })
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			e.b = append(e.b, "null"...)
			return nil
		}
		return e.nested(func() error { return e.value(v.Elem()) })
	default:
		return errUnsupported
	}
	return nil
}

func (e *encoder) nested(f func() error) error {
	if e.depth++; e.depth > maxDepth {
		return errUnsupported // encoding/json reports the cycle
	}
	err := f()
	e.depth--
	return err
}

// methods codes a value whose type has MarshalJSON or MarshalText, as
// encoding/json does (a method on the pointer only when the value is
// addressable); done tells whether it did.
func (e *encoder) methods(v reflect.Value, t reflect.Type) (done bool, err error) {
	ti, err := info(t)
	if err != nil {
		return false, err
	}
	nilPtr := v.Kind() == reflect.Pointer && v.IsNil()
	switch {
	case ti.marshaler || ti.addrMarshaler && v.CanAddr():
		if nilPtr {
			e.b = append(e.b, "null"...)
			return true, nil
		}
		if ti.addrMarshaler {
			v = v.Addr()
		}
		b, err := v.Interface().(json.Marshaler).MarshalJSON()
		if err != nil {
			return true, &json.MarshalerError{Type: t, Err: err}
		}
		out, ok := compact(e.b, b)
		if !ok {
			return true, errUnsupported // encoding/json words the error
		}
		e.b = out
		return true, nil
	case ti.textMarshaler || ti.addrTextMarshal && v.CanAddr():
		if nilPtr {
			e.b = append(e.b, "null"...)
			return true, nil
		}
		if ti.addrTextMarshal {
			v = v.Addr()
		}
		b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return true, &json.MarshalerError{Type: t, Err: err}
		}
		e.b = appendString(e.b, string(b))
		return true, nil
	}
	return false, nil
}

func byteElemHasMethods(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(marshalerType) || p.Implements(textMarshalerType)
}

func (e *encoder) object(v reflect.Value, t reflect.Type) error {
	ti, err := info(t)
	if err != nil {
		return err
	}
	e.b = append(e.b, '{')
	first := true
	for i := range ti.fields {
		f := &ti.fields[i]
		fv, ok := fieldOf(v, f.index)
		if !ok || f.omitEmpty && isEmpty(fv) || f.omitZero && isZero(fv) {
			continue
		}
		if !first {
			e.b = append(e.b, ',')
		}
		first = false
		e.b = appendString(e.b, f.name)
		e.b = append(e.b, ':')
		if err := e.value(fv); err != nil {
			return err
		}
	}
	e.b = append(e.b, '}')
	return nil
}

// fieldOf follows index through embedded structs; false when it passes a
// nil embedded pointer (encoding/json leaves such fields out).
func fieldOf(v reflect.Value, index []int) (reflect.Value, bool) {
	for k, i := range index {
		if k > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v, true
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// isZero is omitzero's test: the type's IsZero method when it has one,
// else the zero value.
func isZero(v reflect.Value) bool {
	if hasMethods(v.Type()) || v.Kind() == reflect.Pointer {
		if ti, err := info(v.Type()); err == nil {
			switch {
			case ti.zeroer:
				if v.Kind() == reflect.Pointer && v.IsNil() {
					return true
				}
				return v.Interface().(interface{ IsZero() bool }).IsZero()
			case ti.addrZero:
				if !v.CanAddr() {
					boxed := reflect.New(v.Type()).Elem()
					boxed.Set(v)
					v = boxed
				}
				return v.Addr().Interface().(interface{ IsZero() bool }).IsZero()
			}
		}
	}
	return v.IsZero()
}

func (e *encoder) mapValue(v reflect.Value, t reflect.Type) error {
	type kv struct {
		key string
		val reflect.Value
	}
	kt := t.Key()
	list := make([]kv, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		k := it.Key()
		var ks string
		switch {
		case kt.Kind() == reflect.String:
			ks = k.String()
		case kt.Implements(textMarshalerType):
			if k.Kind() == reflect.Pointer && k.IsNil() {
				continue
			}
			b, err := k.Interface().(encoding.TextMarshaler).MarshalText()
			if err != nil {
				return &json.MarshalerError{Type: kt, Err: err}
			}
			ks = string(b)
		case kt.Kind() >= reflect.Int && kt.Kind() <= reflect.Int64:
			ks = strconv.FormatInt(k.Int(), 10)
		case kt.Kind() >= reflect.Uint && kt.Kind() <= reflect.Uintptr:
			ks = strconv.FormatUint(k.Uint(), 10)
		default:
			return errUnsupported
		}
		list = append(list, kv{ks, it.Value()})
	}
	slices.SortFunc(list, func(a, b kv) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	e.b = append(e.b, '{')
	for i, p := range list {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = appendString(e.b, p.key)
		e.b = append(e.b, ':')
		if err := e.value(p.val); err != nil {
			return err
		}
	}
	e.b = append(e.b, '}')
	return nil
}

func (e *encoder) array(v reflect.Value) error {
	e.b = append(e.b, '[')
	for i := 0; i < v.Len(); i++ {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		if err := e.value(v.Index(i)); err != nil {
			return err
		}
	}
	e.b = append(e.b, ']')
	return nil
}

// float writes f as encoding/json does: 'f' notation, 'e' for very small
// or large magnitudes, "e-07" shortened to "e-7".
func (e *encoder) float(f float64, bits int) error {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return errUnsupported // encoding/json's UnsupportedValueError
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
		bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	b := strconv.AppendFloat(e.b, f, format, -1, bits)
	if format == 'e' {
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	e.b = b
	return nil
}

// number writes a json.Number, which must be a valid number ("" is 0).
func (e *encoder) number(s string) error {
	if s == "" {
		s = "0"
	}
	d := decoder{data: []byte(s)}
	if end, err := d.scanNumber(); err != nil || end != len(s) {
		return errUnsupported
	}
	e.b = append(e.b, s...)
	return nil
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does: HTML-safe (<, >, & as
// \u escapes), U+2028 and U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// compact appends the JSON text src to dst without its insignificant
// spaces, and tells whether src was one valid JSON value.
func compact(dst, src []byte) ([]byte, bool) {
	d := decoder{data: src}
	d.skipSpace()
	start := d.i
	if err := d.skip(); err != nil {
		return dst, false
	}
	end := d.i
	d.skipSpace()
	if d.i != len(src) {
		return dst, false
	}
	for i := start; i < end; i++ {
		switch c := src[i]; c {
		case ' ', '\t', '\n', '\r':
		case '"':
			dst, i = appendQuoted(dst, src, i)
		default:
			dst = append(dst, c)
		}
	}
	return dst, true
}

// appendQuoted appends the string literal of valid JSON src that starts at
// its quote i, and returns the index of its closing quote.
func appendQuoted(dst, src []byte, i int) ([]byte, int) {
	start := i
	for i++; src[i] != '"'; i++ {
		if src[i] == '\\' {
			i++
		}
	}
	return append(dst, src[start:i+1]...), i
}

// Indent is json.Indent of compact JSON (what Marshal returns): each
// element on a line of its own, prefix and one indent per level, empty
// objects and arrays left as {} and [].
func Indent(src []byte, prefix, indent string) []byte {
	out := make([]byte, 0, len(src)*2)
	depth := 0
	newline := func() {
		out = append(out, '\n')
		out = append(out, prefix...)
		for range depth {
			out = append(out, indent...)
		}
	}
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"':
			out, i = appendQuoted(out, src, i)
		case '{', '[':
			out = append(out, c)
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				out = append(out, src[i+1])
				i++
				continue
			}
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			out = append(out, c)
		case ',':
			out = append(out, c)
			newline()
		case ':':
			out = append(out, c, ' ')
		default:
			out = append(out, c)
		}
	}
	return out
}

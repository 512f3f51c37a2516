package jsonlite

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Unmarshal is json.Unmarshal, but for one difference: it stops at the
// first error, leaving what it decoded so far in v (encoding/json checks
// the whole text first, and decodes on past a value of the wrong type).
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return json.Unmarshal(data, v) // its InvalidUnmarshalError
	}
	d := decoder{data: data}
	err := d.value(rv.Elem())
	if err == nil {
		d.skipSpace()
		if d.i < len(d.data) {
			err = d.syntax("after top-level value")
		}
	}
	if errors.Is(err, errUnsupported) {
		return json.Unmarshal(data, v)
	}
	return err
}

// SyntaxError is malformed JSON at Offset.
type SyntaxError struct {
	msg    string
	Offset int64
}

func (e *SyntaxError) Error() string { return e.msg }

type decoder struct {
	data []byte
	i    int
	// for errors: the innermost struct being decoded and the JSON names
	// from the top down to the current value
	st   reflect.Type
	path []string
}

var errEOF = errors.New("unexpected end of JSON input")

func (d *decoder) syntax(context string) error {
	if d.i >= len(d.data) {
		return &SyntaxError{msg: errEOF.Error(), Offset: int64(d.i)}
	}
	return &SyntaxError{msg: fmt.Sprintf("invalid character %s %s", quoteChar(d.data[d.i]), context), Offset: int64(d.i)}
}

func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// mismatch is encoding/json's UnmarshalTypeError for a value of the wrong
// kind (what: "string", "number 1.5", "object"...).
func (d *decoder) mismatch(what string, t reflect.Type, at int) error {
	e := &json.UnmarshalTypeError{Value: what, Type: t, Offset: int64(at)}
	if d.st != nil {
		e.Struct = d.st.Name()
		e.Field = strings.Join(d.path, ".")
	}
	return e
}

func (d *decoder) skipSpace() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// value decodes the next JSON value into v, which can be set.
func (d *decoder) value(v reflect.Value) error {
	d.skipSpace()
	if d.i >= len(d.data) {
		return d.syntax("")
	}
	t := v.Type()
	c := d.data[d.i]
	if c == 'n' {
		return d.null(v)
	}
	var ti *typeInfo
	if hasMethods(t) {
		var err error
		if ti, err = info(t); err != nil {
			return err
		}
		if ti.unmarshaler {
			start := d.i
			if err := d.skip(); err != nil {
				return err
			}
			return v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(d.data[start:d.i])
		}
		if ti.textUnmarshaler && c != '"' {
			// encoding/json gives a TextUnmarshaler strings only
			at := d.i
			if err := d.skip(); err != nil {
				return err
			}
			return d.mismatch(kindOfJSON(c), t, at)
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return d.value(v.Elem())
	case reflect.Interface:
		if v.NumMethod() > 0 {
			return errUnsupported
		}
		if e := v.Elem(); e.Kind() == reflect.Pointer && !e.IsNil() {
			return d.value(e.Elem()) // encoding/json decodes into what it points to
		}
		x, err := d.generic()
		if err != nil {
			return err
		}
		if x == nil {
			v.SetZero()
		} else {
			v.Set(reflect.ValueOf(x))
		}
		return nil
	}
	switch {
	case c == '{':
		return d.object(v, t)
	case c == '[':
		return d.array(v, t)
	case c == '"':
		return d.stringValue(v, t, ti)
	case c == 't' || c == 'f':
		return d.boolValue(v, t)
	case c == '-' || '0' <= c && c <= '9':
		return d.numberValue(v, t)
	}
	return d.syntax("looking for beginning of value")
}

// kindOfJSON names a JSON value by its first byte, as encoding/json's
// type errors do.
func kindOfJSON(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	}
	return "number"
}

// null leaves v alone, but for pointers, maps, slices and interfaces, which
// it sets to nil, and Unmarshalers, which get "null".
func (d *decoder) null(v reflect.Value) error {
	if err := d.literal("null"); err != nil {
		return err
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		v.SetZero()
		return nil
	}
	if hasMethods(v.Type()) {
		ti, err := info(v.Type())
		if err != nil {
			return err
		}
		if ti.unmarshaler {
			return v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON([]byte("null"))
		}
	}
	return nil
}

func (d *decoder) literal(word string) error {
	for k := 0; k < len(word); k++ {
		if d.i >= len(d.data) || d.data[d.i] != word[k] {
			return d.syntax("in literal " + word + " (expecting " + quoteChar(word[k]) + ")")
		}
		d.i++
	}
	return nil
}

func (d *decoder) boolValue(v reflect.Value, t reflect.Type) error {
	at := d.i
	b := d.data[d.i] == 't'
	word := "false"
	if b {
		word = "true"
	}
	if err := d.literal(word); err != nil {
		return err
	}
	if v.Kind() != reflect.Bool {
		return d.mismatch("bool", t, at)
	}
	v.SetBool(b)
	return nil
}

func (d *decoder) numberValue(v reflect.Value, t reflect.Type) error {
	at := d.i
	end, err := d.scanNumber()
	if err != nil {
		return err
	}
	s := string(d.data[at:end])
	d.i = end
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v.OverflowInt(n) {
			return d.mismatch("number "+s, t, at)
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || v.OverflowUint(n) {
			return d.mismatch("number "+s, t, at)
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, t.Bits())
		if err != nil || v.OverflowFloat(f) {
			return d.mismatch("number "+s, t, at)
		}
		v.SetFloat(f)
	case reflect.String:
		if t != numberType {
			return d.mismatch("number", t, at)
		}
		v.SetString(s)
	default:
		return d.mismatch("number", t, at)
	}
	return nil
}

// scanNumber checks the number at d.i and returns where it ends.
func (d *decoder) scanNumber() (int, error) {
	i := d.i
	digits := func() bool {
		start := i
		for i < len(d.data) && '0' <= d.data[i] && d.data[i] <= '9' {
			i++
		}
		return i > start
	}
	fail := func() (int, error) {
		d.i = i
		return 0, d.syntax("in numeric literal")
	}
	if i < len(d.data) && d.data[i] == '-' {
		i++
	}
	switch {
	case i < len(d.data) && d.data[i] == '0':
		i++
	case !digits():
		return fail()
	}
	if i < len(d.data) && d.data[i] == '.' {
		i++
		if !digits() {
			return fail()
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if !digits() {
			return fail()
		}
	}
	return i, nil
}

func (d *decoder) stringValue(v reflect.Value, t reflect.Type, ti *typeInfo) error {
	at := d.i
	s, err := d.scanString()
	if err != nil {
		return err
	}
	if ti != nil && ti.textUnmarshaler {
		return v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
	}
	switch {
	case v.Kind() == reflect.String:
		if t == numberType && !validNumber(s) {
			return fmt.Errorf("json: invalid number literal, trying to unmarshal %q into Number", `"`+s+`"`)
		}
		v.SetString(s)
	case v.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return err
		}
		v.SetBytes(b)
	default:
		return d.mismatch("string", t, at)
	}
	return nil
}

func validNumber(s string) bool {
	d := decoder{data: []byte(s)}
	end, err := d.scanNumber()
	return err == nil && end == len(s)
}

// scanString reads the string at d.i (its opening quote) and returns it
// unquoted: escapes resolved, a lone surrogate or invalid UTF-8 as U+FFFD.
func (d *decoder) scanString() (string, error) {
	d.i++ // the quote
	start := d.i
	// the common case: no escapes, no special bytes
	for d.i < len(d.data) {
		c := d.data[d.i]
		if c == '"' {
			s := string(d.data[start:d.i])
			d.i++
			return s, nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		d.i++
	}
	b := append([]byte(nil), d.data[start:d.i]...)
	for {
		if d.i >= len(d.data) {
			return "", d.syntax("")
		}
		c := d.data[d.i]
		switch {
		case c == '"':
			d.i++
			return string(b), nil
		case c < 0x20:
			return "", d.syntax("in string literal")
		case c == '\\':
			r, err := d.escape()
			if err != nil {
				return "", err
			}
			b = utf8.AppendRune(b, r)
		case c < utf8.RuneSelf:
			b = append(b, c)
			d.i++
		default:
			r, size := utf8.DecodeRune(d.data[d.i:])
			d.i += size
			b = utf8.AppendRune(b, r) // RuneError for invalid bytes
		}
	}
}

// escape reads one escape sequence (a surrogate pair counts as one).
func (d *decoder) escape() (rune, error) {
	d.i++ // the backslash
	if d.i >= len(d.data) {
		return 0, d.syntax("")
	}
	c := d.data[d.i]
	d.i++
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, err := d.hex4()
		if err != nil {
			return 0, err
		}
		if utf16.IsSurrogate(r) {
			if d.i+1 < len(d.data) && d.data[d.i] == '\\' && d.data[d.i+1] == 'u' {
				save := d.i
				d.i += 2
				r2, err := d.hex4()
				if err != nil {
					return 0, err
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					return dec, nil
				}
				d.i = save // not a pair: the second escape stands alone
			}
			return utf8.RuneError, nil
		}
		return r, nil
	}
	d.i--
	return 0, d.syntax("in string escape code")
}

func (d *decoder) hex4() (rune, error) {
	if d.i+4 > len(d.data) {
		d.i = len(d.data)
		return 0, d.syntax("")
	}
	var r rune
	for k := 0; k < 4; k++ {
		c := d.data[d.i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, d.syntax("in \\u hexadecimal character escape")
		}
		r = r<<4 | rune(c)
		d.i++
	}
	return r, nil
}

// members calls f for each member of the object at d.i, with d.i at its
// value; f must consume the value.
func (d *decoder) members(f func(key string) error) error {
	d.i++ // {
	d.skipSpace()
	if d.i < len(d.data) && d.data[d.i] == '}' {
		d.i++
		return nil
	}
	for {
		d.skipSpace()
		if d.i >= len(d.data) || d.data[d.i] != '"' {
			return d.syntax("looking for beginning of object key string")
		}
		key, err := d.scanString()
		if err != nil {
			return err
		}
		d.skipSpace()
		if d.i >= len(d.data) || d.data[d.i] != ':' {
			return d.syntax("after object key")
		}
		d.i++
		if err := f(key); err != nil {
			return err
		}
		if more, err := d.more('}', "after object key:value pair"); !more {
			return err
		}
	}
}

// more reads what follows a member or an element: a comma (true: another
// one follows) or the closing byte.
func (d *decoder) more(closing byte, context string) (bool, error) {
	d.skipSpace()
	switch {
	case d.i >= len(d.data):
		return false, d.syntax("")
	case d.data[d.i] == ',':
		d.i++
		return true, nil
	case d.data[d.i] == closing:
		d.i++
		return false, nil
	}
	return false, d.syntax(context)
}

// elements calls f for each element of the array at d.i.
func (d *decoder) elements(f func(n int) error) error {
	d.i++ // [
	d.skipSpace()
	if d.i < len(d.data) && d.data[d.i] == ']' {
		d.i++
		return nil
	}
	for n := 0; ; n++ {
		if err := f(n); err != nil {
			return err
		}
		if more, err := d.more(']', "after array element"); !more {
			return err
		}
	}
}

func (d *decoder) object(v reflect.Value, t reflect.Type) error {
	switch v.Kind() {
	case reflect.Struct:
		ti, err := info(t)
		if err != nil {
			return err
		}
		outer := d.st
		defer func() { d.st = outer }()
		return d.members(func(key string) error {
			f := lookup(ti.fields, key)
			if f == nil {
				return d.skip()
			}
			fv, err := settableField(v, f.index)
			if err != nil {
				return err
			}
			d.st = t
			d.path = append(d.path, f.name)
			err = d.value(fv)
			d.path = d.path[:len(d.path)-1]
			return err
		})
	case reflect.Map:
		if t == stringMapType {
			return d.stringMap(v)
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(t))
		}
		kt, et := t.Key(), t.Elem()
		return d.members(func(key string) error {
			kv, err := mapKey(kt, key)
			if err != nil {
				return err
			}
			ev := reflect.New(et).Elem()
			d.path = append(d.path, key)
			err = d.value(ev)
			d.path = d.path[:len(d.path)-1]
			if err != nil {
				return err
			}
			v.SetMapIndex(kv, ev)
			return nil
		})
	}
	return d.mismatch("object", t, d.i)
}

var stringMapType = reflect.TypeFor[map[string]string]()

// stringMap decodes a map[string]string (annotations, cgroup paths,
// sysctls) without reflect for each member: the general path's MakeMap,
// New and SetMapIndex per member cost more than the rest of a state file.
func (d *decoder) stringMap(v reflect.Value) error {
	m := v.Interface().(map[string]string)
	if m == nil {
		m = map[string]string{}
		v.Set(reflect.ValueOf(m))
	}
	return d.members(func(key string) error {
		d.skipSpace()
		if d.i < len(d.data) && d.data[d.i] == '"' {
			s, err := d.scanString()
			m[key] = s
			return err
		}
		// null leaves "" (encoding/json's rule for a string); anything
		// else is the general path's type error
		var s string
		d.path = append(d.path, key)
		err := d.value(reflect.ValueOf(&s).Elem())
		d.path = d.path[:len(d.path)-1]
		if err == nil {
			m[key] = s
		}
		return err
	})
}

// lookup finds the field a key names: exactly, else without regard to case.
func lookup(fields []field, key string) *field {
	for i := range fields {
		if fields[i].name == key {
			return &fields[i]
		}
	}
	for i := range fields {
		if strings.EqualFold(fields[i].name, key) {
			return &fields[i]
		}
	}
	return nil
}

// settableField follows index, making nil embedded pointers on the way.
func settableField(v reflect.Value, index []int) (reflect.Value, error) {
	for k, i := range index {
		if k > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, fmt.Errorf("json: cannot set embedded pointer to unexported struct: %v", v.Type().Elem())
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v, nil
}

func mapKey(kt reflect.Type, key string) (reflect.Value, error) {
	if reflect.PointerTo(kt).Implements(textUnmarshalerType) {
		kv := reflect.New(kt)
		if err := kv.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(key)); err != nil {
			return reflect.Value{}, err
		}
		return kv.Elem(), nil
	}
	kv := reflect.New(kt).Elem()
	switch kt.Kind() {
	case reflect.String:
		kv.SetString(key)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(key, 10, 64)
		if err != nil || kv.OverflowInt(n) {
			return reflect.Value{}, &json.UnmarshalTypeError{Value: "number " + key, Type: kt}
		}
		kv.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(key, 10, 64)
		if err != nil || kv.OverflowUint(n) {
			return reflect.Value{}, &json.UnmarshalTypeError{Value: "number " + key, Type: kt}
		}
		kv.SetUint(n)
	default:
		return reflect.Value{}, errUnsupported
	}
	return kv, nil
}

func (d *decoder) array(v reflect.Value, t reflect.Type) error {
	switch v.Kind() {
	case reflect.Slice:
		v.SetLen(0)
		err := d.elements(func(n int) error {
			if n >= v.Cap() {
				v.Grow(1)
			}
			v.SetLen(n + 1)
			ev := v.Index(n)
			ev.SetZero()
			return d.value(ev)
		})
		if err == nil && v.IsNil() {
			v.Set(reflect.MakeSlice(t, 0, 0)) // [] is an empty slice, not nil
		}
		return err
	case reflect.Array:
		n := 0
		err := d.elements(func(i int) error {
			n = i + 1
			if i < v.Len() {
				return d.value(v.Index(i))
			}
			return d.skip()
		})
		for ; n < v.Len(); n++ {
			v.Index(n).SetZero()
		}
		return err
	}
	return d.mismatch("array", t, d.i)
}

// generic decodes a value into any: map[string]any, []any, float64,
// string, bool or nil.
func (d *decoder) generic() (any, error) {
	d.skipSpace()
	if d.i >= len(d.data) {
		return nil, d.syntax("")
	}
	switch c := d.data[d.i]; {
	case c == '{':
		m := map[string]any{}
		err := d.members(func(key string) error {
			x, err := d.generic()
			m[key] = x
			return err
		})
		return m, err
	case c == '[':
		a := []any{}
		err := d.elements(func(int) error {
			x, err := d.generic()
			a = append(a, x)
			return err
		})
		return a, err
	case c == '"':
		return d.scanString()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		at := d.i
		end, err := d.scanNumber()
		if err != nil {
			return nil, err
		}
		d.i = end
		f, err := strconv.ParseFloat(string(d.data[at:end]), 64)
		if err != nil {
			return nil, &json.UnmarshalTypeError{Value: "number " + string(d.data[at:end]), Type: reflect.TypeFor[float64](), Offset: int64(at)}
		}
		return f, nil
	}
	return nil, d.syntax("looking for beginning of value")
}

// skip passes over the next value, checking its syntax.
func (d *decoder) skip() error {
	d.skipSpace()
	if d.i >= len(d.data) {
		return d.syntax("")
	}
	switch c := d.data[d.i]; {
	case c == '{':
		return d.members(func(string) error { return d.skip() })
	case c == '[':
		return d.elements(func(int) error { return d.skip() })
	case c == '"':
		_, err := d.scanString()
		return err
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		end, err := d.scanNumber()
		d.i = end
		return err
	}
	return d.syntax("looking for beginning of value")
}

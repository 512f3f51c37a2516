// Package jsonlite encodes and decodes JSON by encoding/json's rules (names
// and tags, omitempty and omitzero, embedded structs, keys matched without
// regard to case, json.Marshaler/Unmarshaler and encoding.TextMarshaler
// types, HTML-safe escaping, sorted map keys) by walking values with
// reflect, without building a codec per type first.
//
// Why: an oci-rt command lives a few milliseconds and encodes or decodes
// each of its types once. encoding/json builds and caches a codec for every
// type it meets before it uses it; in a fresh process that set-up is most of
// the cost (config.json: ~0.8 ms cold against ~40 µs warm; runtime.json's
// cgroup configuration ~0.6 ms cold). Walking the value directly costs
// little more than the warm path. Whatever this package does not handle (a
// non-empty interface, a channel, the ",string" option...) falls back to
// encoding/json, so the result is always encoding/json's.
package jsonlite

import (
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// errUnsupported sends a value to encoding/json.
var errUnsupported = errors.New("jsonlite: unsupported")

var (
	marshalerType       = reflect.TypeFor[json.Marshaler]()
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	isZeroerType        = reflect.TypeFor[interface{ IsZero() bool }]()
	numberType          = reflect.TypeFor[json.Number]()
)

// typeInfo is what the walk needs to know of a named type: its methods
// that change how it is coded, and a struct's fields. Only types that a
// value actually reaches get one.
type typeInfo struct {
	marshaler        bool // T implements json.Marshaler
	addrMarshaler    bool // only *T does
	textMarshaler    bool
	addrTextMarshal  bool
	unmarshaler      bool // *T implements json.Unmarshaler
	textUnmarshaler  bool // *T implements encoding.TextUnmarshaler
	zeroer, addrZero bool // T (or only *T) has IsZero() bool, for omitzero
	fields           []field
}

// field is a struct field as encoding/json sees it: its JSON name, the
// path to it through embedded structs and its tag options.
type field struct {
	name      string
	index     []int
	typ       reflect.Type
	tagged    bool
	omitEmpty bool
	omitZero  bool
}

var (
	infoMu sync.Mutex
	infos  = map[reflect.Type]*typeInfo{}
)

// info returns t's typeInfo, made on first use.
func info(t reflect.Type) (*typeInfo, error) {
	infoMu.Lock()
	ti := infos[t]
	infoMu.Unlock()
	if ti != nil {
		return ti, nil
	}
	ti = &typeInfo{}
	if t.Kind() != reflect.Interface {
		pt := reflect.PointerTo(t)
		ti.marshaler = t.Implements(marshalerType)
		ti.addrMarshaler = !ti.marshaler && pt.Implements(marshalerType)
		ti.textMarshaler = t.Implements(textMarshalerType)
		ti.addrTextMarshal = !ti.textMarshaler && pt.Implements(textMarshalerType)
		ti.unmarshaler = pt.Implements(unmarshalerType)
		ti.textUnmarshaler = pt.Implements(textUnmarshalerType)
		ti.zeroer = t.Implements(isZeroerType)
		ti.addrZero = !ti.zeroer && pt.Implements(isZeroerType)
	}
	if t.Kind() == reflect.Struct {
		fs, err := structFields(t)
		if err != nil {
			return nil, err
		}
		ti.fields = fs
	}
	infoMu.Lock()
	infos[t] = ti
	infoMu.Unlock()
	return ti, nil
}

// hasMethods tells whether a type may carry methods that change its
// coding: only named types (and pointers to them) can.
func hasMethods(t reflect.Type) bool { return t.Name() != "" }

// structFields lists t's JSON fields by encoding/json's rules: exported
// fields, those of embedded structs promoted, a shallower field hiding
// deeper ones of the same name, and at one depth a tagged field winning
// over untagged ones (two of a kind cancel out). Slices rather than maps:
// this runs once per type in a process that lives a few milliseconds.
func structFields(t reflect.Type) ([]field, error) {
	type level struct {
		typ   reflect.Type
		index []int
	}
	var out []field
	var taken []string // names resolved at a shallower depth
	var visited []reflect.Type
	next := []level{{typ: t}}
	for len(next) > 0 {
		cur := next
		next = nil
		var found []field
		for _, l := range cur {
			if slices.Contains(visited, l.typ) {
				continue
			}
			visited = append(visited, l.typ)
			// the index paths of this struct's fields share one array
			width := len(l.index) + 1
			paths := make([]int, 0, l.typ.NumField()*width)
			for i := 0; i < l.typ.NumField(); i++ {
				sf := l.typ.Field(i)
				f, embed, err := fieldOf1(sf)
				if err != nil {
					return nil, err
				}
				if f == nil {
					continue
				}
				paths = append(append(paths, l.index...), i)
				index := paths[len(paths)-width : len(paths) : len(paths)]
				if embed != nil {
					next = append(next, level{typ: embed, index: index})
					continue
				}
				f.index = index
				found = append(found, *f)
			}
		}
		for i := range found {
			name := found[i].name
			if slices.Contains(taken, name) {
				continue // hidden by a shallower field, or resolved already
			}
			taken = append(taken, name)
			if f, ok := dominant(found[i:], name); ok {
				out = append(out, f)
			}
		}
	}
	// encoding/json writes fields in the order of their index paths
	sortByIndex(out)
	return out, nil
}

// fieldOf1 reads one struct field: nil when encoding/json ignores it, the
// struct type to descend into for an untagged embedded struct.
func fieldOf1(sf reflect.StructField) (*field, reflect.Type, error) {
	ft := sf.Type
	if sf.Anonymous {
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if !sf.IsExported() && ft.Kind() != reflect.Struct {
			return nil, nil, nil
		}
	} else if !sf.IsExported() {
		return nil, nil, nil
	}
	tag := sf.Tag.Get("json")
	if tag == "-" {
		return nil, nil, nil
	}
	name, opts, _ := strings.Cut(tag, ",")
	if !validName(name) {
		name = ""
	}
	f := &field{name: name, typ: sf.Type, tagged: name != ""}
	if name == "" {
		if sf.Anonymous && ft.Kind() == reflect.Struct {
			return f, ft, nil
		}
		f.name = sf.Name
	}
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		switch o {
		case "omitempty":
			f.omitEmpty = true
		case "omitzero":
			f.omitZero = true
		case "string":
			return nil, nil, errUnsupported
		}
	}
	return f, nil, nil
}

// dominant picks the field that wins among the fields called name at one
// depth (fs starts with the first of them).
func dominant(fs []field, name string) (field, bool) {
	var win field
	count, tagged := 0, 0
	for _, f := range fs {
		if f.name != name {
			continue
		}
		count++
		if f.tagged {
			tagged++
			win = f
		} else if count == 1 {
			win = f
		}
	}
	switch {
	case count == 1, tagged == 1:
		return win, true
	}
	return field{}, false
}

func sortByIndex(fs []field) {
	slices.SortStableFunc(fs, func(a, b field) int { return slices.Compare(a.index, b.index) })
}

// validName is encoding/json's rule for a tag name.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c > 127):
			return false
		}
	}
	return true
}

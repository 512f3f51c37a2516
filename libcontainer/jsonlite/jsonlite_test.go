package jsonlite_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	cg "github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/oci-rt/oci-rt/libcontainer"
	"github.com/oci-rt/oci-rt/libcontainer/jsonlite"
)

// The contract: whatever encoding/json makes of a value or a text, so does
// jsonlite. Every test compares the two on the same input.

type inner struct {
	A string `json:"a"`
	B int    `json:"b,omitempty"`
}

type Embedded struct {
	E1 string
	E2 *int `json:"e2,omitzero"`
}

type zeroer struct{ n int }

func (z zeroer) IsZero() bool { return z.n < 0 }

type ptrZeroer struct{ N int }

func (z *ptrZeroer) IsZero() bool { return z.N == 7 }

// textKey is a map key coded by its text methods (a struct: encoding/json
// built on json/v2 codes a string kind by its methods too, the classic one
// by the string).
type textKey struct{ S string }

func (k textKey) MarshalText() ([]byte, error) { return []byte("k-" + k.S), nil }
func (k *textKey) UnmarshalText(b []byte) error {
	k.S = strings.TrimPrefix(string(b), "k-")
	return nil
}

type ptrMarshaler struct{ V []int }

func (p *ptrMarshaler) MarshalJSON() ([]byte, error) { return []byte(` { "V" : [ 1 , 2 ] } `), nil }

type conflictA struct{ X, Y int }
type conflictB struct {
	X int
	Y int `json:"Y"`
}

type kitchen struct {
	Embedded
	*inner
	conflictA
	conflictB
	Str       string            `json:"str"`
	Esc       string            `json:"esc,omitempty"`
	Bytes     []byte            `json:"bytes"`
	F32       float32           `json:"f32"`
	F64       float64           `json:"f64"`
	I8        int8              `json:"i8"`
	U64       uint64            `json:"u64"`
	PtrInt    *int              `json:"ptrInt"`
	Skip      string            `json:"-"`
	Dash      string            `json:"-,"`
	Map       map[string]int    `json:"map"`
	IntMap    map[int]string    `json:"intMap,omitempty"`
	TextMap   map[textKey]bool  `json:"textMap,omitempty"`
	Any       any               `json:"any"`
	Raw       json.RawMessage   `json:"raw,omitempty"`
	Num       json.Number       `json:"num,omitempty"`
	Time      time.Time         `json:"time"`
	TimePtr   *time.Time        `json:"timePtr,omitzero"`
	Zero      zeroer            `json:"zero,omitzero"`
	PZero     ptrZeroer         `json:"pzero,omitzero"`
	PM        ptrMarshaler      `json:"pm"`
	Arr       [3]int            `json:"arr"`
	Nested    []map[string]*int `json:"nested"`
	unexp     int
	Interface fmtStringer `json:"iface,omitempty"`
}

type fmtStringer interface{ String() string }

var strs = []string{"", "plain", "a<b>&c", "quote\" back\\slash", "ctl\x01\x1f\b\f\n\r\t", "uni é €", "\u2028\u2029", "bad\xffutf8", "sur\U0001F600"}

// fill gives v random contents (depth bounds recursion).
func fill(r *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		choices := []int64{0, 1, -1, 42, math.MaxInt8, math.MinInt8}
		if v.Type().Bits() == 64 {
			choices = append(choices, math.MaxInt64, math.MinInt64)
		}
		v.SetInt(choices[r.IntN(len(choices))])
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		choices := []uint64{0, 1, 255}
		if v.Type().Bits() == 64 {
			choices = append(choices, math.MaxUint64)
		}
		v.SetUint(choices[r.IntN(len(choices))])
	case reflect.Float32, reflect.Float64:
		choices := []float64{0, 1.5, -2, 1e-7, 1e21, 123456789, 0.1}
		v.SetFloat(choices[r.IntN(len(choices))])
	case reflect.String:
		if v.Type() == reflect.TypeFor[json.Number]() {
			v.SetString([]string{"", "1", "-2.5e3"}[r.IntN(3)])
			return
		}
		v.SetString(strs[r.IntN(len(strs))])
	case reflect.Pointer:
		if depth > 4 || r.IntN(3) == 0 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(r, v.Elem(), depth+1)
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			v.SetBytes([]byte([]string{"", `{"x": [1, "y"]}`, ` true `}[r.IntN(3)]))
			return
		}
		if depth > 4 || r.IntN(4) == 0 {
			return
		}
		n := r.IntN(3)
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := 0; i < n; i++ {
			fill(r, v.Index(i), depth+1)
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fill(r, v.Index(i), depth+1)
		}
	case reflect.Map:
		if depth > 4 || r.IntN(4) == 0 {
			return
		}
		v.Set(reflect.MakeMap(v.Type()))
		for i := r.IntN(3); i > 0; i-- {
			k := reflect.New(v.Type().Key()).Elem()
			fill(r, k, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(r, e, depth+1)
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 4, 13, 0, r.IntN(60), r.IntN(1e9), time.UTC)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() || v.Type().Field(i).Anonymous {
				if f := v.Field(i); f.CanSet() {
					fill(r, f, depth+1)
				}
			}
		}
	case reflect.Interface:
		if v.NumMethod() == 0 && r.IntN(2) == 0 {
			v.Set(reflect.ValueOf(map[string]any{"n": 1.5, "s": "x", "l": []any{true, nil}}))
		}
	}
}

var roots = []reflect.Type{
	reflect.TypeFor[specs.Spec](),
	reflect.TypeFor[cg.Cgroup](),
	reflect.TypeFor[specs.State](),
	reflect.TypeFor[specs.Hooks](),
	reflect.TypeFor[libcontainer.State](),
	reflect.TypeFor[kitchen](),
}

// TestRoundTripsMatchEncodingJSON fills each type at random, many times,
// and checks that both packages write the same bytes (compact and
// indented) and read them back to the same value.
func TestRoundTripsMatchEncodingJSON(t *testing.T) {
	for _, typ := range roots {
		t.Run(typ.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(len(typ.String()))))
			for i := 0; i < 300; i++ {
				v := reflect.New(typ)
				fill(r, v.Elem(), 0)
				want, werr := json.Marshal(v.Interface())
				got, gerr := jsonlite.Marshal(v.Interface())
				if (werr == nil) != (gerr == nil) || sameText(want) != sameText(got) {
					t.Fatalf("Marshal #%d:\n got %s (%v)\nwant %s (%v)", i, got, gerr, want, werr)
				}
				if werr != nil {
					continue
				}
				wantI, _ := json.MarshalIndent(v.Interface(), "", "\t")
				gotI, _ := jsonlite.MarshalIndent(v.Interface(), "", "\t")
				if sameText(wantI) != sameText(gotI) {
					t.Fatalf("MarshalIndent #%d:\n got %s\nwant %s", i, gotI, wantI)
				}
				a, b := reflect.New(typ), reflect.New(typ)
				werr = json.Unmarshal(want, a.Interface())
				gerr = jsonlite.Unmarshal(want, b.Interface())
				if werr != nil || gerr != nil {
					t.Fatalf("Unmarshal #%d of %s: encoding/json %v, jsonlite %v", i, want, werr, gerr)
				}
				if !reflect.DeepEqual(a.Interface(), b.Interface()) {
					t.Fatalf("Unmarshal #%d of %s:\n got %#v\nwant %#v", i, want, b.Elem().Interface(), a.Elem().Interface())
				}
			}
		})
	}
}

// sameText writes invalid UTF-8 (decoded as U+FFFD) one way: encoding/json
// escapes it as \ufffd, or writes the character itself when it is built
// on json/v2 (GOEXPERIMENT=jsonv2).
func sameText(b []byte) string { return strings.ReplaceAll(string(b), `\ufffd`, "\ufffd") }

// decodeCases are texts for a spec whose reading must match encoding/json:
// spelling, nulls, escapes, and errors.
var decodeCases = []string{
	`{"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/"}}`,
	`{"OCIVERSION":"1","Process":{"ARGS":["a","b"]},"unknown":{"deep":[1,{"x":null}]}}`,
	` { "hostname" : "h" , "annotations" : { "a" : "b" , "c" : "" } } `,
	`{"hostname":"\u00e9\ud83d\ude00\ud800x\"\\\/\b\f\n\r\t"}`,
	`{"process":null,"linux":{"namespaces":null,"resources":{"memory":{"limit":-1}}}}`,
	`{"linux":{"resources":{"devices":[{"allow":false,"access":"rwm"}],"pids":{"limit":5}}}}`,
	`{"process":{"user":{"uid":4294967295,"additionalGids":[1,2]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":1,"soft":1}]}}`,
	`{"hostname":"a","hostname":"b"}`,
	`{"annotations":{"a":null,"b":"c","b":"d"},"linux":{"sysctl":{}}}`,
	`{"annotations":{"a":1}}`,
	`{"annotations":{"a":"b"} , "annotations":null}`,
	`{"process":{"oomScoreAdj":-1000,"noNewPrivileges":true}}`,
	"{\"hostname\":\"bad\xff\"}",
	`null`,
	`{}`,
	// errors
	``,
	`{`,
	`{"hostname":}`,
	`{"hostname":"a",}`,
	`{"hostname":"a"} x`,
	`{"hostname":1}`,
	`{"process":{"user":{"uid":-1}}}`,
	`{"process":{"user":{"uid":4294967296}}}`,
	`{"process":{"user":{"uid":1.5}}}`,
	`{"process":{"args":"sh"}}`,
	`{"process":{"terminal":"yes"}}`,
	`{"hostname":"a\x01"}`,
	`{"hostname":"\uzzzz"}`,
	`{"hostname":"\q"}`,
	`[1,2]`,
	`{"process":{"args":[1]}}`,
	`{"linux":{"resources":{"memory":{"limit":01}}}}`,
	`{"linux":{"resources":{"memory":{"limit":-}}}}`,
	`{"linux":{"resources":{"memory":{"limit":1.}}}}`,
	`tru`,
	`{"hostname" "a"}`,
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, in := range decodeCases {
		compareDecode(t, in)
	}
}

func compareDecode(t *testing.T, in string) {
	t.Helper()
	var a, b specs.Spec
	werr := json.Unmarshal([]byte(in), &a)
	gerr := jsonlite.Unmarshal([]byte(in), &b)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: encoding/json %v, jsonlite %v", in, werr, gerr)
	}
	if werr == nil && !reflect.DeepEqual(a, b) {
		t.Fatalf("%q:\n got %#v\nwant %#v", in, b, a)
	}
}

// TestTypeErrorNamesTheField: a wrong kind names the field by its path
// from the top and its type, as encoding/json does.
func TestTypeErrorNamesTheField(t *testing.T) {
	in := []byte(`{"process":{"args":"sh"}}`)
	var s specs.Spec
	err := jsonlite.Unmarshal(in, &s)
	want := "json: cannot unmarshal string into Go struct field Process.process.args of type []string"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// TestUnsupportedFallsBack: a value jsonlite does not walk (a non-empty
// interface) is handed to encoding/json whole.
func TestUnsupportedFallsBack(t *testing.T) {
	v := struct {
		S fmtStringer `json:"s"`
		N int         `json:"n"`
	}{S: time.Second, N: 2}
	got, err := jsonlite.Marshal(v)
	want, _ := json.Marshal(v)
	if err != nil || string(got) != string(want) {
		t.Fatalf("got %s %v, want %s", got, err, want)
	}
	in := []byte(`{"n":3,"s":null}`)
	err = jsonlite.Unmarshal(in, &v)
	if err != nil || v.N != 3 || v.S != nil {
		t.Fatalf("decode: %v %+v", err, v)
	}
	if _, err := jsonlite.Marshal(math.Inf(1)); err == nil {
		t.Fatal("Inf: no error")
	}
}

func FuzzDecodeSpec(f *testing.F) {
	for _, in := range decodeCases {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		compareDecode(t, in)
	})
}

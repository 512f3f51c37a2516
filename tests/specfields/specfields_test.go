// Package specfields makes sure no field of the runtime-spec is dropped
// silently: every field of specs.Spec, walked recursively with reflect,
// must be read somewhere in oci-rt's code (found by type-checking it) or
// be listed in planner.Refused, whose fields a config may not set.
package specfields

import (
	"encoding/json"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/oci-rt/oci-rt/libcontainer/planner"
	"github.com/oci-rt/oci-rt/libcontainer/specdefault"
)

const module = "github.com/oci-rt/oci-rt"

// notReaders write a spec or walk it with reflect: what they touch is not
// applied by that.
var notReaders = []string{"/libcontainer/specdefault", "/libcontainer/jsonlite", "/tests/", "/bench"}

// pending are fields that a change in flight applies: tolerated unread,
// and an error once read (the entry must then go).
var pending = map[string]string{}

type listedPackage struct {
	ImportPath      string
	Dir             string
	Export          string
	CompiledGoFiles []string
	Module          *struct{ Path string }
}

// fieldsRead type-checks the module's packages (their dependencies from
// export data that `go list -export` builds) and returns every struct
// field some code reads: a selector x.f that is not the left side of an
// assignment.
func fieldsRead(t *testing.T) (map[*types.Var]bool, types.Importer) {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-export", "-compiled", "-deps",
		"-json=ImportPath,Export,CompiledGoFiles,Dir,Module", module+"/...")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	exports := map[string]string{}
	var mine []listedPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		exports[p.ImportPath] = p.Export
		if p.Module != nil && p.Module.Path == module && !isNotReader(p.ImportPath) {
			mine = append(mine, p)
		}
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		return os.Open(exports[path])
	})
	read := map[*types.Var]bool{}
	for _, p := range mine {
		var files []*ast.File
		for _, name := range p.CompiledGoFiles {
			if !strings.HasPrefix(name, "/") {
				name = p.Dir + "/" + name
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		info := &types.Info{Selections: map[*ast.SelectorExpr]*types.Selection{}}
		conf := types.Config{Importer: imp}
		if _, err := conf.Check(p.ImportPath, fset, files, info); err != nil {
			t.Fatalf("type-check %s: %v", p.ImportPath, err)
		}
		written := map[*ast.SelectorExpr]bool{}
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				if a, ok := n.(*ast.AssignStmt); ok {
					for _, l := range a.Lhs {
						if s, ok := l.(*ast.SelectorExpr); ok {
							written[s] = true
						}
					}
				}
				return true
			})
		}
		for e, s := range info.Selections {
			if v, ok := s.Obj().(*types.Var); ok && v.IsField() && !written[e] {
				read[v] = true
			}
		}
	}
	return read, imp
}

func isNotReader(path string) bool {
	for _, n := range notReaders {
		if strings.Contains(path+"/", n) {
			return true
		}
	}
	return false
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

// elem strips pointers, slices, arrays and maps; it says whether an array
// was among them (the path then gets "[]").
func elem(t reflect.Type) (reflect.Type, bool) {
	array := false
	for {
		switch t.Kind() {
		case reflect.Pointer:
			t = t.Elem()
		case reflect.Slice, reflect.Array:
			t, array = t.Elem(), true
		case reflect.Map:
			t = t.Elem()
		default:
			return t, array
		}
	}
}

func refusedPaths() map[string]bool {
	m := map[string]bool{}
	for _, r := range planner.Refused {
		m[r.Path] = true
	}
	return m
}

func TestEveryFieldReadOrRefused(t *testing.T) {
	read, imp := fieldsRead(t)
	specPkg := reflect.TypeOf(specs.Spec{}).PkgPath()
	tp, err := imp.Import(specPkg)
	if err != nil {
		t.Fatal(err)
	}
	refused := refusedPaths()
	seen := map[string]bool{}
	var walk func(prefix string, rt reflect.Type)
	walk = func(prefix string, rt reflect.Type) {
		st := tp.Scope().Lookup(rt.Name()).Type().Underlying().(*types.Struct)
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			ft, array := elem(f.Type)
			if f.Anonymous {
				walk(prefix, ft)
				continue
			}
			path := prefix + jsonName(f)
			seen[path] = true
			if refused[path] {
				continue
			}
			var v *types.Var
			for j := 0; j < st.NumFields(); j++ {
				if st.Field(j).Name() == f.Name {
					v = st.Field(j)
				}
			}
			if why, ok := pending[path]; ok {
				if read[v] {
					t.Errorf("%s is read now: drop it from pending (%s)", path, why)
				}
				continue
			}
			if !read[v] {
				t.Errorf("%s (%s.%s): no code of oci-rt reads it and planner.Refused does not list it", path, rt.Name(), f.Name)
				continue
			}
			if ft.Kind() == reflect.Struct && ft.PkgPath() == specPkg {
				if array {
					path += "[]"
				}
				walk(path+".", ft)
			}
		}
	}
	walk("", reflect.TypeOf(specs.Spec{}))
	for path := range refused {
		if !seen[path] {
			t.Errorf("planner.Refused lists %q, which the runtime-spec does not have", path)
		}
	}
}

// set gives the field at path a non-zero value (creating what leads to it)
// and returns the path with the first element's index, as errors name it.
func set(t *testing.T, v reflect.Value, path string) string {
	t.Helper()
	var named []string
	for _, part := range strings.Split(path, ".") {
		name, array := strings.CutSuffix(part, "[]")
		found := false
		for i := 0; i < v.NumField(); i++ {
			if jsonName(v.Type().Field(i)) == name {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			t.Fatalf("%s: no field %q", path, name)
		}
		if array {
			part = name + "[0]"
		}
		named = append(named, part)
		v = fill(v)
	}
	return strings.Join(named, ".")
}

// fill makes v non-zero and returns the struct under it (or v).
func fill(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return fill(v.Elem())
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
		}
		return fill(v.Index(0))
	case reflect.Map:
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e)
		v.SetMapIndex(reflect.ValueOf("x").Convert(v.Type().Key()), e)
		return e
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	}
	return v
}

func TestRefusedFieldsAreRefused(t *testing.T) {
	if err := planner.CheckRefused(specdefault.Example()); err != nil {
		t.Fatalf("the default config is refused: %v", err)
	}
	for _, r := range planner.Refused {
		s := specdefault.Example()
		named := set(t, reflect.ValueOf(s).Elem(), r.Path)
		err := planner.CheckRefused(s)
		if err == nil || !strings.HasPrefix(err.Error(), named) {
			t.Errorf("%s set: CheckRefused says %v, want an error naming %s", r.Path, err, named)
		}
		if r.Reason == "" {
			t.Errorf("%s: no reason given", r.Path)
		}
	}
}

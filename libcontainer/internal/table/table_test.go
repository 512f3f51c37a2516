package table

import (
	"slices"
	"testing"
)

func TestTable(t *testing.T) {
	tab := Table[string, int]{{"a", 1}, {"b", 2}, {"a", 3}}
	if v, ok := tab.Get("a"); !ok || v != 1 {
		t.Errorf("Get(a) = %d %v, want the first entry's 1", v, ok)
	}
	if v, ok := tab.Get("b"); !ok || v != 2 {
		t.Errorf("Get(b) = %d %v", v, ok)
	}
	if v, ok := tab.Get("c"); ok || v != 0 {
		t.Errorf("Get(c) = %d %v, want 0 false", v, ok)
	}
	if k := tab.Keys(); !slices.Equal(k, []string{"a", "b", "a"}) {
		t.Errorf("Keys() = %v", k)
	}
}

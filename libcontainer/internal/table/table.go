// Package table is a small lookup table kept as data in the binary.
//
// A map literal at package level is built by the package's initialiser,
// which every oci-rt command runs (state and list too) whether it looks
// anything up or not. A slice of constant entries is laid out by the
// linker and costs nothing until it is used; a linear search over a few
// dozen entries costs about what hashing the key does. (Measured on its
// own the gain is small, a couple of page faults per command; it is the
// rule for tables that most commands never read.)
package table

// Table maps keys to values; the first entry of a key wins.
type Table[K comparable, V any] []Entry[K, V]

// Entry is one key and its value.
type Entry[K comparable, V any] struct {
	Key K
	Val V
}

// Get returns the value of k and whether the table has k.
func (t Table[K, V]) Get(k K) (V, bool) {
	for i := range t {
		if t[i].Key == k {
			return t[i].Val, true
		}
	}
	var zero V
	return zero, false
}

// Keys returns the keys in the table's order.
func (t Table[K, V]) Keys() []K {
	out := make([]K, len(t))
	for i := range t {
		out[i] = t[i].Key
	}
	return out
}

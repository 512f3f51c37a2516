package procstat

import "testing"

// TestParse: the state and start time of a stat line, whatever the
// command name holds; a line cut short or not a number is an error.
func TestParse(t *testing.T) {
	rest := " 1 1 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 123456789 8 1\n"
	for _, tc := range []struct {
		line  string
		start uint64
		state byte
	}{
		{"42 (sh) S 1" + rest, 123456789, 'S'},
		{"42 (a b) ) (c) Z 1" + rest, 123456789, 'Z'},
		{"42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10\n", 987654, 'S'},
		{"42 (x) R 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 18446744073709551615", 18446744073709551615, 'R'},
	} {
		start, state, err := Parse([]byte(tc.line))
		if err != nil || start != tc.start || state != tc.state {
			t.Errorf("%q: got %d %c %v, want %d %c", tc.line, start, state, err, tc.start, tc.state)
		}
	}
	for _, bad := range []string{"", "42 sh S 1", "42 (a) S 1", "42 (sh) S 1 0 0", "42 (x) R 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12a4", "42 (x) R 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 18446744073709551616"} {
		if _, _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

package errmsg

import (
	"fmt"
	"strings"
	"testing"
)

func TestCut(t *testing.T) {
	big := strings.Repeat("/x", 500000)
	for _, c := range []struct {
		name, in string
		want     string // the result must start with it
		max      int
	}{
		{"short stays", `mounts[0] destination "/proc": symlink`, `mounts[0] destination "/proc": symlink`, 100},
		{"quoted value", fmt.Sprintf("mounts[3] destination %q: not a directory", big),
			`mounts[3] destination "` + big[:MaxValue] + `"...(1000000 bytes): not a directory`, 300},
		{"bare run", "exec " + big + ": no such file or directory",
			"exec " + big[:MaxValue] + "...(1000000 bytes): no such file or directory", 300},
		{"escapes kept", fmt.Sprintf("hostname %q", strings.Repeat("\x00", 300)),
			"hostname \"" + strings.Repeat(`\x00`, MaxValue) + `"...(300 bytes)`, 1000},
		{"two values", fmt.Sprintf("a %q b %q", big, big), `a "` + big[:MaxValue] + `"...(1000000 bytes) b "`, 600},
		{"unbalanced quote", `field "` + big, `field "` + big[:MaxValue] + "...", 300},
	} {
		got := Cut(c.in)
		if !strings.HasPrefix(got, c.want) || len(got) > c.max {
			t.Errorf("%s: Cut = %.400q (%d bytes), want prefix %.400q and at most %d bytes", c.name, got, len(got), c.want, c.max)
		}
	}
}

func TestCutRuneBoundary(t *testing.T) {
	v := "é" + strings.Repeat("é", 200) // 2 bytes each: 200 is not a boundary after the first
	got := Cut(fmt.Sprintf("hostname %q", "a"+v))
	if strings.Contains(got, `\x`) || !strings.HasSuffix(got, "(403 bytes)") {
		t.Errorf("Cut split a rune or lost the length: %q", got)
	}
}

// A value cut where its error is built is not cut again by Cut, which
// would count the marker into its length.
func TestValueThenCut(t *testing.T) {
	v := Value(strings.Repeat("x", 300))
	if v != strings.Repeat("x", MaxValue)+"...(300 bytes)" {
		t.Fatalf("Value = %q", v)
	}
	if got, want := Cut(fmt.Sprintf("hostname %q: bad", v)), fmt.Sprintf("hostname %q: bad", v); got != want {
		t.Errorf("Cut = %q, want it unchanged %q", got, want)
	}
	if got := Value("short"); got != "short" {
		t.Errorf("Value(short) = %q", got)
	}
}

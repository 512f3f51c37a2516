package cgroups

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestOOMKillsAndInotifyGone(t *testing.T) {
	p := filepath.Join(t.TempDir(), "memory.oom_control")
	os.WriteFile(p, []byte("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"), 0o644)
	if n, ok := oomKills(p); n != 3 || !ok {
		t.Errorf("oomKills %d %v, want 3 true", n, ok)
	}
	if _, ok := oomKills(p + ".gone"); ok {
		t.Error("oomKills of a missing file: ok")
	}
	ev := func(mask uint32, name string) []byte {
		b := make([]byte, unix.SizeofInotifyEvent+len(name))
		binary.NativeEndian.PutUint32(b[4:], mask)
		binary.NativeEndian.PutUint32(b[12:], uint32(len(name)))
		copy(b[unix.SizeofInotifyEvent:], name)
		return b
	}
	if inotifyGone(append(ev(unix.IN_MODIFY, "abcd"), ev(unix.IN_MODIFY, "")...)) {
		t.Error("IN_MODIFY taken for gone")
	}
	if !inotifyGone(append(ev(unix.IN_MODIFY, "abcd"), ev(unix.IN_IGNORED, "")...)) {
		t.Error("IN_IGNORED after another event not seen")
	}
}

// TestWatchOOMv2: a rise of memory.events' oom_kill is one event each; a
// change of another line is none; the channel closes when the file goes
// (with its cgroup). A plain file stands in for the cgroup2 one here (this
// host's cgroup2 hierarchy has no memory controller).
func TestWatchOOMv2(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "memory.events")
	write := func(oom, kill int) {
		t.Helper()
		s := fmt.Sprintf("low 0\nhigh 0\nmax 3\noom %d\noom_kill %d\noom_group_kill 0\n", oom, kill)
		if err := os.WriteFile(ev, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(0, 1)
	ch, err := WatchOOM(map[string]string{"": dir})
	if err != nil || ch == nil {
		t.Fatalf("WatchOOM: %v %v", ch, err)
	}
	expect := func(n int, what string) {
		t.Helper()
		for i := 0; i < n; i++ {
			select {
			case _, ok := <-ch:
				if !ok {
					t.Fatalf("%s: closed", what)
				}
			case <-time.After(2 * time.Second):
				t.Fatalf("%s: %d events, want %d", what, i, n)
			}
		}
		select {
		case _, ok := <-ch:
			if ok {
				t.Fatalf("%s: more than %d events", what, n)
			}
		case <-time.After(200 * time.Millisecond):
		}
	}
	write(1, 1)
	expect(0, "oom without a kill")
	write(3, 3)
	expect(2, "two kills")
	os.Remove(ev)
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("an event when memory.events went")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the channel stayed open when memory.events went")
	}
	if ch, err := WatchOOM(map[string]string{"cpu": dir}); ch != nil || err != nil {
		t.Errorf("without a memory controller: %v %v, want nil, nil", ch, err)
	}
}

package state

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckID(t *testing.T) {
	for _, id := range []string{"a", "web-1", "A_b+c.d", "0123"} {
		if err := CheckID(id); err != nil {
			t.Errorf("CheckID(%q) = %v, want ok", id, err)
		}
	}
	for _, id := range []string{"", ".", "..", "a/b", "../x", "a b", "é", "x\n"} {
		if err := CheckID(id); err == nil {
			t.Errorf("CheckID(%q) accepted", id)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f.json")
	for _, data := range []string{"first", "second, longer"} {
		if err := WriteFileAtomic(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil || string(b) != data {
			t.Fatalf("read back %q, %v; want %q", b, err, data)
		}
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Errorf("%d files left in the directory, want 1 (no temporary file)", len(ents))
	}
	if err := WriteFileAtomic(filepath.Join(p, "under-a-file"), nil, 0o600); err == nil {
		t.Error("writing under a regular file succeeded")
	}
}

func TestHandleRemove(t *testing.T) {
	st := Store{Root: t.TempDir()}
	h, err := st.Claim("c1")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"state.json", "runtime.json", "config.json", "start.sock"} {
		if err := os.WriteFile(h.File(n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(h.Path); !os.IsNotExist(err) {
		t.Fatalf("state directory still there: %v", err)
	}
	if h.fd != -1 {
		t.Error("the handle still holds the directory")
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, 10000)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	// one reader for all: its buffer, grown by the big file, is reused
	var r Reader
	for _, data := range [][]byte{nil, []byte("x"), big[:2047], big[:2048], big[:2049], big, []byte("yz")} {
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := ReadFile(p)
		if err != nil || string(b) != string(data) {
			t.Fatalf("readFile of %d bytes: got %d bytes, %v", len(data), len(b), err)
		}
		b, err = r.read(p)
		if err != nil || string(b) != string(data) {
			t.Fatalf("Reader.read of %d bytes: got %d bytes, %v", len(data), len(b), err)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v, want a not-exist error", err)
	}
}

// TestProcStat: the start time and state of our own process (the parser
// is procstat's, tested there); no pid, or one above the kernel's limit
// (PID_MAX_LIMIT, 4194304), is an error.
func TestProcStat(t *testing.T) {
	start, st, err := ProcStat(os.Getpid())
	if err != nil || start == 0 || st == 0 || st == 'Z' {
		t.Errorf("procStat of ourselves: %d %c %v", start, st, err)
	}
	for _, pid := range []int{0, -1, 4194305} {
		if _, _, err := ProcStat(pid); err == nil {
			t.Errorf("procStat of pid %d: no error", pid)
		}
	}
}

// claimForUs claims a container "c" whose process is this test's, and
// returns its handle (unlocked at the end of the test) and our start time.
func claimForUs(t *testing.T) (*Dir, uint64) {
	t.Helper()
	h, err := Store{Root: t.TempDir()}.Claim("c")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Unlock)
	start, _, err := ProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	return h, start
}

// TestCreatedOrRunning: a created container whose start.sock is gone has
// been started (start does not rewrite state.json).
func TestCreatedOrRunning(t *testing.T) {
	h, start := claimForUs(t)
	if err := h.Save(&State{ID: "c", Status: Created, Pid: os.Getpid(), StartTime: start}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.File("start.sock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{Created, Running} {
		s, err := Load(h.Path)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != want {
			t.Errorf("status %s, want %s", s.Status, want)
		}
		os.Remove(h.File("start.sock"))
	}
}

// TestCgroupPathsInRuntimeFile: state.json keeps only the freezer file
// (list decodes one per container); the paths are in runtime.json, which
// LoadFull reads; a state.json of an older oci-rt, with its paths and no
// freezer entry, still gives both. A frozen running container is paused.
func TestCgroupPathsInRuntimeFile(t *testing.T) {
	h, start := claimForUs(t)
	cg := t.TempDir()
	paths := map[string]string{"freezer": filepath.Join(cg, "freezer"), "memory": filepath.Join(cg, "memory")}
	os.Mkdir(paths["freezer"], 0o755)
	os.WriteFile(filepath.Join(paths["freezer"], "freezer.state"), []byte("FROZEN\n"), 0o644)
	s := &State{ID: "c", Status: Running, Pid: os.Getpid(), StartTime: start}
	s.SetCgroupPaths(paths)
	if err := h.CreateRuntime(s); err != nil {
		t.Fatal(err)
	}
	if err := h.Save(s); err != nil {
		t.Fatal(err)
	}
	if s.CgroupPaths == nil {
		t.Fatal("Save dropped the paths from the state in memory")
	}
	b, _ := os.ReadFile(h.File("state.json"))
	if strings.Contains(string(b), "cgroupPaths") || !strings.Contains(string(b), `"freezer":"`+paths["freezer"]+`/freezer.state"`) {
		t.Errorf("state.json = %s, want the freezer file and no cgroupPaths", b)
	}
	check := func(what string) {
		t.Helper()
		if got, err := Load(h.Path); err != nil || got.Status != Paused {
			t.Errorf("%s: LoadState: %v, status %v; want paused", what, err, got)
		}
		full, err := h.LoadFull()
		if err != nil || !maps.Equal(full.CgroupPaths, paths) {
			t.Errorf("%s: LoadFull paths %v (%v), want %v", what, full, err, paths)
		}
	}
	check("new files")
	// what an older oci-rt wrote: the paths in state.json, none in runtime.json
	old := fmt.Sprintf(`{"id":"c","status":"running","pid":%d,"startTime":%d,"cgroupPaths":{"freezer":%q,"memory":%q}}`,
		os.Getpid(), start, paths["freezer"], paths["memory"])
	os.WriteFile(h.File("state.json"), []byte(old), 0o600)
	os.WriteFile(h.File("runtime.json"), []byte(`{}`), 0o600)
	check("older files")
}

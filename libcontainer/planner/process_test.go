package planner

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func processTestSpec() *specs.Process {
	return &specs.Process{
		Args: []string{"sh", "-c", "true"},
		Env:  []string{"PATH=/bin"},
		Cwd:  "/",
	}
}

// processTestRootfs makes a rootfs whose etc/passwd holds passwd.
func processTestRootfs(t *testing.T, passwd string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if passwd != "" {
		if err := os.WriteFile(filepath.Join(root, "etc/passwd"), []byte(passwd), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func processTestHome(env []string) (string, int) {
	home, n := "", 0
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "HOME="); ok {
			home = v
			n++
		}
	}
	return home, n
}

func TestResolveProcessErrors(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, c := range []struct {
		name string
		edit func(p *specs.Process) *specs.Process
		want string
	}{
		{"missing process", func(*specs.Process) *specs.Process { return nil }, "process: missing"},
		{"no args", func(p *specs.Process) *specs.Process { p.Args = nil; return p }, "process.args: empty, nothing to run"},
		{"empty args[0]", func(p *specs.Process) *specs.Process { p.Args = []string{"", "x"}; return p }, "process.args: empty, nothing to run"},
		{"relative cwd", func(p *specs.Process) *specs.Process { p.Cwd = "home/app"; return p }, `process.cwd "home/app": not an absolute path`},
		{"empty cwd", func(p *specs.Process) *specs.Process { p.Cwd = ""; return p }, `process.cwd "": not an absolute path`},
		{"env string too long for execve", func(p *specs.Process) *specs.Process {
			p.Env = append(p.Env, "BIG="+strings.Repeat("x", 32*os.Getpagesize()))
			return p
		}, fmt.Sprintf("process.env[1]: %d bytes, longer than execve takes (%d)", 4+32*os.Getpagesize(), 32*os.Getpagesize()-1)},
		{"env without =", func(p *specs.Process) *specs.Process { p.Env = append(p.Env, "NOEQ"); return p }, `process.env[1] "NOEQ": not NAME=VALUE`},
		{"env without a name", func(p *specs.Process) *specs.Process { p.Env = append(p.Env, "=x"); return p }, `process.env[1] "=x": not NAME=VALUE`},
		{"env with a NUL", func(p *specs.Process) *specs.Process { p.Env = append(p.Env, "A=1\x00B=2"); return p }, `process.env[1] "A=1\x00B=2": holds a NUL byte`},
		{"args with a NUL", func(p *specs.Process) *specs.Process { p.Args = []string{"sh", "-c", "echo a\x00; rm x"}; return p }, `process.args[2] "echo a\x00; rm x": holds a NUL byte`},
		{"unknown rlimit", func(p *specs.Process) *specs.Process {
			p.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 2}, {Type: "RLIMIT_BOGUS", Soft: 1, Hard: 1}}
			return p
		}, `process.rlimits[1].type "RLIMIT_BOGUS": unknown resource limit`},
		{"duplicate rlimit", func(p *specs.Process) *specs.Process {
			p.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 2}, {Type: "RLIMIT_CORE"}, {Type: "RLIMIT_NOFILE", Soft: 1, Hard: 2}}
			return p
		}, `process.rlimits[2].type "RLIMIT_NOFILE": given twice`},
		{"soft above hard", func(p *specs.Process) *specs.Process {
			p.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NPROC", Soft: 11, Hard: 10}}
			return p
		}, `process.rlimits[0].type "RLIMIT_NPROC": soft limit 11 above hard limit 10`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ResolveProcess(c.edit(processTestSpec()), root)
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if err.Error() != c.want {
				t.Errorf("error %q, want %q", err, c.want)
			}
		})
	}
}

// Unknown capabilities, those the kernel lacks and those outside oci-rt's
// own bounding set are left out of every set and named once, for the
// warning create logs (runtime-spec: a warning, not a failure).
func TestResolveCapsIgnored(t *testing.T) {
	t.Parallel()
	c := &specs.LinuxCapabilities{
		Bounding:  []string{"CAP_KILL", "CAP_BOGUS", "CAP_SYS_RESOURCE", "CAP_CHOWN"},
		Effective: []string{"CAP_KILL", "CAP_SYS_RESOURCE", "KILL"},
		Permitted: []string{"CAP_KILL", "CAP_SYS_RESOURCE", "CAP_BOGUS"},
	}
	asked := map[int]int{}
	have := func(bit int) bool { asked[bit]++; return bit != unix.CAP_SYS_RESOURCE }
	got, err := resolveCaps(c, have)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"CAP_BOGUS", "CAP_SYS_RESOURCE", "KILL"}; !reflect.DeepEqual(got.Ignored, want) {
		t.Errorf("Ignored = %q, want %q", got.Ignored, want)
	}
	kill, chown := uint64(1)<<unix.CAP_KILL, uint64(1)<<unix.CAP_CHOWN
	if got.Bounding != kill|chown || got.Effective != kill || got.Permitted != kill {
		t.Errorf("masks %#x %#x %#x, want CAP_KILL|CAP_CHOWN, CAP_KILL, CAP_KILL", got.Bounding, got.Effective, got.Permitted)
	}
	for bit, n := range asked {
		if n != 1 {
			t.Errorf("the bounding set asked about capability %d %d times, want once", bit, n)
		}
	}
}

func TestResolveProcessCaps(t *testing.T) {
	t.Parallel()
	p := processTestSpec()
	p.Capabilities = &specs.LinuxCapabilities{
		Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "cap_net_bind_service"},
		Effective:   []string{"CAP_KILL"},
		Permitted:   []string{"CAP_KILL", "CAP_SETUID", "CAP_NET_RAW"},
		Inheritable: []string{"CAP_SETGID", "CAP_NET_RAW"},
		Ambient:     []string{"CAP_NET_RAW", "CAP_NET_RAW", "CAP_KILL"},
	}
	got, err := ResolveProcess(p, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := got.Caps
	bit := func(v uintptr) uint64 { return 1 << v }
	if want := bit(unix.CAP_CHOWN) | bit(unix.CAP_KILL) | bit(unix.CAP_NET_BIND_SERVICE); c.Bounding != want {
		t.Errorf("Bounding = %#x, want %#x", c.Bounding, want)
	}
	if want := bit(unix.CAP_KILL); c.Effective != want {
		t.Errorf("Effective = %#x, want %#x", c.Effective, want)
	}
	if want := bit(unix.CAP_KILL) | bit(unix.CAP_SETUID) | bit(unix.CAP_NET_RAW); c.Permitted != want {
		t.Errorf("Permitted = %#x, want %#x", c.Permitted, want)
	}
	if want := bit(unix.CAP_SETGID) | bit(unix.CAP_NET_RAW); c.Inheritable != want {
		t.Errorf("Inheritable = %#x, want %#x", c.Inheritable, want)
	}
	// CAP_KILL is not inheritable: the kernel would refuse to raise it,
	// so it is dropped (with a warning at create), as runc does
	if want := bit(unix.CAP_NET_RAW); c.Ambient != want || c.AmbientDropped != bit(unix.CAP_KILL) {
		t.Errorf("Ambient = %#x (dropped %#x), want %#x (dropped CAP_KILL)", c.Ambient, c.AmbientDropped, want)
	}
	last, err := capability.LastCap()
	if err != nil {
		t.Skipf("cannot read the kernel's last capability: %v", err)
	}
	if c.Last != int(last) {
		t.Errorf("Last = %d, want the kernel's %d", c.Last, last)
	}

	// No capabilities at all: empty masks, Last still set.
	p.Capabilities = nil
	got, err = ResolveProcess(p, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Caps, Caps{Last: int(last)}) {
		t.Errorf("nil capabilities resolve to %+v, want empty masks", got.Caps)
	}
}

// Every capability the library knows resolves to its own bit, or is dropped
// when the kernel lacks it.
func TestResolveProcessEveryKnownCap(t *testing.T) {
	t.Parallel()
	for _, cp := range capability.ListKnown() {
		name := "CAP_" + strings.ToUpper(cp.String())
		p := processTestSpec()
		p.Capabilities = &specs.LinuxCapabilities{Bounding: []string{name}}
		got, err := ResolveProcess(p, t.TempDir())
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want := uint64(1) << uint(cp)
		if int(cp) > got.Caps.Last || !inOwnBounding(int(cp)) {
			want = 0 // ignored, with a warning at create
		}
		if got.Caps.Bounding != want {
			t.Errorf("%s: Bounding = %#x, want %#x", name, got.Caps.Bounding, want)
		}
	}
}

func TestResolveProcessRlimits(t *testing.T) {
	t.Parallel()
	p := processTestSpec()
	p.Rlimits = []specs.POSIXRlimit{
		{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 4096},
		{Type: "RLIMIT_CORE", Soft: 0, Hard: ^uint64(0)},
		{Type: "RLIMIT_STACK", Soft: 8 << 20, Hard: 8 << 20},
	}
	got, err := ResolveProcess(p, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := []Rlimit{
		{Resource: unix.RLIMIT_NOFILE, Soft: 1024, Hard: 4096, Field: `process.rlimits[0].type "RLIMIT_NOFILE"`},
		{Resource: unix.RLIMIT_CORE, Soft: 0, Hard: ^uint64(0), Field: `process.rlimits[1].type "RLIMIT_CORE"`},
		{Resource: unix.RLIMIT_STACK, Soft: 8 << 20, Hard: 8 << 20, Field: `process.rlimits[2].type "RLIMIT_STACK"`},
	}
	if !reflect.DeepEqual(got.Rlimits, want) {
		t.Errorf("Rlimits = %+v\nwant %+v", got.Rlimits, want)
	}
}

func TestResolveProcessFields(t *testing.T) {
	t.Parallel()
	p := processTestSpec()
	p.Args = []string{"/bin/app", "--flag"}
	p.Cwd = "/work"
	p.User = specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{2000, 2001}}
	p.NoNewPrivileges = true
	p.Terminal = true
	p.Env = []string{"A=1", "HOME=/custom"}
	got, err := ResolveProcess(p, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Args, p.Args) || got.Cwd != "/work" || got.UID != 1000 || got.GID != 1001 ||
		!reflect.DeepEqual(got.AdditionalGids, []uint32{2000, 2001}) || !got.NoNewPrivs || !got.Terminal {
		t.Errorf("resolved %+v from %+v", got, p)
	}
	if !reflect.DeepEqual(got.Env, []string{"A=1", "HOME=/custom"}) {
		t.Errorf("Env = %q, want it unchanged when HOME is set", got.Env)
	}
}

func TestResolveProcessUmask(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		umask *uint32
		want  uint32
	}{
		{nil, 0o022},
		{func() *uint32 { v := uint32(0o077); return &v }(), 0o077},
		{func() *uint32 { v := uint32(0); return &v }(), 0},
	} {
		p := processTestSpec()
		p.User.Umask = c.umask
		got, err := ResolveProcess(p, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if got.Umask != c.want {
			t.Errorf("umask %v: resolved %#o, want %#o", c.umask, got.Umask, c.want)
		}
	}
}

func TestResolveProcessHome(t *testing.T) {
	t.Parallel()
	passwd := "root:x:0:0:root:/root:/bin/sh\n" +
		"app:x:1000:1000:app:/home/app:/bin/sh\n" +
		"nohome:x:1001:1001:nohome::/bin/sh\n"
	root := processTestRootfs(t, passwd)
	for _, c := range []struct {
		name string
		uid  uint32
		root string
		want string
	}{
		{"root", 0, root, "/root"},
		{"app", 1000, root, "/home/app"},
		{"empty home field", 1001, root, "/"},
		{"uid not in passwd", 4242, root, "/"},
		{"no etc/passwd", 0, processTestRootfs(t, ""), "/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := processTestSpec()
			p.User.UID = c.uid
			env := append([]string(nil), p.Env...)
			got, err := ResolveProcess(p, c.root)
			if err != nil {
				t.Fatal(err)
			}
			home, n := processTestHome(got.Env)
			if n != 1 || home != c.want {
				t.Errorf("Env = %q: HOME %q (%d times), want %q once", got.Env, home, n, c.want)
			}
			if got.Env[0] != "PATH=/bin" {
				t.Errorf("Env = %q, the spec's entries come first", got.Env)
			}
			if !reflect.DeepEqual(p.Env, env) {
				t.Errorf("the spec's env was changed to %q", p.Env)
			}
		})
	}
}

// Adding HOME never writes into the spec's env, even when its slice has room.
func TestResolveProcessHomeDoesNotAliasSpecEnv(t *testing.T) {
	t.Parallel()
	backing := []string{"PATH=/bin", "SENTINEL=1", "SENTINEL=2"}
	p := processTestSpec()
	p.Env = backing[:1]
	got, err := ResolveProcess(p, processTestRootfs(t, "root:x:0:0::/root:/bin/sh\n"))
	if err != nil {
		t.Fatal(err)
	}
	if home, _ := processTestHome(got.Env); home != "/root" {
		t.Errorf("HOME = %q, want /root", home)
	}
	if backing[1] != "SENTINEL=1" {
		t.Errorf("ResolveProcess wrote %q into the spec's env backing array", backing[1])
	}
}

// etc/passwd is looked up inside the rootfs: an absolute symlink resolves
// in it, not on the host.
func TestResolveProcessHomeSymlinkStaysInRoot(t *testing.T) {
	t.Parallel()
	root := processTestRootfs(t, "")
	if err := os.WriteFile(filepath.Join(root, "etc/passwd.real"), []byte("root:x:0:0::/inside:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd.real", filepath.Join(root, "etc/passwd")); err != nil {
		t.Fatal(err)
	}
	got, err := ResolveProcess(processTestSpec(), root)
	if err != nil {
		t.Fatal(err)
	}
	if home, _ := processTestHome(got.Env); home != "/inside" {
		t.Errorf("HOME = %q, want /inside (the symlink resolved in the rootfs)", home)
	}

	// A symlink climbing out with .. stays clamped to the rootfs and never
	// reads the host's /etc/passwd.
	root2 := processTestRootfs(t, "")
	if err := os.Symlink("../../../../../../../../etc/passwd", filepath.Join(root2, "etc/passwd")); err != nil {
		t.Fatal(err)
	}
	got, err = ResolveProcess(processTestSpec(), root2)
	if err != nil {
		t.Fatal(err)
	}
	if home, _ := processTestHome(got.Env); home != "/" {
		t.Errorf("HOME = %q, want / (the host's /etc/passwd must not be read)", home)
	}
}

// TestCapsBeyondBounding: capabilities our own bounding set has are not
// listed; one it lacks is listed once, whatever the sets that ask for it.
func TestCapsBeyondBounding(t *testing.T) {
	own, err := capability.NewPid2(0)
	if err != nil || own.Load() != nil {
		t.Skip("cannot read our capabilities")
	}
	var have, lack string
	for _, c := range capability.ListKnown() {
		name := "CAP_" + strings.ToUpper(c.String())
		if own.Get(capability.BOUNDING, c) && have == "" {
			have = name
		} else if !own.Get(capability.BOUNDING, c) && lack == "" {
			lack = name
		}
	}
	if have != "" {
		if got := CapsBeyondBounding(&specs.LinuxCapabilities{Bounding: []string{have}, Effective: []string{have}}); len(got) != 0 {
			t.Errorf("%s is in our bounding set, got %v", have, got)
		}
	}
	if lack == "" {
		t.Skip("our bounding set has every capability the library knows")
	}
	got := CapsBeyondBounding(&specs.LinuxCapabilities{Bounding: []string{lack}, Permitted: []string{lack}})
	if len(got) != 1 || got[0] != lack {
		t.Errorf("got %v, want [%s]", got, lack)
	}
}

// prepareEnv follows runc 1.5: the last of a name wins, where it stands;
// an empty HOME is replaced from /etc/passwd like a missing one.
func TestPrepareEnv(t *testing.T) {
	t.Parallel()
	root := processTestRootfs(t, "app:x:1000:1000:app:/home/app:/bin/sh\n")
	for _, c := range []struct {
		env  []string
		uid  int
		want []string
	}{
		{[]string{"A=1", "B=2", "A=3"}, 1000, []string{"B=2", "A=3", "HOME=/home/app"}},
		{[]string{"HOME=", "A=1"}, 1000, []string{"A=1", "HOME=/home/app"}},
		{[]string{"HOME=/x", "HOME="}, 1000, []string{"HOME=/home/app"}},
		{[]string{"HOME=", "HOME=/x"}, 4242, []string{"HOME=/x"}},
		{[]string{"A=1", "B", "A=2"}, 4242, []string{"B", "A=2", "HOME=/"}},
		{[]string{}, 4242, []string{"HOME=/"}},
		{nil, 4242, nil}, // no env at all: none, as runc 1.5
	} {
		spec := slices.Clone(c.env)
		if got := prepareEnv(c.env, root, c.uid); !reflect.DeepEqual(got, c.want) {
			t.Errorf("prepareEnv(%q) = %q, want %q", c.env, got, c.want)
		}
		if !reflect.DeepEqual(spec, c.env) {
			t.Errorf("prepareEnv changed its input to %q", c.env)
		}
	}
}

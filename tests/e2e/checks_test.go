package e2e

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
)

// The checks here are the ones the containerd and podman cases share: the
// same behaviour of the runtime seen through either engine, so one
// assertion serves both and the two cannot drift apart.

// e2eAssertGone fails unless path is gone: what a removed container must
// not leave behind (runtime state, a cgroup). A "" path is a location this
// test does not know (podman's runtime state for a runtime other than
// oci-rt, runc and crun), so there is nothing to check.
func e2eAssertGone(t *testing.T, what, path string) {
	t.Helper()
	if path == "" {
		return
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s %s left behind (err %v)", what, path, err)
	}
}

// e2eFirstOutput polls read for up to 10s until it prints something and
// returns that, trimmed: a payload writes what it saw to a file once it
// runs, which can be after the engine reports it running.
func e2eFirstOutput(read func() string) string {
	var seen string
	e2eWait(10*time.Second, func() bool {
		seen = strings.TrimSpace(read())
		return seen != ""
	})
	return seen
}

// e2eCheckExecSeesInit runs, through the engine's exec, a shell that prints
// its pid and pid 1's command line and exits 5: an exec'd process is in the
// container's pid namespace (pid 1 is the payload, initCmdline, and the
// exec is another pid) and its exit code is relayed.
func e2eCheckExecSeesInit(t *testing.T, initCmdline string, exec func(args ...string) e2eResult) {
	t.Helper()
	r := e2eExpect(t, exec("sh", "-c", `echo "pid=$$"; tr '\0' ' ' < /proc/1/cmdline; echo; exit 5`), 5)
	lines := e2eLines(r.Stdout)
	if len(lines) != 2 || lines[0] == "pid=1" || !strings.HasPrefix(lines[0], "pid=") || lines[1] != initCmdline {
		t.Errorf("exec output %q: want a pid other than 1 and pid 1's command line", r.Stdout)
	}
}

// e2eCheckReadOnlyRoot checks a --read-only container with init pid whose
// dir is a writable tmpfs: exec (the engine's exec of a shell script) finds
// / read-only and dir writable, and the host gets EROFS writing into the
// root through /proc/<pid>/root and sees the file written in dir.
func e2eCheckReadOnlyRoot(t *testing.T, pid int, dir string, exec func(script string) e2eResult) {
	t.Helper()
	ok := filepath.Base(dir) + "-writable"
	r := exec(fmt.Sprintf(`touch /inside 2>&1; echo "root=$?"; touch %s/ok && echo %s`, dir, ok))
	if !strings.Contains(r.Stdout, "Read-only file system") || !strings.Contains(r.Stdout, "root=1") ||
		!strings.Contains(r.Stdout, ok) {
		t.Errorf("inside: want / read-only and %s writable, got %s", dir, r)
	}
	err := os.WriteFile(fmt.Sprintf("/proc/%d/root/outside", pid), []byte("x"), 0o644)
	if !errors.Is(err, syscall.EROFS) {
		t.Errorf("host write into the container's root: %v, want EROFS", err)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/root%s/ok", pid, dir)); err != nil {
		t.Errorf("host does not see %s/ok: %v", dir, err)
	}
}

// e2eAssertUTSHostname checks from the host that pid's UTS namespace holds
// the host name want (with nsenter -u, when installed).
func e2eAssertUTSHostname(t *testing.T, pid int, want string) {
	t.Helper()
	if nsenter := e2eLookPath("nsenter"); nsenter != "" {
		r := e2eExec(t, 10*time.Second, nil, "", nsenter, "-t", strconv.Itoa(pid), "-u", "hostname")
		if strings.TrimSpace(r.Stdout) != want {
			t.Errorf("host: the container's UTS namespace holds %s", r)
		}
	}
}

// e2eTTYDev returns the controlling terminal of pid (tty_nr, field 7 of
// /proc/<pid>/stat) and its major and minor numbers: how the host sees
// which pts a payload got.
func e2eTTYDev(t *testing.T, pid int) (nr, major, minor int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // starts at field 3
	nr, err = strconv.Atoi(f[7-3])
	if err != nil {
		t.Fatalf("stat field 7 of %q: %v", s, err)
	}
	return nr, (nr >> 8) & 0xfff, (nr & 0xff) | ((nr >> 12) & 0xfff00)
}

// e2eColumn returns field i of every row of a table printed by an engine
// (`ctr tasks ps`, `podman top`), the header line left out.
func e2eColumn(table string, i int) []string {
	var col []string
	for _, l := range e2eLines(table)[1:] {
		col = append(col, strings.Fields(l)[i])
	}
	return col
}

// e2eMounts returns the mounts of pid's mount namespace as the host sees
// them in /proc/<pid>/mountinfo.
func e2eMounts(t *testing.T, pid int) []*mountinfo.Info {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mounts, err := mountinfo.GetMountsFromReader(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	return mounts
}

func e2eContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func e2eHasPrefix(list []string, p string) bool {
	for _, x := range list {
		if strings.HasPrefix(x, p) {
			return true
		}
	}
	return false
}

func e2eSortedJoin(s []string) string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return strings.Join(c, ",")
}

package integration

// What the review of issues 14 and 16 found untested or unrefused: the
// recursive mount attributes other than atime, and environment strings
// that are not NAME=VALUE.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestR2RecursiveAttrs: rnosuid, rnodev, rnoexec and rnosymfollow reach
// every mount of a bind tree (the host's submount too), the last of rro
// and rrw wins, and they apply to a tmpfs; seen inside and from the host.
func TestR2RecursiveAttrs(t *testing.T) {
	e := NewEnv(t)
	src := filepath.Join(e.Dir, "tree")
	sub := filepath.Join(src, "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "r2-sub", sub).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", sub).Run() })
	b := atBundle(t, e, []string{"/bin/sh", "-c", "grep -E ' /(ra|rw|rt)' /proc/self/mountinfo; echo READY; exec sleep 100"}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/ra", Type: "bind", Source: src, Options: []string{"rbind", "rnosuid", "rnodev", "rnoexec", "rnosymfollow"}},
			specs.Mount{Destination: "/rw", Type: "bind", Source: src, Options: []string{"rbind", "rro", "rrw"}},
			specs.Mount{Destination: "/rt", Type: "tmpfs", Source: "tmpfs", Options: []string{"rnoexec", "rnosymfollow", "rro"}})
	})
	out, pid := atStart(t, e, b, fmt.Sprintf("r2-rattr-%d", os.Getpid()))
	host := atRead(t, fmt.Sprintf("/proc/%d/mountinfo", pid))
	for _, view := range []struct{ who, text string }{{"inside", out}, {"host", host}} {
		for _, c := range []struct {
			dest string
			want []string
			not  []string
		}{
			{"/ra", []string{"rw", "nosuid", "nodev", "noexec", "nosymfollow"}, nil},
			{"/ra/sub", []string{"rw", "nosuid", "nodev", "noexec", "nosymfollow"}, nil},
			{"/rw", []string{"rw"}, []string{"ro", "noexec"}},
			{"/rw/sub", []string{"rw"}, []string{"ro", "noexec"}},
			{"/rt", []string{"ro", "noexec", "nosymfollow"}, []string{"rw", "nosuid"}},
		} {
			opts := atMountOpts(view.text, c.dest)
			if opts == "" {
				t.Errorf("%s: no mount at %s in\n%s", view.who, c.dest, view.text)
				continue
			}
			have := map[string]bool{}
			for _, o := range strings.Split(opts, ",") {
				have[o] = true
			}
			for _, w := range c.want {
				if !have[w] {
					t.Errorf("%s: %s has %q, want %s", view.who, c.dest, opts, w)
				}
			}
			for _, n := range c.not {
				if have[n] {
					t.Errorf("%s: %s has %q, want no %s", view.who, c.dest, opts, n)
				}
			}
		}
	}
}

// TestR2EnvRefused: a variable that is not NAME=VALUE, or a string with a
// NUL byte (which execve would cut), is refused with one line naming it,
// in config.json and in exec's --env, leaving nothing (runc 1.5 refuses
// them too).
func TestR2EnvRefused(t *testing.T) {
	e := NewEnv(t)
	for name, edit := range map[string]func(*specs.Spec){
		"noeq":   func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "NOEQ") },
		"noname": func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "=x") },
		"nul":    func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "A=1\x00B=2") },
	} {
		b := e.Bundle([]string{"true"}, edit)
		n := len(r15Spec(t, b).Process.Env) - 1
		id := fmt.Sprintf("r2-env-%s-%d", name, os.Getpid())
		atRefused(t, e, b, id, fmt.Sprintf("process.env[%d]", n))
		if d := lcCgroupDirs(id); len(d) > 0 {
			t.Errorf("%s: cgroups left: %v", id, d)
		}
	}
	b := e.Bundle([]string{"sh", "-c", "echo READY; exec sleep 100"}, nil)
	id := fmt.Sprintf("r2-envexec-%d", os.Getpid())
	atStart(t, e, b, id)
	r := e.Run("exec", "--env", "NOEQ", id, "sh", "-c", "echo ran")
	lcOneLine(t, "exec --env NOEQ", r, "process.env[", `"NOEQ"`)
	if strings.Contains(r.Stdout, "ran") {
		t.Errorf("exec --env NOEQ ran its command: %q", r.Stdout)
	}
}

// TestR2ExecSchedulerIOPriority: exec's --process applies
// process.scheduler and process.ioPriority, and the container's
// linux.personality and linux.memoryPolicy, to the exec'd process, seen
// inside and from the host (the attrs tests cover the container's first
// process only).
func TestR2ExecSchedulerIOPriority(t *testing.T) {
	e := NewEnv(t)
	id := fmt.Sprintf("r2-execsched-%d", os.Getpid())
	atStart(t, e, atBundle(t, e, []string{"sh", "-c", "echo READY; exec sleep 100"}, func(s *specs.Spec) {
		s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
		s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0"}
	}), id)
	// the container's personality and memory policy are the exec'd
	// process's too (runc applies them to exec, as to the first process)
	p := specs.Process{Cwd: "/", Env: []string{"PATH=/bin"},
		Args:       []string{"/bin/attrprobe", "/bin/sh", "-c", `echo "STAT $(cat /proc/$$/stat)"; echo "PERS $(cat /proc/self/personality)"; ionice; exec sleep 100`},
		Scheduler:  &specs.Scheduler{Policy: specs.SchedBatch, Nice: 5},
		IOPriority: &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE}}
	pj, _ := json.Marshal(p)
	pf := filepath.Join(e.Dir, "process.json")
	if err := os.WriteFile(pf, pj, 0o644); err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(e.Dir, "exec.out")
	o, err := os.Create(outFile)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	pidFile := filepath.Join(e.Dir, "exec.pid")
	cmd := exec.Command(binary, "--root", e.Root, "exec", "-d", "--pid-file", pidFile, "--process", pf, id)
	cmd.Stdout, cmd.Stderr = o, o
	if err := cmd.Run(); err != nil {
		data, _ := os.ReadFile(outFile)
		t.Fatalf("exec -d: %v: %s", err, data)
	}
	epid := atRead(t, pidFile)
	t.Cleanup(func() { exec.Command("kill", "-9", epid).Run() })
	var out string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		data, _ := os.ReadFile(outFile)
		if out = string(data); strings.Contains(out, "idle") || time.Now().After(deadline) {
			break
		}
	}
	stat := strings.TrimPrefix(atLine(t, out, "STAT "), "STAT ")
	if pol, nice := atStatField(t, stat, 41), atStatField(t, stat, 19); pol != "3" || nice != "5" {
		t.Errorf("inside: policy %s nice %s, want SCHED_BATCH (3) and 5", pol, nice)
	}
	if got := atLine(t, out, "idle"); got != "idle" {
		t.Errorf("inside ionice: %q, want idle", got)
	}
	if got := atLine(t, out, "mempolicy"); got != "mempolicy mode=2 nodes=1" {
		t.Errorf("inside: %q, want MPOL_BIND (2) on node 0", got)
	}
	if got := atLine(t, out, "PERS"); got != "PERS 00000008" {
		t.Errorf("inside: %q, want LINUX32", got)
	}
	if got := atRead(t, "/proc/"+epid+"/personality"); got != "00000008" {
		t.Errorf("host /proc/%s/personality: %q, want LINUX32", epid, got)
	}
	hstat := atRead(t, "/proc/"+epid+"/stat")
	if pol, nice := atStatField(t, hstat, 41), atStatField(t, hstat, 19); pol != "3" || nice != "5" {
		t.Errorf("host /proc/%s/stat: policy %s nice %s, want 3 and 5", epid, pol, nice)
	}
	if io, err := exec.Command("ionice", "-p", epid).CombinedOutput(); err != nil || strings.TrimSpace(string(io)) != "idle" {
		t.Errorf("host ionice -p %s: %q %v", epid, io, err)
	}
}

// TestR2MountDataNamed: a filesystem option the kernel refuses is named in
// the error (runc's error gives the data too), not only the mount.
func TestR2MountDataNamed(t *testing.T) {
	e := NewEnv(t)
	var idx int
	b := e.Bundle([]string{"true"}, func(s *specs.Spec) {
		idx = len(s.Mounts)
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/t", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=99z"}})
	})
	id := fmt.Sprintf("r2-mntdata-%d", os.Getpid())
	r := e.Run("run", "-b", b, id)
	lcOneLine(t, "tmpfs mode=99z", r, fmt.Sprintf("mounts[%d]", idx), `"/t"`, "mode=99z", "invalid argument")
	lcAssertRemoved(t, e, id, b)
}

// TestR2LockedFlagsNamed: in a user namespace, a bind that asks to clear a
// flag the kernel locked on its source (suid of a nosuid mount), or for
// another atime mode than the locked one, is refused naming the flags.
func TestR2LockedFlagsNamed(t *testing.T) {
	e := NewEnv(t)
	src := filepath.Join(e.Dir, "locked")
	r15ReadOnlyDir(t, src, unix.MS_NOSUID|unix.MS_NOATIME)
	for name, c := range map[string]struct {
		opts []string
		want string
	}{
		"suid":     {[]string{"bind", "suid"}, "(nosuid)"},
		"relatime": {[]string{"bind", "relatime"}, "(noatime)"},
	} {
		var idx int
		b := e.Bundle([]string{"true"}, func(s *specs.Spec) {
			nsAddUserns(s)
			idx = len(s.Mounts)
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/l", Type: "bind", Source: src, Options: c.opts})
		})
		nsPrepareUserns(t, e, b)
		id := fmt.Sprintf("r2-locked-%s-%d", name, os.Getpid())
		r := e.Run("run", "-b", b, id)
		lcOneLine(t, name, r, fmt.Sprintf("mounts[%d]", idx), `"/l"`, "locked", c.want)
		lcAssertRemoved(t, e, id, b)
	}
}

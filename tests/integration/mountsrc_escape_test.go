package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestEscBindSourceSymlinkInRootfs: a bind source inside the rootfs
// ("rootfs/vol") that the image makes a symlink to a host directory is
// resolved in the rootfs, as the container would see it: the host
// directory is neither seen nor written through the mount, whether the
// executor binds it, the runtime opens it for a user namespace that
// cannot reach it (under a 0700 directory), or the runtime clones it into
// an idmapped tree (the mount's own mappings, or the container's): the
// container sees the directory the link names in the rootfs.
// Without the defence each variant showed the container the host's
// sentinel, and those whose root maps to the host's wrote into it.
func TestEscBindSourceSymlinkInRootfs(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name          string
		userns, idmap bool
	}{
		{"plain", false, false},
		{"idmap", false, true},
		{"userns", true, false},
		{"userns-idmap", true, true},
	} {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			// the host directory: under a 0700 one, which a user
			// namespace's root cannot enter
			private := rpMkdir(t, filepath.Join(e.Dir, "private"))
			victim, same := escCanaryDir(t, filepath.Join(private, "victim"))
			defer same()
			id := escID("bindsrc-" + c.name)
			b := e.Bundle(nsReport(`echo seen $(cat /mnt/sentinel 2>/dev/null || echo nothing)
echo wrote $(touch /mnt/pwned 2>/dev/null && echo yes || echo no)`), func(s *specs.Spec) {
				m := specs.Mount{Destination: "/mnt", Type: "bind", Source: "rootfs/vol", Options: []string{"rbind"}}
				if c.userns {
					nsAddUserns(s)
				}
				if c.idmap {
					m.Options = append(m.Options, "idmap")
					if !c.userns {
						m.UIDMappings, m.GIDMappings = imMap(0, 0, 65536), imMap(0, 0, 65536)
					}
				}
				s.Mounts = append(s.Mounts, m)
			})
			if err := os.Symlink(victim, filepath.Join(b, "rootfs", "vol")); err != nil {
				t.Fatal(err)
			}
			// where the link leads in the rootfs: what the container sees
			rpWrite(t, filepath.Join(b, "rootfs", victim, "sentinel"), "in the rootfs\n", 0o644)
			if c.userns {
				nsPrepareUserns(t, e, b)
			}
			if err := os.Chmod(private, 0o700); err != nil {
				t.Fatal(err)
			}
			out := nsCreateStartReport(e, b, id)
			if got := nsField(t, out, "seen"); got != "in the rootfs" {
				t.Errorf("/mnt/sentinel inside: %q, want the rootfs's (the link resolved in the rootfs)", got)
			}
			t.Logf("container: %q", out)
		})
	}
}

// TestEscHookGetsNoRuntimeSocket: a createContainer hook gets its stdio
// only, as with runc, not the executor's socket to the runtime nor the
// start socket. With that socket a hook (or what it leaves running) told
// the runtime another pid for the container's: here a host process,
// which --pid-file then named for the shim to signal.
func TestEscHookGetsNoRuntimeSocket(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	canary := exec.Command("sleep", "100")
	if err := canary.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { canary.Process.Kill(); canary.Wait() }()
	// MSG_PID (2) with the canary's pid, little-endian, to every fd a hook
	// should not have
	var msg strings.Builder
	for _, v := range []uint32{2, uint32(canary.Process.Pid), 0} {
		for i := 0; i < 4; i++ {
			fmt.Fprintf(&msg, "\\%03o", byte(v>>(8*i)))
		}
	}
	fds := filepath.Join(e.Dir, "hookfds")
	hook := filepath.Join(e.Dir, "forge.sh")
	rpWrite(t, hook, "#!/bin/sh\nls /proc/self/fd > "+fds+"\nfor fd in 3 4 5 6 7 8 9; do\n"+
		"  [ -e /proc/self/fd/$fd ] && eval \"printf '"+msg.String()+"' >&$fd\" 2>/dev/null\ndone\ntrue\n", 0o755)
	b := e.Bundle([]string{"sleep", "100"}, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: hook}}}
	})
	id := escID("hookfd")
	pidFile := filepath.Join(e.Dir, "pid")
	if r := nsCreate(e, b, id, "--pid-file", pidFile); r.Code != 0 {
		t.Fatalf("create: %s", r.Stderr)
	}
	got, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(e.Pid(id)); string(got) != want {
		t.Errorf("--pid-file holds %s, want the container's %s (the host's canary is %d)", got, want, canary.Process.Pid)
	}
	// ls's own directory fd is 3
	if list, _ := os.ReadFile(fds); strings.Join(strings.Fields(string(list)), " ") != "0 1 2 3" {
		t.Errorf("the hook's fds: %q, want 0 1 2 (and ls's 3)", list)
	}
	e.MustRun("delete", "--force", id)
	if canary.ProcessState != nil || canary.Process.Signal(syscall.Signal(0)) != nil {
		t.Errorf("the host's canary process died")
	}
}

// TestEscBindSourceThroughContainerProc: a bind source under the rootfs's
// /proc (mounted there by an earlier mount, over the image's own
// proc/1/root) that is a magic link, proc/1/root, is refused naming the
// mount. Resolved by path it is the root of the container's pid 1 while
// it mounts: the host's. Without the defence (165af2d~1) the idmapped
// tree was the host's /, and the container wrote the host's canary.
func TestEscBindSourceThroughContainerProc(t *testing.T) {
	t.Parallel()
	for _, idmap := range []bool{false, true} {
		idmap := idmap
		t.Run(fmt.Sprintf("idmap=%v", idmap), func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			canary, same := escCanary(t, e.Dir, "procroot-canary")
			defer same()
			id := escID("procroot")
			b := e.Bundle(nsReport(`echo seen $(cat /mnt`+canary+` 2>/dev/null || echo nothing)
echo wrote $(echo pwned > /mnt`+canary+` 2>/dev/null && echo yes || echo no)`), func(s *specs.Spec) {
				m := specs.Mount{Destination: "/mnt", Type: "bind", Source: "rootfs/proc/1/root", Options: []string{"rbind"}}
				if idmap {
					m.Options = append(m.Options, "idmap")
					m.UIDMappings, m.GIDMappings = imMap(0, 0, 65536), imMap(0, 0, 65536)
				}
				s.Mounts = append(s.Mounts, m)
			})
			// the image has the path too, which the proc mount then covers
			rpMkdir(t, filepath.Join(b, "rootfs", "proc", "1", "root"))
			r := nsCreate(e, b, id)
			if r.Code == 0 {
				e.MustRun("start", id)
				t.Fatalf("create succeeded; the container: %q", nsOutput(e, id))
			}
			t.Logf("refused: %s", r.Stderr)
			escRefused(t, e, b, id, r, "mounts[")
		})
	}
}

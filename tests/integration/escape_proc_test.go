package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestEscMountIntoProc: a mount the config places outside /proc that the
// image's symlinks lead into the container's procfs is refused in one line
// naming the mount, as runc's checkProcMount refuses it (CVE-2019-19921's
// class). Checked to fail without the defence (62ca65c): every create
// succeeded. With /etc/p -> /proc and a bind of rootfs/etc/p (the default
// mounts otherwise) the container had a second procfs at /mnt/p: its
// /proc/sys was read-only but /mnt/p/sys took writes (kernel.domainname
// here; kernel.core_pattern would reach the host, as the container's root
// is the host's), and /mnt/p/timer_list was not masked. With /dev -> /proc
// the /dev tmpfs hid procfs, so maskedPaths and readonlyPaths under /proc
// found nothing and were skipped (a container that may unmount the tmpfs
// then sees all of procfs). With /lnk -> /proc/sys a host directory was
// bound over /proc/sys/kernel.
func TestEscMountIntoProc(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, link, target, dest string
		bind                     func(e *Env) specs.Mount // an extra mount, or nil
	}{
		{name: "dev-tmpfs", link: "/dev", target: "/proc", dest: "/dev"},
		{name: "bind-source", link: "/etc/p", target: "/proc", dest: "/mnt/p",
			bind: func(e *Env) specs.Mount {
				// a source in the rootfs, relative to the bundle
				return specs.Mount{Destination: "/mnt/p", Type: "bind", Source: "rootfs/etc/p", Options: []string{"rbind"}}
			}},
		{name: "bind-dest", link: "/lnk", target: "/proc/sys", dest: "/lnk/kernel",
			bind: func(e *Env) specs.Mount {
				return specs.Mount{Destination: "/lnk/kernel", Type: "bind", Source: e.Dir + "/kernel", Options: []string{"bind"}}
			}},
	} {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			_, same := escCanaryDir(t, filepath.Join(e.Dir, "kernel"))
			defer same()
			b := e.Bundle([]string{"sh", "-c", "ls /proc /mnt/p; echo END"}, func(s *specs.Spec) {
				if c.bind != nil {
					s.Mounts = append(s.Mounts, c.bind(e))
				}
			})
			rootfs := filepath.Join(b, "rootfs")
			link := filepath.Join(rootfs, c.link)
			if err := os.RemoveAll(link); err != nil {
				t.Fatal(err)
			}
			rpMkdir(t, filepath.Dir(link))
			if err := os.Symlink(c.target, link); err != nil {
				t.Fatal(err)
			}
			id := escID("inproc-" + c.name)
			_, r := rpCreateCmd(t, e, b, id, nil)
			escRefused(t, e, b, id, r, fmt.Sprintf("destination %q", c.dest), "procfs")
		})
	}
}

// TestEscNetSysctlHostNetns: a sysctl of a namespace joined by a path that
// is the host's (here the test's own) is refused naming the sysctl: it
// would change the host. runc refuses the net.* ones; the UTS one
// (kernel.domainname) and the IPC ones change the host the same way. The
// host's values are the canaries. Checked to fail without the check
// (404c1d5): create succeeded and the host's value changed.
func TestEscNetSysctlHostNetns(t *testing.T) {
	for _, c := range []struct {
		ns     specs.LinuxNamespaceType
		kind   string
		sysctl string
	}{
		{specs.NetworkNamespace, "net", "net.core.somaxconn"},
		{specs.UTSNamespace, "uts", "kernel.domainname"},
		{specs.IPCNamespace, "ipc", "kernel.msgmax"},
	} {
		t.Run(c.kind, func(t *testing.T) {
			file := "/proc/sys/" + strings.ReplaceAll(c.sysctl, ".", "/")
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			was := strings.TrimSpace(string(raw))
			val := "esc" + was
			if n, err := strconv.Atoi(was); err == nil {
				val = strconv.Itoa(n - 1)
			}
			defer func() {
				if now, _ := os.ReadFile(file); strings.TrimSpace(string(now)) != was {
					t.Errorf("the host's %s changed: %q, was %s", c.sysctl, now, was)
					os.WriteFile(file, []byte(was), 0o644)
				}
			}()
			e := NewEnv(t)
			b := e.Bundle([]string{"true"}, func(s *specs.Spec) {
				found := false
				for i, ns := range s.Linux.Namespaces {
					if ns.Type == c.ns {
						s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/%s", os.Getpid(), c.kind)
						found = true
					}
				}
				if !found {
					s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: c.ns,
						Path: fmt.Sprintf("/proc/%d/ns/%s", os.Getpid(), c.kind)})
				}
				s.Linux.Sysctl = map[string]string{c.sysctl: val}
			})
			id := escID("hostns-sysctl")
			_, r := rpCreateCmd(t, e, b, id, nil)
			escRefused(t, e, b, id, r, fmt.Sprintf("linux.sysctl %q", c.sysctl), "host")
		})
	}
}

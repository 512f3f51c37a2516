package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// imSource makes a directory owned by 1000:1000 holding "owned1000"
// (1000:1000) and "owned0" (0:0), as a volume of a user's files on the
// host would be; anyone may create files in it (the container's root has
// no CAP_DAC_OVERRIDE), as long as the mount maps the creator's ids.
func imSource(t *testing.T, dir string) string {
	t.Helper()
	src := filepath.Join(dir, "volume")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, id := range map[string]int{"owned1000": 1000, "owned0": 0} {
		p := filepath.Join(src, name)
		if err := os.WriteFile(p, []byte(name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, id, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(src, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(src, 0o777); err != nil {
		t.Fatal(err)
	}
	return src
}

// imOwner is the owner of a file as the host sees it, "uid:gid".
func imOwner(t *testing.T, p string) string {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d:%d", st.Uid, st.Gid)
}

// imMap is one id range, as the spec writes it.
func imMap(ctr, host, size uint32) []specs.LinuxIDMapping {
	return []specs.LinuxIDMapping{{ContainerID: ctr, HostID: host, Size: size}}
}

// imScript reports the owners of the volume's files at each of dirs and
// whether root can create a file there.
func imScript(dirs ...string) []string {
	var s []string
	for i, d := range dirs {
		s = append(s, fmt.Sprintf(`echo o1000_%d $(stat -c %%u:%%g %s/owned1000)
echo o0_%d $(stat -c %%u:%%g %s/owned0)
echo new_%d $(touch %s/new%d 2>/dev/null && stat -c %%u:%%g %s/new%d || echo refused)`, i, d, i, d, i, d, i, d, i))
	}
	return nsReport(strings.Join(s, "\n"))
}

// imCheck compares the report's fields with want.
func imCheck(t *testing.T, out string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := nsField(t, out, k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
}

// TestIdmapNoUserns: without a user namespace the mount's own mapping
// gives the owners: on-disk 1000 (containerID) is seen as 0 (hostID), the
// file of root is unmapped (overflow id), and what root creates through the
// mount is owned by 1000 on the host. A plain bind of the same directory
// beside it shows the host's owners. uidMappings alone (no option) idmap
// the mount too, as runc does.
func TestIdmapNoUserns(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	src := imSource(t, e.Dir)
	id := fmt.Sprintf("idmap-nouserns-%d", os.Getpid())
	b := e.Bundle(imScript("/idmapped", "/plain", "/fields", "/readonly"), func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/readonly", Type: "bind", Source: src, Options: []string{"rbind", "idmap", "ro", "nosuid"},
				UIDMappings: imMap(1000, 0, 1), GIDMappings: imMap(1000, 0, 1)},
			specs.Mount{Destination: "/idmapped", Type: "bind", Source: src, Options: []string{"bind", "idmap"},
				UIDMappings: imMap(1000, 0, 1), GIDMappings: imMap(1000, 0, 1)},
			specs.Mount{Destination: "/plain", Type: "bind", Source: src, Options: []string{"bind"}},
			specs.Mount{Destination: "/fields", Type: "bind", Source: src, Options: []string{"rbind"},
				UIDMappings: imMap(1000, 3000, 1), GIDMappings: imMap(1000, 3000, 1)})
	})
	out := nsCreateStartReport(e, b, id)
	imCheck(t, out, map[string]string{
		"o1000_0": "0:0", "o0_0": "65534:65534", "new_0": "0:0",
		"o1000_1": "1000:1000", "o0_1": "0:0", "new_1": "0:0",
		"o1000_2": "3000:3000", "o0_2": "65534:65534", "new_2": "refused",
		"o1000_3": "0:0", "o0_3": "65534:65534", "new_3": "refused", // idmapped, then read-only
	})
	if got := imOwner(t, filepath.Join(src, "new0")); got != "1000:1000" {
		t.Errorf("what root made through the idmapped mount is %s on the host, want 1000:1000", got)
	}
	if got := imOwner(t, filepath.Join(src, "new1")); got != "0:0" {
		t.Errorf("what root made through the plain bind is %s on the host, want 0:0", got)
	}
	if got := imOwner(t, filepath.Join(src, "owned1000")); got != "1000:1000" {
		t.Errorf("the host's file changed owner: %s", got)
	}
}

// TestIdmapUserns: with a user namespace mapping 0.. to 100000.., the
// mount's mapping is applied on top of it. "idmap" without mappings takes
// the container's: the host's 1000 is 1000 inside, where without the
// option it is unmapped (65534), and root's file is root's. Mappings of the
// mount's own map on-disk 1000 to host 100000, root inside. Root creates
// files through each, owned on the host by what the mapping gives back.
func TestIdmapUserns(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	src := imSource(t, e.Dir)
	id := fmt.Sprintf("idmap-userns-%d", os.Getpid())
	b := e.Bundle(imScript("/idmapped", "/plain", "/own", "/recursive"), func(s *specs.Spec) {
		nsAddUserns(s)
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/idmapped", Type: "bind", Source: src, Options: []string{"bind", "idmap"}},
			specs.Mount{Destination: "/plain", Type: "bind", Source: src, Options: []string{"bind"}},
			specs.Mount{Destination: "/own", Type: "bind", Source: src, Options: []string{"bind", "idmap"},
				UIDMappings: imMap(1000, nsHostID, 1), GIDMappings: imMap(1000, nsHostID, 1)},
			specs.Mount{Destination: "/recursive", Type: "bind", Source: src, Options: []string{"rbind", "ridmap"}})
	})
	nsPrepareUserns(t, e, b)
	out := nsCreateStartReport(e, b, id)
	imCheck(t, out, map[string]string{
		"o1000_0": "1000:1000", "o0_0": "0:0", "new_0": "0:0",
		"o1000_1": "65534:65534", "o0_1": "65534:65534", "new_1": "0:0",
		"o1000_2": "0:0", "o0_2": "65534:65534", "new_2": "0:0",
		"o1000_3": "1000:1000", "o0_3": "0:0", "new_3": "0:0",
	})
	for name, want := range map[string]string{"new0": "0:0", "new1": "100000:100000", "new2": "1000:1000", "new3": "0:0"} {
		if got := imOwner(t, filepath.Join(src, name)); got != want {
			t.Errorf("%s, made by the container's root, is %s on the host, want %s", name, got, want)
		}
	}
}

// TestIdmapRecursive: of an rbind whose source has a mount under it,
// "idmap" maps the top mount only and "ridmap" every mount of the tree.
func TestIdmapRecursive(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	src := imSource(t, e.Dir)
	if err := os.Mkdir(filepath.Join(e.Dir, "other"), 0o755); err != nil {
		t.Fatal(err)
	}
	other := imSource(t, filepath.Join(e.Dir, "other"))
	sub := filepath.Join(src, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(other, sub, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(sub, unix.MNT_DETACH) })
	id := fmt.Sprintf("idmap-rec-%d", os.Getpid())
	b := e.Bundle(nsReport(`echo top $(stat -c %u /idmap/owned1000) $(stat -c %u /ridmap/owned1000)
echo sub $(stat -c %u /idmap/sub/owned1000) $(stat -c %u /ridmap/sub/owned1000)`), func(s *specs.Spec) {
		for _, o := range []string{"idmap", "ridmap"} {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/" + o, Type: "bind", Source: src, Options: []string{"rbind", o},
				UIDMappings: imMap(1000, 0, 1), GIDMappings: imMap(1000, 0, 1)})
		}
	})
	imCheck(t, nsCreateStartReport(e, b, id), map[string]string{"top": "0 0", "sub": "1000 0"})
}

// TestIdmapRefused: what the spec forbids and what the kernel refuses are
// refused with one line naming the mount (mounts[i]) and the option, and
// nothing is left behind.
func TestIdmapRefused(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		mount func(src string) specs.Mount
		edit  func(*specs.Spec)
		want  []string
	}{
		{"no-mappings-no-userns", func(src string) specs.Mount {
			return specs.Mount{Destination: "/m", Type: "bind", Source: src, Options: []string{"bind", "idmap"}}
		}, nil, []string{"mounts[", `"/m"`, "idmap", "user namespace"}},
		{"uid-without-gid", func(src string) specs.Mount {
			return specs.Mount{Destination: "/m", Type: "bind", Source: src, Options: []string{"bind", "idmap"}, UIDMappings: imMap(0, 1000, 1)}
		}, nil, []string{"mounts[", "gidMappings"}},
		{"not-a-bind", func(string) specs.Mount {
			return specs.Mount{Destination: "/m", Type: "tmpfs", Source: "tmpfs", Options: []string{"idmap"},
				UIDMappings: imMap(0, 1000, 1), GIDMappings: imMap(0, 1000, 1)}
		}, nil, []string{"mounts[", `"/m"`, "idmap", "bind"}},
		{"overlapping", func(src string) specs.Mount {
			return specs.Mount{Destination: "/m", Type: "bind", Source: src, Options: []string{"bind", "idmap"},
				UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 10}, {ContainerID: 5, HostID: 5000, Size: 10}},
				GIDMappings: imMap(0, 1000, 1)}
		}, nil, []string{"mounts[", "uidMappings[1]", "overlap"}},
		{"kernel-refuses-mapping", func(src string) specs.Mount {
			// the host range ends past the last id
			return specs.Mount{Destination: "/m", Type: "bind", Source: src, Options: []string{"bind", "idmap"},
				UIDMappings: imMap(0, 4294967290, 100), GIDMappings: imMap(0, 1000, 1)}
		}, nil, []string{"mounts[", `"/m"`, "idmap", "invalid argument"}},
		// the source is opened by the runtime for an idmapped mount
		{"missing-source", func(src string) specs.Mount {
			return specs.Mount{Destination: "/m", Type: "bind", Source: src + "/nope", Options: []string{"bind", "idmap"},
				UIDMappings: imMap(0, 1000, 1), GIDMappings: imMap(0, 1000, 1)}
		}, nil, []string{"mounts[", "nope", "no such file"}},
		{"missing-source-in-rootfs", func(string) specs.Mount {
			return specs.Mount{Destination: "/m", Type: "bind", Source: "rootfs/nope", Options: []string{"bind", "idmap"},
				UIDMappings: imMap(0, 1000, 1), GIDMappings: imMap(0, 1000, 1)}
		}, nil, []string{"mounts[", "nope", "no such file"}},
		{"kernel-refuses", func(string) specs.Mount {
			// procfs does not take idmapped mounts
			return specs.Mount{Destination: "/m", Type: "bind", Source: "/proc/sys", Options: []string{"rbind", "idmap"},
				UIDMappings: imMap(0, 1000, 1), GIDMappings: imMap(0, 1000, 1)}
		}, nil, []string{"mounts[", `"/m"`, "idmap", "invalid argument"}},
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			src := imSource(t, e.Dir)
			id := fmt.Sprintf("idmap-bad-%s-%d", c.name, os.Getpid())
			b := e.Bundle([]string{"sleep", "100"}, func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, c.mount(src))
				if c.edit != nil {
					c.edit(s)
				}
			})
			r := nsCreate(e, b, id)
			lcOneLine(t, "create", r, c.want...)
			nsAssertNothingLeft(t, e, id, b, true)
		})
	}
}

// TestIdmapFeatures: `features` says idmapped mounts work, and lists the
// options.
func TestIdmapFeatures(t *testing.T) {
	out, err := exec.Command(binary, "features").Output()
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if !strings.Contains(strings.Join(strings.Fields(s), ""), `"idmap":{"enabled":true}`) {
		t.Errorf("features does not say idmap enabled: %s", s)
	}
	for _, o := range []string{`"idmap"`, `"ridmap"`} {
		if !strings.Contains(s, o) {
			t.Errorf("features' mountOptions lack %s", o)
		}
	}
}

// TestMountSourceUnreachableFromUserns: a bind source under a directory
// only the host's root may enter (0700) is opened by the runtime on the
// host's side, so that a container with a user namespace mounts it (as
// runc's mount-source fds); inside, its files read as on the host, and
// the directory above it stays out of reach.
func TestMountSourceUnreachableFromUserns(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	private := filepath.Join(e.Dir, "private")
	data := filepath.Join(private, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "hello"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(private, "canary"), []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("unreachable-%d", os.Getpid())
	b := e.Bundle(nsReport(`echo hello $(cat /data/hello)
echo file $(cat /file)
echo canary $(cat /data/../canary 2>/dev/null || echo unreachable)`), func(s *specs.Spec) {
		nsAddUserns(s)
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/data", Type: "bind", Source: data, Options: []string{"rbind", "ro"}},
			specs.Mount{Destination: "/file", Type: "bind", Source: filepath.Join(data, "hello"), Options: []string{"bind", "ro"}})
	})
	nsPrepareUserns(t, e, b)
	if fi, err := os.Stat(private); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("%s must stay 0700: %v %v", private, fi.Mode(), err)
	}
	out := nsCreateStartReport(e, b, id)
	imCheck(t, out, map[string]string{"hello": "from the host", "file": "from the host", "canary": "unreachable"})
}

// TestIdmapKeepsLockedFlags: the host's read-only mount of a volume stays
// read-only through an idmapped mount of it in a container with a user
// namespace, even for a root that may mount (CAP_SYS_ADMIN in its user
// namespace): the tree is cloned from the container's mount namespace,
// where the kernel locked the flag, not from the host's.
func TestIdmapKeepsLockedFlags(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	src := imSource(t, e.Dir)
	ro := filepath.Join(e.Dir, "ro")
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(src, ro, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(ro, unix.MNT_DETACH) })
	if err := unix.Mount("", ro, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("idmap-locked-%d", os.Getpid())
	b := e.Bundle(nsReport(`echo owner $(stat -c %u /m/owned1000)
echo remount $(mount -o remount,bind,rw /m 2>/dev/null && echo done || echo refused)
echo write $(touch /m/new 2>/dev/null && echo wrote || echo refused)`), func(s *specs.Spec) {
		nsAddUserns(s)
		c := s.Process.Capabilities
		c.Bounding = append(c.Bounding, "CAP_SYS_ADMIN")
		c.Effective = append(c.Effective, "CAP_SYS_ADMIN")
		c.Permitted = append(c.Permitted, "CAP_SYS_ADMIN")
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/m", Type: "bind", Source: ro, Options: []string{"bind", "idmap"}})
	})
	nsPrepareUserns(t, e, b)
	imCheck(t, nsCreateStartReport(e, b, id), map[string]string{"owner": "1000", "remount": "refused", "write": "refused"})
	if _, err := os.Stat(filepath.Join(src, "new")); err == nil {
		t.Errorf("the container wrote through the host's read-only mount")
	}
}

// TestIdmapJoinedUserns: a container that joins another's user namespace
// by path (a Kubernetes pod's containers with hostUsers: false join the
// sandbox's) and idmaps a volume without mappings of its own maps it
// through that namespace: the host's 1000 is 1000 inside.
func TestIdmapJoinedUserns(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	src := imSource(t, e.Dir)
	a := e.Bundle([]string{"sleep", "100"}, func(s *specs.Spec) { nsAddUserns(s) })
	nsPrepareUserns(t, e, a)
	aID, bID := fmt.Sprintf("idmap-ja-%d", os.Getpid()), fmt.Sprintf("idmap-jb-%d", os.Getpid())
	aPid := nsStartBundle(e, a, aID)
	b := e.Bundle(imScript("/idmapped"), func(s *specs.Spec) {
		nsSet(s, specs.UserNamespace, fmt.Sprintf("/proc/%d/ns/user", aPid))
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/idmapped", Type: "bind", Source: src, Options: []string{"rbind", "idmap"}})
	})
	nsPrepareUserns(t, e, b)
	imCheck(t, nsCreateStartReport(e, b, bID), map[string]string{"o1000_0": "1000:1000", "o0_0": "0:0", "new_0": "0:0"})
	if got := imOwner(t, filepath.Join(src, "new0")); got != "0:0" {
		t.Errorf("what root made through the idmapped mount is %s on the host, want 0:0", got)
	}
}

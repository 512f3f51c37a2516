package planner

import (
	"sort"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestParseNamespacesEachTypeIsNew(t *testing.T) {
	t.Parallel()
	want := map[specs.LinuxNamespaceType]int{
		specs.PIDNamespace:     unix.CLONE_NEWPID,
		specs.NetworkNamespace: unix.CLONE_NEWNET,
		specs.MountNamespace:   unix.CLONE_NEWNS,
		specs.IPCNamespace:     unix.CLONE_NEWIPC,
		specs.UTSNamespace:     unix.CLONE_NEWUTS,
		specs.UserNamespace:    unix.CLONE_NEWUSER,
		specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
		specs.TimeNamespace:    unix.CLONE_NEWTIME,
	}
	all := 0
	var list []specs.LinuxNamespace
	for typ, flag := range want {
		t.Run(string(typ), func(t *testing.T) {
			n, err := ParseNamespaces(&specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: typ}}})
			if err != nil {
				t.Fatal(err)
			}
			if n.New != flag {
				t.Errorf("New = %#x, want %#x", n.New, flag)
			}
			if len(n.Joins) != 0 {
				t.Errorf("Joins = %+v, want none", n.Joins)
			}
			if !n.Has(typ) || !n.IsNew(typ) || n.Join(typ) != nil {
				t.Errorf("Has=%v IsNew=%v Join=%v, want true true nil", n.Has(typ), n.IsNew(typ), n.Join(typ))
			}
			for other := range want {
				if other != typ && n.Has(other) {
					t.Errorf("Has(%s) is true with only %s listed", other, typ)
				}
			}
		})
		all |= flag
		list = append(list, specs.LinuxNamespace{Type: typ})
	}
	n, err := ParseNamespaces(&specs.Linux{Namespaces: list})
	if err != nil {
		t.Fatal(err)
	}
	if n.New != all {
		t.Errorf("all eight: New = %#x, want %#x", n.New, all)
	}
}

func TestParseNamespacesPathIsJoin(t *testing.T) {
	t.Parallel()
	n, err := ParseNamespaces(&specs.Linux{Namespaces: []specs.LinuxNamespace{
		{Type: specs.PIDNamespace},
		{Type: specs.NetworkNamespace, Path: "/proc/42/ns/net"},
		{Type: specs.MountNamespace},
		{Type: specs.IPCNamespace, Path: "/run/netns/x ipc"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if n.New != unix.CLONE_NEWPID|unix.CLONE_NEWNS {
		t.Errorf("New = %#x, want CLONE_NEWPID|CLONE_NEWNS (joins are not new)", n.New)
	}
	if len(n.Joins) != 2 {
		t.Fatalf("Joins = %+v, want 2", n.Joins)
	}
	net := n.Join(specs.NetworkNamespace)
	if net == nil || net.Path != "/proc/42/ns/net" || net.Field != `linux.namespaces[1].path "/proc/42/ns/net"` {
		t.Errorf("net join = %+v", net)
	}
	ipc := n.Join(specs.IPCNamespace)
	if ipc == nil || ipc.Path != "/run/netns/x ipc" || ipc.Field != `linux.namespaces[3].path "/run/netns/x ipc"` {
		t.Errorf("ipc join = %+v", ipc)
	}
	if net != nil && (net.Late || net.File != nil) {
		t.Errorf("a parsed join is neither Late nor opened: %+v", net)
	}
	if !n.Has(specs.NetworkNamespace) || n.IsNew(specs.NetworkNamespace) {
		t.Errorf("joined net: Has=%v IsNew=%v, want true false", n.Has(specs.NetworkNamespace), n.IsNew(specs.NetworkNamespace))
	}
	if n.Has(specs.UTSNamespace) || n.Join(specs.UTSNamespace) != nil {
		t.Error("uts is not listed but Has/Join say it is")
	}
}

func TestParseNamespacesErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		ns   []specs.LinuxNamespace
		want string
	}{
		{"unknown type", []specs.LinuxNamespace{{Type: "pid"}, {Type: "bogus"}},
			`linux.namespaces[1].type "bogus": unknown namespace type`},
		{"same type twice", []specs.LinuxNamespace{{Type: "pid"}, {Type: "ipc"}, {Type: "network"}, {Type: "pid"}},
			`linux.namespaces[3].type "pid": the same type as linux.namespaces[0]`},
		{"same type new and joined", []specs.LinuxNamespace{{Type: "network", Path: "/proc/1/ns/net"}, {Type: "network"}},
			`linux.namespaces[1].type "network": the same type as linux.namespaces[0]`},
		{"relative path", []specs.LinuxNamespace{{Type: "mount"}, {Type: "network", Path: "proc/1/ns/net"}},
			`linux.namespaces[1].path "proc/1/ns/net": not an absolute path`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseNamespaces(&specs.Linux{Namespaces: c.ns})
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if err.Error() != c.want {
				t.Errorf("error %q, want %q", err, c.want)
			}
		})
	}
}

func TestParseNamespacesNilAndEmpty(t *testing.T) {
	t.Parallel()
	for _, l := range []*specs.Linux{nil, {}} {
		n, err := ParseNamespaces(l)
		if err != nil {
			t.Fatal(err)
		}
		if n.New != 0 || len(n.Joins) != 0 {
			t.Errorf("ParseNamespaces(%v) = %+v, want nothing", l, n)
		}
	}
}

func TestNsTypesAndProcName(t *testing.T) {
	t.Parallel()
	var known []string
	for typ := range nsKinds {
		known = append(known, string(typ))
	}
	sort.Strings(known)
	got := append([]string(nil), NsTypes()...)
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(known, ",") {
		t.Errorf("NsTypes() = %v, want the known types %v", got, known)
	}
	for typ, proc := range map[specs.LinuxNamespaceType]string{
		specs.PIDNamespace: "pid", specs.NetworkNamespace: "net", specs.MountNamespace: "mnt",
		specs.IPCNamespace: "ipc", specs.UTSNamespace: "uts", specs.UserNamespace: "user",
		specs.CgroupNamespace: "cgroup", specs.TimeNamespace: "time",
	} {
		if got := ProcName(typ); got != proc {
			t.Errorf("ProcName(%s) = %q, want %q", typ, got, proc)
		}
	}
}

package cgroups

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestConfigDefaultPaths(t *testing.T) {
	c, err := Config("c1", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != "/oci-rt/c1" || c.Name != "" || c.Parent != "" || c.Systemd {
		t.Errorf("fs default: got %+v", c)
	}
	c, err = Config("c1", &specs.Linux{}, true)
	if err != nil {
		t.Fatal(err)
	}
	if c.Parent != "system.slice" || c.ScopePrefix != "oci-rt" || c.Name != "c1" || c.Path != "" || !c.Systemd {
		t.Errorf("systemd default: got %+v", c)
	}
}

func TestConfigBadIDForDefaultPath(t *testing.T) {
	for _, id := range []string{"", ".", "..", "a/b", "../x"} {
		for _, sd := range []bool{false, true} {
			_, err := Config(id, nil, sd)
			if err == nil || !strings.Contains(err.Error(), "container id") {
				t.Errorf("id %q systemd=%v: err = %v", id, sd, err)
			}
		}
	}
	// With an explicit path the id is not used.
	if _, err := Config("", &specs.Linux{CgroupsPath: "/x"}, false); err != nil {
		t.Error(err)
	}
}

func TestConfigFsPaths(t *testing.T) {
	for in, want := range map[string]string{
		"/a/b":          "/a/b",
		"/a/../b/":      "/b",
		"/../../a":      "/a",
		"rel/x":         "rel/x",
		"../../escape":  "escape",
		"a/../../b":     "b",
		"./x//y":        "x/y",
		"sys.slice:a:b": "sys.slice:a:b", // not special for cgroupfs
	} {
		c, err := Config("id", &specs.Linux{CgroupsPath: in}, false)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if c.Path != want || c.Name != "" || c.Parent != "" {
			t.Errorf("%q: got Path %q Name %q Parent %q, want Path %q", in, c.Path, c.Name, c.Parent, want)
		}
	}
}

func TestConfigFsPathRootRejected(t *testing.T) {
	for _, in := range []string{"/", "/..", ".", "..", "a/.."} {
		_, err := Config("id", &specs.Linux{CgroupsPath: in}, false)
		want := `linux.cgroupsPath "` + in + `": `
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: err = %v, want prefix %q", in, err, want)
		}
	}
}

func TestConfigSystemdPath(t *testing.T) {
	for in, want := range map[string][3]string{
		"system.slice:docker:1234": {"system.slice", "docker", "1234"},
		"a-b.slice:p:n":            {"a-b.slice", "p", "n"},
		":p:n":                     {"", "p", "n"},
		"machine.slice::n.scope":   {"machine.slice", "", "n.scope"},
	} {
		c, err := Config("id", &specs.Linux{CgroupsPath: in}, true)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		got := [3]string{c.Parent, c.ScopePrefix, c.Name}
		if got != want || c.Path != "" {
			t.Errorf("%q: got %q (Path %q), want %q", in, got, c.Path, want)
		}
	}
}

func TestConfigSystemdPathErrors(t *testing.T) {
	for _, in := range []string{
		"a:b", "/oci-rt/x", "a:b:c:d", "system.slice:p:", "noslice:p:n",
		"system.slice:p/q:n", "system.slice:p:n/m", "a/b.slice:p:n",
	} {
		_, err := Config("id", &specs.Linux{CgroupsPath: in}, true)
		want := `linux.cgroupsPath "` + in + `": `
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: err = %v, want prefix %q", in, err, want)
		}
	}
}

func TestConfigResources(t *testing.T) {
	limit := int64(1 << 20)
	l := &specs.Linux{Resources: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}}
	c, err := Config("id", l, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.Resources == nil || c.Memory != limit {
		t.Fatalf("resources not converted: %+v", c.Resources)
	}
	if len(c.Devices) != len(allowedDevices) {
		t.Errorf("want only the %d default device rules, got %d", len(allowedDevices), len(c.Devices))
	}
	bad := int64(-5)
	l.Resources.Memory.Limit = &bad
	_, err = Config("id", l, false)
	if err == nil || !strings.HasPrefix(err.Error(), "linux.resources.memory.limit -5: ") {
		t.Errorf("err = %v", err)
	}
}

// A default device that the spec lists in linux.devices loses its rule, as
// in runc: the spec's own device rules decide about it.
func TestConfigSpecDevicesReplaceDefaults(t *testing.T) {
	l := &specs.Linux{Devices: []specs.LinuxDevice{
		{Path: "/dev/full", Type: "c", Major: 1, Minor: 7},
		{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229},
	}}
	c, err := Config("id", l, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Devices) != len(allowedDevices)-1 {
		t.Fatalf("got %d rules, want %d", len(c.Devices), len(allowedDevices)-1)
	}
	for _, r := range c.Devices {
		if r.Major == 1 && r.Minor == 7 {
			t.Errorf("/dev/full default rule kept: %v", r.CgroupString())
		}
	}
}

package cgroups

import (
	"errors"
	"strings"
	"testing"

	cg "github.com/opencontainers/cgroups"
)

func TestNewNilConfig(t *testing.T) {
	if _, err := New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	if _, err := Load(nil, map[string]string{"memory": "/sys/fs/cgroup/memory/x"}); err == nil {
		t.Error("Load(nil) succeeded")
	}
}

func TestNewSystemdNotRunning(t *testing.T) {
	saved := systemdRunning
	t.Cleanup(func() { systemdRunning = saved })
	systemdRunning = func() bool { return false }

	c, err := Config("id", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func() (cg.Manager, error){
		"New":  func() (cg.Manager, error) { return New(c) },
		"Load": func() (cg.Manager, error) { return Load(c, map[string]string{"": "/sys/fs/cgroup/x"}) },
	} {
		_, err := f()
		if !errors.Is(err, ErrSystemdNotRunning) ||
			err.Error() != "systemd cgroup driver requested but systemd is not running" {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestLoadRejectsBadPaths(t *testing.T) {
	c, err := Config("id", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, paths := range []map[string]string{
		nil,
		{},
		{"memory": "relative/path"},
		{"memory": "/sys/fs/cgroup/memory/../../../etc"},
		{"": ""},
	} {
		if _, err := Load(c, paths); err == nil || !strings.Contains(err.Error(), "cgroup manager:") {
			t.Errorf("Load(%v): err = %v", paths, err)
		}
	}
}

// New does not touch the filesystem; it only needs a non-nil Resources,
// which it supplies when the config has none.
func TestNewFillsResources(t *testing.T) {
	c := &cg.Cgroup{Path: "/oci-rt-unit-test/none"}
	if _, err := New(c); err != nil {
		t.Skipf("no usable cgroup hierarchy here: %v", err)
	}
	if c.Resources == nil {
		t.Error("Resources still nil")
	}
}

// Without the device hooks every Set with device rules would fail with
// ErrDevicesUnsupported.
func TestDeviceHooksInstalled(t *testing.T) {
	if cg.DevicesSetV1 == nil || cg.DevicesSetV2 == nil {
		t.Error("device setters not installed")
	}
	props, err := noDeviceProps(&cg.Resources{}, 0)
	if err != nil || props != nil {
		t.Errorf("noDeviceProps = %v, %v", props, err)
	}
}

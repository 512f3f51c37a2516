package cgroups

import (
	systemdDbus "github.com/coreos/go-systemd/v22/dbus"
	cg "github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/systemd"
)

// init installs our device setters in the library's hooks (see the package
// comment). Only empty hooks are filled: should the library's devices
// package ever be linked in, its setters win.
func init() {
	if cg.DevicesSetV1 == nil {
		cg.DevicesSetV1 = setDevicesV1
	}
	if cg.DevicesSetV2 == nil {
		cg.DevicesSetV2 = setDevicesV2
	}
	if systemd.GenerateDeviceProps == nil {
		systemd.GenerateDeviceProps = noDeviceProps
	}
}

// noDeviceProps tells systemd nothing about devices. Both systemd managers
// call the cgroupfs setters above after setting unit properties, so the
// rules are still enforced, and a unit without a device policy is one
// whose devices systemd leaves alone. (Translating the rules into
// DeviceAllow= entries, as the library does, is not worth it while
// systemd is not even running on our hosts.)
func noDeviceProps(*cg.Resources, int) ([]systemdDbus.Property, error) {
	return nil, nil
}

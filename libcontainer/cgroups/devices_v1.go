package cgroups

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/moby/sys/userns"
	cg "github.com/opencontainers/cgroups"
)

// setDevicesV1 brings the v1 devices cgroup at path to r.Devices with the
// fewest writes, so that updating a running container does not briefly
// deny the devices it keeps.
func setDevicesV1(path string, r *cg.Resources) error {
	// In a user namespace the devices files cannot be written at all.
	if userns.RunningInUserNS() || r.SkipDevices {
		return nil
	}
	target, err := buildDevState(r.Devices)
	if err != nil {
		return err
	}
	current, err := readDevState(path)
	if err != nil {
		return err
	}
	// With no process in the cgroup (create sets the limits before the
	// container joins) nothing can be briefly denied: start from scratch,
	// so that devices.list holds the rules in the order they were given,
	// whatever the cgroup inherited from its parent.
	procs, err := cg.ReadFile(path, "cgroup.procs")
	if err != nil {
		return err
	}
	empty := strings.TrimSpace(procs) == ""
	// one open of each file, one write(2) per rule (the kernel takes a
	// single rule per write): a default set is a dozen rules
	files := map[string]*os.File{}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, rule := range current.transition(target, empty) {
		name := "devices.deny"
		if rule.Allow {
			name = "devices.allow"
		}
		f := files[name]
		if f == nil {
			if f, err = cg.OpenFile(path, name, os.O_WRONLY); err != nil {
				return err
			}
			files[name] = f
		}
		if _, err := f.Write([]byte(rule.CgroupString())); err != nil {
			return fmt.Errorf("write %s to %s: %w", rule.CgroupString(), f.Name(), err)
		}
	}
	return checkDevState(path, target)
}

func readDevState(path string) (*devState, error) {
	list, err := cg.ReadFile(path, "devices.list")
	if err != nil {
		return nil, err
	}
	return parseDevicesList(list)
}

// checkDevState re-reads the cgroup: a parent that denies a device makes
// the kernel refuse or drop our allow rules, and the container must not
// start believing it has them. Deny exceptions of a default-allow cgroup
// are invisible, so there only the policy can be checked.
func checkDevState(path string, target *devState) error {
	after, err := readDevState(path)
	if err != nil {
		return err
	}
	if after.allowAll != target.allowAll || (!target.allowAll && !after.equal(target)) {
		return errors.New("devices cgroup " + path + " does not match the requested device rules")
	}
	return nil
}

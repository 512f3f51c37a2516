package main

import (
	"encoding/json"
	"os"

	cg "github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/urfave/cli/v2"

	specconv "github.com/oci-rt/oci-rt/libcontainer/planner"
	"github.com/oci-rt/oci-rt/libcontainer/seccomp"
)

// featuresCommand prints what oci-rt implements, and nothing it does not:
// containerd and CRI-O switch features on from this document.
var featuresCommand = &cli.Command{
	Name:  "features",
	Usage: "print the runtime-spec features document",
	Action: func(c *cli.Context) error {
		yes, no := true, false
		v2 := cg.IsCgroup2UnifiedMode()
		f := features.Features{
			OCIVersionMin: "1.0.0",
			OCIVersionMax: specs.Version,
			Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
			MountOptions:  specconv.MountOptions(),
			Linux: &features.Linux{
				Namespaces:   specconv.NsTypes(),
				Capabilities: specconv.CapNames(),
				Cgroup:       &features.Cgroup{V1: &yes, V2: &yes, Systemd: &yes, SystemdUser: &no, Rdma: &yes},
				Seccomp: &features.Seccomp{Enabled: &yes, Actions: seccomp.KnownActions(), Operators: seccomp.KnownOperators(),
					Archs: seccomp.KnownArchs(), KnownFlags: seccomp.KnownFlags(), SupportedFlags: seccomp.KnownFlags()},
				Apparmor:        &features.Apparmor{Enabled: &no},
				Selinux:         &features.Selinux{Enabled: &no},
				IntelRdt:        &features.IntelRdt{Enabled: &no},
				MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &yes}},
				NetDevices:      &features.NetDevices{Enabled: &yes},
			},
			Annotations: map[string]string{"io.github.oci-rt.cgroup.v2-host": boolString(v2)},
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "    ")
		return enc.Encode(f)
	},
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

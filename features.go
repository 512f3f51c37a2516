package main

import (
	"encoding/json"
	"fmt"
	"os"

	cg "github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"github.com/urfave/cli/v2"

	"github.com/oci-rt/oci-rt/libcontainer/planner"
	"github.com/oci-rt/oci-rt/libcontainer/seccomp"
)

// featuresCommand prints what oci-rt implements, and nothing it does not:
// containerd and CRI-O switch features on from this document.
var featuresCommand = &cli.Command{
	Name:  "features",
	Usage: "print the runtime-spec features document",
	Action: func(c *cli.Context) error {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "    ")
		return enc.Encode(featuresDocument())
	},
}

// Annotations of the features document, as runc names its own.
const (
	annotationVersion           = "io.github.oci-rt.version"
	annotationCommit            = "io.github.oci-rt.commit"
	annotationLibseccompVersion = "io.github.seccomp.libseccomp.version"
	annotationCgroupV2Host      = "io.github.oci-rt.cgroup.v2-host"
)

// featuresDoc is the runtime-spec's document, with the list of config
// annotations that change what oci-rt does written even when empty:
// oci-rt reads none, and says so (the library's field would be omitted).
type featuresDoc struct {
	features.Features
	PotentiallyUnsafeConfigAnnotations []string `json:"potentiallyUnsafeConfigAnnotations"`
}

// featuresDocument says what this oci-rt accepts; features_test.go checks
// each claim against the planner.
func featuresDocument() featuresDoc {
	yes, no := true, false
	major, minor, micro := libseccomp.GetLibraryVersion()
	return featuresDoc{Features: features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		MountOptions:  planner.MountOptions(),
		Linux: &features.Linux{
			Namespaces:   planner.NsTypes(),
			Capabilities: planner.CapNames(),
			Cgroup:       &features.Cgroup{V1: &yes, V2: &yes, Systemd: &yes, SystemdUser: &no, Rdma: &yes},
			Seccomp: &features.Seccomp{Enabled: &yes, Actions: seccomp.KnownActions(), Operators: seccomp.KnownOperators(),
				Archs: seccomp.KnownArchs(), KnownFlags: seccomp.KnownFlags(), SupportedFlags: seccomp.KnownFlags()},
			// applied where the host has them (refused by name where not)
			Apparmor: &features.Apparmor{Enabled: &yes},
			Selinux:  &features.Selinux{Enabled: &yes},
			// applied where resctrl is mounted (refused by name where not), as runc 1.5 says
			IntelRdt:        &features.IntelRdt{Enabled: &yes, Schemata: &yes, Monitoring: &yes},
			MemoryPolicy:    &features.MemoryPolicy{Modes: planner.MemoryPolicyModes(), Flags: planner.MemoryPolicyFlags()},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &yes}},
			NetDevices:      &features.NetDevices{Enabled: &yes},
		},
		Annotations: map[string]string{
			annotationVersion:           version,
			annotationCommit:            commit,
			annotationLibseccompVersion: fmt.Sprintf("%d.%d.%d", major, minor, micro),
			annotationCgroupV2Host:      boolString(cg.IsCgroup2UnifiedMode()),
		},
	}, PotentiallyUnsafeConfigAnnotations: []string{}}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

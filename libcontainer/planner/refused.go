package planner

import (
	"fmt"

	"github.com/oci-rt/oci-rt/libcontainer/errmsg"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// RefusedField is a runtime-spec field oci-rt does not apply, and why. A
// config that sets one is refused, naming it: the spec asks a runtime to
// fail on what it does not support rather than run without it.
type RefusedField struct {
	Path   string // JSON path, "[]" for any element of an array
	Reason string
}

// Refused lists them; tests/specfields checks that every field of the
// runtime-spec is either read by oci-rt's code or listed here, and that
// each one listed is refused.
var Refused = []RefusedField{
	{"windows", "configures a Windows container; oci-rt runs Linux containers"},
	{"solaris", "configures a Solaris container; oci-rt runs Linux containers"},
	{"vm", "configures a virtual machine; oci-rt runs containers, not a hypervisor"},
	{"zos", "configures a z/OS container; oci-rt runs Linux containers"},
	{"freebsd", "configures a FreeBSD jail; oci-rt runs Linux containers"},
	{"process.commandLine", "a Windows field; on Linux process.args is the command"},
	{"process.user.username", "a Windows field; on Linux process.user.uid and gid name the user"},
}

func refusedReason(path string) string {
	for _, r := range Refused {
		if r.Path == path {
			return r.Reason
		}
	}
	return "not supported"
}

func refuse(field string) error {
	return fmt.Errorf("%s: %s", field, refusedReason(field))
}

// checkRefusedProcess is CheckRefused's part for process, which exec's
// --process JSON gives too (ResolveProcess calls it).
func checkRefusedProcess(p *specs.Process) error {
	if p == nil {
		return nil
	}
	if p.CommandLine != "" {
		return refuse("process.commandLine")
	}
	if p.User.Username != "" {
		return fmt.Errorf("process.user.username %q: %s", errmsg.Value(p.User.Username), refusedReason("process.user.username"))
	}
	return nil
}

// CheckRefused fails on the first field of Refused the config sets.
func CheckRefused(s *specs.Spec) error {
	switch {
	case s.Windows != nil:
		return refuse("windows")
	case s.Solaris != nil:
		return refuse("solaris")
	case s.VM != nil:
		return refuse("vm")
	case s.ZOS != nil:
		return refuse("zos")
	case s.FreeBSD != nil:
		return refuse("freebsd")
	}
	if err := checkRefusedProcess(s.Process); err != nil {
		return err
	}
	l := s.Linux
	if l == nil {
		return nil
	}
	if r := l.Resources; r != nil && r.Memory != nil {
		if u := r.Memory.UseHierarchy; u != nil && !*u {
			return fmt.Errorf("linux.resources.memory.useHierarchy false: memory cgroups are always hierarchical (Linux 5.11 and later)")
		}
	}
	return nil
}

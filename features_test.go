package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"

	"github.com/oci-rt/oci-rt/libcontainer/planner"
	"github.com/oci-rt/oci-rt/libcontainer/seccomp"
	"github.com/oci-rt/oci-rt/libcontainer/specdefault"
)

// featuresValidate runs the planner's checks of create on a spec.
func featuresValidate(s *specs.Spec) error {
	ns, err := planner.ParseNamespaces(s.Linux)
	if err != nil {
		return err
	}
	return planner.Validate(s, &ns)
}

// The features document against what the planner really accepts: each
// claim is tried.
func TestFeaturesMatchWhatIsAccepted(t *testing.T) {
	f := featuresDocument()
	if out, err := json.Marshal(f); err != nil || !strings.Contains(string(out), `"potentiallyUnsafeConfigAnnotations":[]`) {
		t.Errorf("the document does not say that no annotation is read: %s %v", out, err)
	}

	for _, o := range f.MountOptions {
		if d := planner.MountData([]string{o}); d != "" {
			t.Errorf("mountOptions lists %q, but the planner passes it on to the filesystem as data %q", o, d)
		}
	}
	if d := planner.MountData([]string{"size=1k", "nosuchoption"}); d != "size=1k,nosuchoption" {
		t.Errorf("unknown options reach the filesystem as %q", d)
	}
	for _, o := range []string{"rnoatime", "rrelatime", "rstrictatime", "ratime", "rnosymfollow", "symfollow", "tmpcopyup"} {
		if !slices.Contains(f.MountOptions, o) {
			t.Errorf("mountOptions lacks %q", o)
		}
	}

	for _, n := range f.Linux.Namespaces {
		l := &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.LinuxNamespaceType(n)}}}
		if _, err := planner.ParseNamespaces(l); err != nil {
			t.Errorf("namespaces lists %q, refused: %v", n, err)
		}
	}
	for _, c := range f.Linux.Capabilities {
		p := specdefault.Example().Process
		p.Capabilities = &specs.LinuxCapabilities{Bounding: []string{c}}
		if _, err := planner.ResolveProcess(p, t.TempDir()); err != nil {
			t.Errorf("capabilities lists %q, refused: %v", c, err)
		}
	}

	hookNames := []string{}
	ht := reflect.TypeOf(specs.Hooks{})
	for i := 0; i < ht.NumField(); i++ {
		name, _, _ := strings.Cut(ht.Field(i).Tag.Get("json"), ",")
		hookNames = append(hookNames, name)
	}
	slices.Sort(hookNames)
	if got := slices.Sorted(slices.Values(f.Hooks)); !slices.Equal(got, hookNames) {
		t.Errorf("hooks %v, the runtime-spec's (all run) %v", got, hookNames)
	}

	mp := f.Linux.MemoryPolicy
	for _, m := range mp.Modes {
		s := specdefault.Example()
		s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MemoryPolicyModeType(m), Nodes: "0"}
		if m == "MPOL_DEFAULT" || m == "MPOL_LOCAL" {
			s.Linux.MemoryPolicy.Nodes = ""
		}
		if err := featuresValidate(s); err != nil {
			t.Errorf("memoryPolicy.modes lists %s, refused: %v", m, err)
		}
	}
	for _, fl := range mp.Flags {
		s := specdefault.Example()
		s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MemoryPolicyFlagType(fl)}}
		if err := featuresValidate(s); err != nil {
			t.Errorf("memoryPolicy.flags lists %s, refused: %v", fl, err)
		}
	}
	s := specdefault.Example()
	s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: "MPOL_NOT_LISTED"}
	if featuresValidate(s) == nil {
		t.Error("a memoryPolicy mode the document does not list is accepted")
	}

	// what the document says is off must be refused, and what it says is
	// on must not be
	onOff := []struct {
		what string
		on   bool
		set  func(*specs.Spec)
	}{
		{"linux.intelRdt", *f.Linux.IntelRdt.Enabled, func(s *specs.Spec) { s.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "x"} }},
		{"linux.netDevices", *f.Linux.NetDevices.Enabled, func(s *specs.Spec) {
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth9": {}}
		}},
		{"mounts[0].uidMappings", *f.Linux.MountExtensions.IDMap.Enabled, func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "/x", Type: "bind", Source: "/tmp", Options: []string{"bind"},
				UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}},
				GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}}}
		}},
	}
	for _, c := range onOff {
		s := specdefault.Example()
		c.set(s)
		err := featuresValidate(s)
		if !c.on && (err == nil || !strings.Contains(err.Error(), c.what)) {
			t.Errorf("the document says %s is off, but the planner says %v", c.what, err)
		}
		if c.on && err != nil && strings.Contains(err.Error(), c.what) {
			t.Errorf("the document says %s is on, but the planner refuses it: %v", c.what, err)
		}
	}

	sc := f.Linux.Seccomp
	compile := func(what string, l specs.LinuxSeccomp) {
		if l.DefaultAction == "" {
			l.DefaultAction = specs.ActAllow
		}
		if _, err := seccomp.Compile(&l); err != nil {
			t.Errorf("seccomp %s: the document lists it, Compile refuses: %v", what, err)
		}
	}
	for _, a := range sc.Actions {
		l := specs.LinuxSeccomp{Syscalls: []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.LinuxSeccompAction(a)}}}
		if a == string(specs.ActNotify) {
			l.ListenerPath = "/run/agent.sock"
		}
		compile("action "+a, l)
	}
	for _, o := range sc.Operators {
		compile("operator "+o, specs.LinuxSeccomp{Syscalls: []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: 1, ValueTwo: 1, Op: specs.LinuxSeccompOperator(o)}}}}})
	}
	for _, a := range sc.Archs {
		compile("arch "+a, specs.LinuxSeccomp{Architectures: []specs.Arch{specs.Arch(a)}})
	}
	for _, fl := range sc.SupportedFlags {
		compile("flag "+fl, specs.LinuxSeccomp{Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlag(fl)}})
	}

	major, minor, micro := libseccomp.GetLibraryVersion()
	if v := f.Annotations[annotationLibseccompVersion]; v != strings.Join([]string{itoa(major), itoa(minor), itoa(micro)}, ".") {
		t.Errorf("libseccomp version annotation %q", v)
	}
	if f.Annotations[annotationVersion] != version || f.Annotations[annotationCommit] != commit {
		t.Errorf("version annotations %q %q, want %q %q", f.Annotations[annotationVersion], f.Annotations[annotationCommit], version, commit)
	}
}

func itoa(n uint) string { return strconv.FormatUint(uint64(n), 10) }

// No code reads an annotation of config.json (potentiallyUnsafeConfigAnnotations
// is empty): one that did would have to be listed.
func TestFeaturesNoAnnotationRead(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (path == "tests" || path == "bench" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "Annotations[") {
			t.Errorf("%s reads an annotation: list it in potentiallyUnsafeConfigAnnotations", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

package launch

import (
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/oci-rt/oci-rt/libcontainer/jsonlite"
	"github.com/oci-rt/oci-rt/libcontainer/planner"
)

// CreateOpts are the create command's inputs.
type CreateOpts struct {
	ID            string
	Bundle        string
	PidFile       string
	ConsoleSocket string
	// PidfdSocket receives a pidfd of the container's process
	PidfdSocket string
	NoPivot     bool
	PreserveFds int
	// ListenFds are socket-activation fds (LISTEN_FDS) from 3 up, passed
	// before the preserved ones, with LISTEN_FDS and LISTEN_PID=1 set
	ListenFds    int
	Systemd      bool
	NoNewKeyring bool
	// Rootless: an unprivileged caller; a cgroup it may not create is
	// done without (unless limits are asked for), as runc --rootless does
	Rootless bool
	// NotifySocket is the caller's NOTIFY_SOCKET: the container gets a
	// socket of ours, relayed by start
	NotifySocket string
	// ConsoleConn, when set, is used instead of dialing ConsoleSocket
	// (run with a terminal makes its own socket pair).
	ConsoleConn *os.File
	// Loaded is the bundle's config when the caller has read it already.
	Loaded *Bundle
}

// ExecOpts describe a process to start in a running container.
type ExecOpts struct {
	Process       *specs.Process
	PidFile       string
	ConsoleSocket string
	ConsoleConn   *os.File
	PreserveFds   int
	IgnorePaused  bool
	// PidfdSocket receives a pidfd of the process
	PidfdSocket string
	// SubCgroups: exec --cgroup, parsed by cgroups.ParseSubCgroups
	SubCgroups map[string]string
}

// Bundle is a bundle's config.json, parsed, and its bytes (kept as the
// container's saved config without encoding it again).
type Bundle struct {
	Spec *specs.Spec
	Raw  []byte
}

// LoadBundle reads and parses a bundle's config.json.
func LoadBundle(bundle string) (*Bundle, error) {
	path := filepath.Join(bundle, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config.json: %w", planner.PathReason(err))
	}
	var s specs.Spec
	if err := jsonlite.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("config.json %q: malformed: %w", path, err)
	}
	return &Bundle{Spec: &s, Raw: b}, nil
}

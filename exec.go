package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/cgroups"
	"github.com/oci-rt/oci-rt/libcontainer/jsonlite"
	"github.com/oci-rt/oci-rt/libcontainer/launch"
)

var execCommand = &cli.Command{
	Name:      "exec",
	Usage:     "run a process in a created or running container",
	ArgsUsage: "<container-id> [exec options] [--] <command> [args...]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "process", Aliases: []string{"p"}, Usage: "a process.json to run instead of the command line"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "give the process a pseudo-terminal"},
		&cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master"},
		&cli.StringFlag{Name: "pidfd-socket", Usage: "unix socket that receives a pidfd of the process"},
		&cli.StringFlag{Name: "cwd", Usage: "working directory in the container"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "add an environment variable KEY=VALUE"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "uid[:gid] to run as"},
		&cli.Int64SliceFlag{Name: "additional-gids", Aliases: []string{"g"}, Usage: "supplementary group id"},
		&cli.StringSliceFlag{Name: "cap", Aliases: []string{"c"}, Usage: "add a capability"},
		&cli.BoolFlag{Name: "no-new-privs", Usage: "set no_new_privs"},
		&cli.StringFlag{Name: "apparmor", Usage: "AppArmor profile for the process"},
		&cli.StringFlag{Name: "process-label", Usage: "SELinux label for the process"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the process runs"},
		&cli.StringFlag{Name: "pid-file", Usage: "write the process's host pid here"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass this many fds from 3 up to the process"},
		&cli.BoolFlag{Name: "ignore-paused", Usage: "exec even if the container is paused"},
		&cli.StringSliceFlag{Name: "cgroup", Usage: "run the process in an existing sub-cgroup of the container's: `PATH` in every hierarchy, or CONTROLLER[,CONTROLLER]:PATH (cgroup v1)"},
	},
	Action: execAction,
}

func execAction(c *cli.Context) error {
	if c.NArg() < 1 {
		return errors.New("exec: expects a container id")
	}
	ctr, err := store(c).Load(c.Args().First())
	if err != nil {
		return err
	}
	spec, err := ctr.Spec()
	if err != nil {
		return err
	}
	proc, err := execProcess(c, spec)
	if err != nil {
		return err
	}
	subs, err := cgroups.ParseSubCgroups(c.StringSlice("cgroup"))
	if err != nil {
		return err
	}
	detach := c.Bool("detach")
	sigs := forwardSignals(!detach)
	opts := launch.ExecOpts{Process: proc, PidFile: c.String("pid-file"), SubCgroups: subs, PidfdSocket: c.String("pidfd-socket"),
		ConsoleSocket: c.String("console-socket"), PreserveFds: c.Int("preserve-fds"), IgnorePaused: c.Bool("ignore-paused")}
	if !detach {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("become a subreaper: %w", err)
		}
	}
	var pty *ptyRelay
	if proc.Terminal && opts.ConsoleSocket == "" {
		if detach {
			return errors.New("--tty with --detach needs --console-socket")
		}
		if pty, err = newPtyRelay(); err != nil {
			return err
		}
		opts.ConsoleConn = pty.theirs
		defer pty.close()
	}
	pid, err := ctr.Exec(spec, opts)
	if err != nil {
		return err
	}
	if err := pty.receive(); err != nil {
		unix.Kill(pid, unix.SIGKILL)
		return err
	}
	if detach {
		return nil
	}
	return exitCode(waitForward(pid, sigs, pty))
}

// execProcess is --process, or the container's process with the command
// line and the flags in place of its args, user, cwd...; as runc does.
func execProcess(c *cli.Context, spec *specs.Spec) (*specs.Process, error) {
	if path := c.String("process"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--process: %w", err)
		}
		var p specs.Process
		if err := jsonlite.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("--process %q: malformed: %w", path, err)
		}
		return &p, nil
	}
	if spec.Process == nil {
		return nil, errors.New("the container's config has no process")
	}
	p := *spec.Process
	p.Args = c.Args().Tail()
	if len(p.Args) == 0 {
		return nil, errors.New("exec: expects a command after the container id")
	}
	p.Env = append(append([]string(nil), p.Env...), c.StringSlice("env")...)
	p.Terminal = c.Bool("tty")
	if cwd := c.String("cwd"); cwd != "" {
		p.Cwd = cwd
	}
	if u := c.String("user"); u != "" {
		uid, gid, err := parseUser(u)
		if err != nil {
			return nil, err
		}
		p.User.UID, p.User.GID = uid, gid
	}
	for _, g := range c.Int64Slice("additional-gids") {
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
	}
	if caps := c.StringSlice("cap"); len(caps) > 0 {
		p.Capabilities = addCaps(p.Capabilities, caps)
	}
	if c.Bool("no-new-privs") {
		p.NoNewPrivileges = true
	}
	if c.IsSet("apparmor") {
		p.ApparmorProfile = c.String("apparmor")
	}
	if c.IsSet("process-label") {
		p.SelinuxLabel = c.String("process-label")
	}
	return &p, nil
}

func parseUser(u string) (uid, gid uint32, err error) {
	parts := strings.SplitN(u, ":", 2)
	n, err := strconv.ParseUint(parts[0], 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("--user %q: expects uid[:gid] numbers", u)
	}
	uid = uint32(n)
	if len(parts) == 2 {
		n, err := strconv.ParseUint(parts[1], 10, 32)
		if err != nil {
			return 0, 0, fmt.Errorf("--user %q: expects uid[:gid] numbers", u)
		}
		gid = uint32(n)
	}
	return uid, gid, nil
}

// addCaps adds caps to the bounding, effective and permitted sets, and to
// the ambient set when the process has inheritable ones (as runc does).
func addCaps(c *specs.LinuxCapabilities, caps []string) *specs.LinuxCapabilities {
	out := &specs.LinuxCapabilities{}
	if c != nil {
		*out = *c
	}
	for _, n := range caps {
		out.Bounding = append(out.Bounding, n)
		out.Effective = append(out.Effective, n)
		out.Permitted = append(out.Permitted, n)
		if out.Inheritable != nil {
			out.Ambient = append(out.Ambient, n)
		}
	}
	return out
}

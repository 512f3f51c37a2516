package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/oci-rt/oci-rt/libcontainer"
	"github.com/oci-rt/oci-rt/libcontainer/errmsg"
	"github.com/oci-rt/oci-rt/libcontainer/launch"
)

// exitCode lets run hand the container's exit status on as our own.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func fatal(err error) {
	if code, ok := err.(exitCode); ok {
		os.Exit(int(code))
	}
	// one plain line for people, values from config.json cut to a readable
	// length; the --log file gets a structured copy
	msg := errmsg.Cut(err.Error())
	if logToFile {
		logrus.Error(msg)
	}
	fmt.Fprintln(os.Stderr, "oci-rt: "+msg)
	os.Exit(1)
}

func store(c *cli.Context) libcontainer.Store {
	return libcontainer.Store{Root: c.String("root")}
}

// container loads the container the one id argument names.
func container(c *cli.Context) (*libcontainer.Container, error) {
	id, err := idArg(c)
	if err != nil {
		return nil, err
	}
	return store(c).Load(id)
}

// idArg returns the one container id argument.
func idArg(c *cli.Context) (string, error) {
	if c.NArg() != 1 {
		return "", fmt.Errorf("%s: expects exactly one container id, got %d arguments", c.Command.Name, c.NArg())
	}
	return c.Args().First(), nil
}

// rootless reads --rootless: auto means an unprivileged caller.
func rootless(c *cli.Context) (bool, error) {
	switch v := c.String("rootless"); v {
	case "auto":
		return os.Geteuid() != 0, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, fmt.Errorf("--rootless %q: true, false or auto", v)
	}
}

func createOpts(c *cli.Context, id string) (launch.CreateOpts, error) {
	rl, err := rootless(c)
	return launch.CreateOpts{ListenFds: listenFds(), NotifySocket: os.Getenv("NOTIFY_SOCKET"), Rootless: rl,
		ID: id, Bundle: c.String("bundle"), PidFile: c.String("pid-file"),
		ConsoleSocket: c.String("console-socket"), PidfdSocket: c.String("pidfd-socket"), NoPivot: c.Bool("no-pivot"),
		PreserveFds: c.Int("preserve-fds"), Systemd: c.Bool("systemd-cgroup"), NoNewKeyring: c.Bool("no-new-keyring"),
	}, err
}

// listenFds is the number of socket-activation fds systemd passed us
// (LISTEN_FDS, for this process); they go on to the container, as runc does.
func listenFds() int {
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n <= 0 {
		return 0
	}
	if pid := os.Getenv("LISTEN_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0
	}
	return n
}

// stateOut is what state and list --format json print: the spec's state
// plus runc's extra fields, which the clients read.
type stateOut struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

func toOut(s *libcontainer.State) stateOut {
	return stateOut{OCIVersion: s.OCIVersion, ID: s.ID, Pid: s.Pid, Status: s.Status, Bundle: s.Bundle,
		Rootfs: s.Rootfs, Created: s.Created, Annotations: s.Annotations, Owner: s.Owner}
}

package main

import (
	"os"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/oci-rt/oci-rt/libcontainer"
)

var createFlags = []cli.Flag{
	&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Value: ".", Usage: "bundle directory"},
	&cli.StringFlag{Name: "pid-file", Usage: "write the container process's pid here"},
	&cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master when process.terminal is true"},
	&cli.BoolFlag{Name: "no-pivot", Usage: "chroot instead of pivot_root (for a rootfs on a ramdisk)"},
	&cli.IntFlag{Name: "preserve-fds", Usage: "pass this many fds from 3 up to the container"},
	&cli.BoolFlag{Name: "no-new-keyring", Usage: "keep the caller's session keyring instead of a new one named after the container"},
}

var createCommand = &cli.Command{
	Name:      "create",
	Usage:     "create a container whose process waits for start",
	ArgsUsage: "<container-id>",
	Flags:     createFlags,
	Action: func(c *cli.Context) error {
		id, err := idArg(c)
		if err != nil {
			return err
		}
		opts, err := createOpts(c, id)
		if err != nil {
			return err
		}
		_, err = store(c).Create(opts)
		return err
	},
}

func createOpts(c *cli.Context, id string) (libcontainer.CreateOpts, error) {
	rl, err := rootless(c)
	return libcontainer.CreateOpts{ListenFds: listenFds(), NotifySocket: os.Getenv("NOTIFY_SOCKET"), Rootless: rl,
		ID: id, Bundle: c.String("bundle"), PidFile: c.String("pid-file"),
		ConsoleSocket: c.String("console-socket"), NoPivot: c.Bool("no-pivot"),
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

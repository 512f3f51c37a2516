package main

import "github.com/urfave/cli/v2"

var createFlags = []cli.Flag{
	&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Value: ".", Usage: "bundle directory"},
	&cli.StringFlag{Name: "pid-file", Usage: "write the container process's pid here"},
	&cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master when process.terminal is true"},
	&cli.StringFlag{Name: "pidfd-socket", Usage: "unix socket that receives a pidfd of the container's process"},
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

package main

import (
	"fmt"

	"github.com/oci-rt/oci-rt/libcontainer/launch"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

var runCommand = &cli.Command{
	Name:      "run",
	Usage:     "create and start a container, wait for it and delete it",
	ArgsUsage: "<container-id>",
	Flags: append(append([]cli.Flag(nil), createFlags...),
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the process runs"},
		&cli.BoolFlag{Name: "keep", Usage: "do not delete the container after it exits"},
	),
	Action: func(c *cli.Context) error {
		id, err := idArg(c)
		if err != nil {
			return err
		}
		return run(c, id)
	},
}

func run(c *cli.Context, id string) error {
	st := store(c)
	opts, err := createOpts(c, id)
	if err != nil {
		return err
	}
	detach := c.Bool("detach")
	sigs := forwardSignals(!detach)
	// the container's init is forked by the executor, which exits: as a
	// subreaper we get it back as our child and can wait for it
	if !detach {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("become a subreaper: %w", err)
		}
	}
	// read once here (run needs process.terminal) and handed to create
	if b, err := launch.LoadBundle(opts.Bundle); err == nil {
		opts.Loaded = b
	}
	var pty *ptyRelay
	if !detach && opts.ConsoleSocket == "" && wantsTerminal(opts.Loaded) {
		var err error
		if pty, err = newPtyRelay(); err != nil {
			return err
		}
		opts.ConsoleConn = pty.theirs
		defer pty.close()
	}
	ctr, err := st.Create(opts)
	if err != nil {
		return err
	}
	ctr.Hold() // start and delete use the state in memory
	if err := pty.receive(); err != nil {
		ctr.Delete(true)
		return err
	}
	if err := ctr.Start(); err != nil {
		ctr.Delete(true)
		return err
	}
	if detach {
		return nil
	}
	// the signals stay caught (and dropped) while we delete: restoring
	// their defaults would cost two thread hand-offs each, and a ^C now
	// should not stop the clean-up half-way
	s, _ := ctr.State() // held: the state in memory
	code := waitForward(s.Pid, sigs, pty)
	ctr.Exited()
	if !c.Bool("keep") {
		if err := ctr.Delete(true); err != nil {
			logrus.Warn(err)
		}
	}
	return exitCode(code)
}

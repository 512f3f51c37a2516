// oci-rt is an OCI runtime: it turns a bundle (config.json and a rootfs)
// into an isolated process, with runc's commands and flags.
package main

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	_ "github.com/oci-rt/oci-rt/libcontainer/executor" // the executor runs before main
)

// version and commit are set by the Makefile (-ldflags -X).
var (
	version = "0.1.0-dev"
	commit  = "unknown"
)

func main() {
	app := &cli.App{
		Name:    "oci-rt",
		Usage:   "an OCI container runtime",
		Version: version,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Value: "/run/oci-rt", Usage: "directory for container state"},
			&cli.StringFlag{Name: "log", Usage: "log file (default: stderr)"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
			&cli.BoolFlag{Name: "debug", Usage: "log debug messages"},
			&cli.BoolFlag{Name: "systemd-cgroup", Usage: "manage cgroups through systemd (cgroupsPath slice:prefix:name)"},
			&cli.StringFlag{Name: "rootless", Value: "auto", Usage: "true, false or auto (an unprivileged caller): without a cgroup when one cannot be made and no limits are asked"},
		},
		Before: setupLog,
		Commands: []*cli.Command{createCommand, startCommand, stateCommand, killCommand, deleteCommand, runCommand, listCommand, specCommand, execCommand, nsCommand,
			pauseCommand, resumeCommand, psCommand, updateCommand, eventsCommand, featuresCommand},
		// errors are printed once, by main, as one line
		ExitErrHandler: func(*cli.Context, error) {},
		// as runc: a comma is part of the value (exec --env A=1,2,
		// --cgroup memory,pids:sub)
		DisableSliceFlagSeparator: true,
	}
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Printf("oci-rt version %s\ncommit: %s\nspec: %s\n", version, commit, specs.Version)
	}
	if err := app.Run(reorderArgs(app, os.Args)); err != nil {
		fatal(err)
	}
}

var logToFile bool

// setupLog sends logrus to --log in --log-format; the shims read the last
// "error" line of that file as the cause of a failure.
func setupLog(c *cli.Context) error {
	if c.Bool("debug") {
		logrus.SetLevel(logrus.DebugLevel)
	}
	switch c.String("log-format") {
	case "json":
		logrus.SetFormatter(&logrus.JSONFormatter{})
	case "text":
		logrus.SetFormatter(&logrus.TextFormatter{DisableTimestamp: c.String("log") == ""})
	default:
		return fmt.Errorf("--log-format %q: text or json", c.String("log-format"))
	}
	if path := c.String("log"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("--log %q: %w", path, err)
		}
		logrus.SetOutput(f)
		logToFile = true
	}
	return nil
}

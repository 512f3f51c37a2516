// oci-rt is an OCI runtime: it turns a bundle (config.json and a rootfs)
// into an isolated process, with runc's commands and flags.
package main

import (
	"fmt"
	"os"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/oci-rt/oci-rt/libcontainer"
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
		Commands: []*cli.Command{createCommand, startCommand, stateCommand, killCommand, deleteCommand, runCommand, listCommand, specCommand, execCommand,
			pauseCommand, resumeCommand, psCommand, updateCommand, eventsCommand, featuresCommand},
		// errors are printed once, by main, as one line
		ExitErrHandler: func(*cli.Context, error) {},
	}
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Printf("oci-rt version %s\ncommit: %s\nspec: %s\n", version, commit, specVersion())
	}
	if err := app.Run(os.Args); err != nil {
		fatal(err)
	}
}

// exitCode lets run hand the container's exit status on as our own.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func fatal(err error) {
	if code, ok := err.(exitCode); ok {
		os.Exit(int(code))
	}
	// one plain line for people; the --log file gets a structured copy
	if logToFile {
		logrus.Error(err)
	}
	fmt.Fprintln(os.Stderr, "oci-rt: "+err.Error())
	os.Exit(1)
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

func store(c *cli.Context) libcontainer.Store {
	return libcontainer.Store{Root: c.String("root")}
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

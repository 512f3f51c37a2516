package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/oci-rt/oci-rt/libcontainer/launch"
	"github.com/urfave/cli/v2"
)

var psCommand = &cli.Command{
	Name:      "ps",
	Usage:     "list the processes of a container",
	ArgsUsage: "<container-id> [ps options]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table (ps's output) or json (host pids)"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() < 1 {
			return errors.New("ps: expects a container id")
		}
		ctr, err := store(c).Load(c.Args().First())
		if err != nil {
			return err
		}
		pids, err := ctr.Pids()
		if err != nil {
			return err
		}
		switch c.String("format") {
		case "json":
			if pids == nil {
				pids = []int{}
			}
			return json.NewEncoder(os.Stdout).Encode(pids)
		case "table":
			return psTable(pids, c.Args().Tail())
		}
		return fmt.Errorf("--format %q: table or json", c.String("format"))
	},
}

// psTable runs the host's ps (with -ef or the given options) and keeps its
// header and the rows of the container's processes, as runc does.
func psTable(pids []int, args []string) error {
	if len(args) == 0 {
		args = []string{"-ef"}
	}
	var buf bytes.Buffer
	cmd := exec.Command("ps", args...)
	cmd.Stdout, cmd.Stderr = &buf, os.Stderr
	err := launch.WithCallerScheduling(cmd.Start)
	if err == nil {
		err = cmd.Wait()
	}
	if err != nil {
		return fmt.Errorf("ps %s: %w", strings.Join(args, " "), err)
	}
	out := buf.Bytes()
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	col := -1
	for i, f := range strings.Fields(lines[0]) {
		if f == "PID" {
			col = i
		}
	}
	if col < 0 {
		return errors.New("ps: no PID column in its output")
	}
	in := map[int]bool{}
	for _, p := range pids {
		in[p] = true
	}
	fmt.Println(lines[0])
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) > col {
			if p, err := strconv.Atoi(f[col]); err == nil && in[p] {
				fmt.Println(l)
			}
		}
	}
	return nil
}

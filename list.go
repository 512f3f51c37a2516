package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/oci-rt/oci-rt/libcontainer"
	"github.com/oci-rt/oci-rt/libcontainer/jsonlite"
)

var listCommand = &cli.Command{
	Name:  "list",
	Usage: "list the containers under --root",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the ids"},
	},
	Action: func(c *cli.Context) error {
		states, err := store(c).List()
		if errors.Is(err, fs.ErrNotExist) {
			if c.IsSet("root") {
				// runc 1.5: a --root given that does not exist is an error
				return fmt.Errorf("--root %q: no such file or directory", c.String("root"))
			}
			err = nil // the default root: nothing was created yet
		}
		if err != nil {
			return err
		}
		// one write at the end: tabwriter writes every cell and its padding
		// separately, a syscall each on an unbuffered stdout
		out := bufio.NewWriterSize(os.Stdout, 64<<10)
		if err := printStates(out, states, c.Bool("quiet"), c.String("format")); err != nil {
			return err
		}
		return out.Flush()
	},
}

func printStates(out io.Writer, states []*libcontainer.State, quiet bool, format string) error {
	if quiet {
		for _, s := range states {
			fmt.Fprintln(out, s.ID)
		}
		return nil
	}
	switch format {
	case "json":
		list := make([]stateOut, 0, len(states))
		for _, s := range states {
			list = append(list, toOut(s))
		}
		b, err := jsonlite.Marshal(list)
		if err != nil {
			return err
		}
		_, err = out.Write(append(b, '\n'))
		return err
	case "table":
		w := tabwriter.NewWriter(out, 12, 1, 3, ' ', 0)
		fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
		for _, s := range states {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle,
				s.Created.Format(time.RFC3339Nano), s.Owner)
		}
		return w.Flush()
	}
	return fmt.Errorf("--format %q: table or json", format)
}

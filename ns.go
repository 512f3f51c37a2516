package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/oci-rt/oci-rt/libcontainer/errmsg"
	"github.com/oci-rt/oci-rt/libcontainer/jsonlite"
	"github.com/oci-rt/oci-rt/libcontainer/nsview"
)

var nsCommand = &cli.Command{
	Name:  "ns",
	Usage: "show a container's namespaces as the kernel sees them, or name its network namespace for ip netns",
	Description: `Lists each namespace of the container's process: its inode (as /proc/<pid>/ns shows it),
its origin, the other containers under --root that are in it, the user namespace that owns it, and
the container's uid and gid maps. Origins: new (made for the container), host (the same as this
command's), joined (a path in linux.namespaces), inherited (not asked for, yet not this command's:
it runs in other namespaces than the container's creator did), unknown (the container was made by
an oci-rt that did not keep its config).

With --netns-name NAME, binds the container's network namespace at /var/run/netns/NAME, as
"ip netns attach" does, so that "ip netns exec NAME ..." runs in it; delete removes the name.`,
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
		&cli.StringFlag{Name: "netns-name", Usage: "name the container's network namespace `NAME` for ip netns (removed at delete)"},
	},
	Action: func(c *cli.Context) error {
		ctr, err := container(c)
		if err != nil {
			return err
		}
		if c.IsSet("netns-name") {
			if c.IsSet("format") {
				return errors.New("--format: not with --netns-name, which prints nothing")
			}
			name := c.String("netns-name")
			if err := ctr.NameNetns(name); err != nil {
				return fmt.Errorf("--netns-name %q: %w", errmsg.Value(name), err)
			}
			return nil
		}
		format := c.String("format")
		if format != "table" && format != "json" {
			return fmt.Errorf("--format %q: table or json", errmsg.Value(format))
		}
		rep, err := ctr.Namespaces()
		if err != nil {
			return err
		}
		out := bufio.NewWriter(os.Stdout)
		if format == "json" {
			b, err := jsonlite.MarshalIndent(rep, "", "  ")
			if err != nil {
				return err
			}
			out.Write(append(b, '\n'))
		} else {
			printNamespaces(out, rep)
		}
		return out.Flush()
	},
}

// printNamespaces writes the report as a table, then the id maps.
func printNamespaces(out io.Writer, rep *nsview.Report) {
	w := tabwriter.NewWriter(out, 8, 1, 3, ' ', 0)
	fmt.Fprint(w, "TYPE\tINODE\tORIGIN\tUSERNS\tOWNER\tSHARED WITH\tPATH\n")
	for _, n := range rep.Namespaces {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", n.Type, n.Inode, n.Origin,
			orDash(n.Userns), dashIfEmpty(n.UsernsOf), dashIfEmpty(strings.Join(n.SharedWith, ",")), dashIfEmpty(n.Path))
	}
	w.Flush()
	for _, m := range []struct {
		name string
		maps []nsview.IDMap
	}{{"uid map", rep.UIDMappings}, {"gid map", rep.GIDMappings}} {
		for _, e := range m.maps {
			fmt.Fprintf(out, "%s: %d %d %d\n", m.name, e.ContainerID, e.HostID, e.Size)
		}
	}
}

func orDash(v uint64) string {
	if v == 0 {
		return "-"
	}
	return strconv.FormatUint(v, 10)
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

package main

import (
	"fmt"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/oci-rt/oci-rt/libcontainer"
	"github.com/oci-rt/oci-rt/libcontainer/jsonlite"
)

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

func specVersion() string { return specs.Version }

var stateCommand = &cli.Command{
	Name:      "state",
	Usage:     "print a container's state as JSON",
	ArgsUsage: "<container-id>",
	Action: func(c *cli.Context) error {
		id, err := idArg(c)
		if err != nil {
			return err
		}
		s, err := store(c).State(id)
		if err != nil {
			return err
		}
		b, _ := jsonlite.MarshalIndent(toOut(s), "", "  ")
		fmt.Println(string(b))
		return nil
	},
}

package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/oci-rt/oci-rt/libcontainer/jsonlite"
)

var stateCommand = &cli.Command{
	Name:      "state",
	Usage:     "print a container's state as JSON",
	ArgsUsage: "<container-id>",
	Action: func(c *cli.Context) error {
		ctr, err := container(c)
		if err != nil {
			return err
		}
		s, err := ctr.State()
		if err != nil {
			return err
		}
		b, _ := jsonlite.MarshalIndent(toOut(s), "", "  ")
		fmt.Println(string(b))
		return nil
	},
}

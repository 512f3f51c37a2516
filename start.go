package main

import "github.com/urfave/cli/v2"

var startCommand = &cli.Command{
	Name:      "start",
	Usage:     "run the process of a created container",
	ArgsUsage: "<container-id>",
	Action: func(c *cli.Context) error {
		ctr, err := container(c)
		if err != nil {
			return err
		}
		return ctr.Start()
	},
}

package main

import (
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestReorderArgs(t *testing.T) {
	app := &cli.App{Flags: []cli.Flag{&cli.StringFlag{Name: "root"}, &cli.BoolFlag{Name: "debug"}},
		Commands: []*cli.Command{updateCommand, killCommand, deleteCommand, execCommand, psCommand}}
	for in, want := range map[string]string{
		"oci-rt update ID --memory 1M":                      "oci-rt update --memory 1M ID",
		"oci-rt --root /r --debug update ID --memory=1M":    "oci-rt --root /r --debug update --memory=1M ID",
		"oci-rt kill ID KILL --all":                         "oci-rt kill --all ID KILL",
		"oci-rt kill -a ID -- -9":                           "oci-rt kill -a -- ID -9",
		"oci-rt delete ID -f":                               "oci-rt delete -f ID",
		"oci-rt exec ID --env X=1 -t sh -c --env":           "oci-rt exec --env X=1 -t ID sh -c --env",
		"oci-rt exec -d ID -- --weird --env":                "oci-rt exec -d ID --weird --env",
		"oci-rt exec --user 1 ID -e A=b --cwd /tmp ls -l /": "oci-rt exec --user 1 -e A=b --cwd /tmp ID ls -l /",
		"oci-rt ps ID -o pid --format json":                 "oci-rt ps ID -o pid --format json",
		"oci-rt nosuch ID --x":                              "oci-rt nosuch ID --x",
		"oci-rt --root /r":                                  "oci-rt --root /r",
	} {
		if got := strings.Join(reorderArgs(app, strings.Fields(in)), " "); got != want {
			t.Errorf("%s\n got %s\nwant %s", in, got, want)
		}
	}
}

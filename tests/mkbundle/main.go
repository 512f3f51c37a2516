// Command mkbundle builds an OCI bundle for testing oci-rt from Debian's
// statically linked busybox (package busybox-static).
//
// Usage:
//
//	go run ./tests/mkbundle -o DIR [-args 'sh,-c,echo hi'] [-rootless]
//
// DIR/rootfs receives a busybox root filesystem and DIR/config.json the
// default spec (see libcontainer/specdefault) with process.terminal false,
// process.args taken from -args (comma separated) and, with -rootless, the
// rootless conversion applied.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/oci-rt/oci-rt/libcontainer/specdefault"
	"github.com/oci-rt/oci-rt/tests/bundle"
)

func main() {
	out := flag.String("o", "", "bundle directory to create (required)")
	args := flag.String("args", "", "comma separated process args (default: the spec's [\"sh\"])")
	rootless := flag.Bool("rootless", false, "convert the config for rootless containers")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: mkbundle -o DIR [-args 'sh,-c,echo hi'] [-rootless]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}

	var argv []string
	if *args != "" {
		argv = strings.Split(*args, ",")
	}
	if err := run(*out, argv, *rootless); err != nil {
		if errors.Is(err, bundle.ErrNoBusybox) {
			fmt.Fprintf(os.Stderr, "mkbundle: %s is missing or not static: run `apt-get install -y busybox-static`\n", bundle.BusyboxPath)
		} else {
			fmt.Fprintf(os.Stderr, "mkbundle: %v\n", err)
		}
		os.Exit(1)
	}
}

func run(dir string, args []string, rootless bool) error {
	if err := bundle.CheckBusybox(); err != nil {
		return err
	}
	s, err := bundle.Build(dir, args)
	if err != nil {
		return err
	}
	if rootless {
		specdefault.ToRootless(s)
		if err := bundle.WriteConfig(dir, s); err != nil {
			return err
		}
	}
	return nil
}

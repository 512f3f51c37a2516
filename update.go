package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
)

var updateCommand = &cli.Command{
	Name:      "update",
	Usage:     "change a running container's resource limits",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "resources", Aliases: []string{"r"}, Usage: "linux.resources JSON from a file, or - for stdin"},
		&cli.StringFlag{Name: "memory", Usage: "memory limit (bytes, or with k/m/g suffix; -1 unlimited)"},
		&cli.StringFlag{Name: "memory-reservation", Usage: "memory soft limit"},
		&cli.StringFlag{Name: "memory-swap", Usage: "memory plus swap limit"},
		&cli.StringFlag{Name: "cpu-shares", Usage: "CPU shares (relative weight)"},
		&cli.StringFlag{Name: "cpu-quota", Usage: "CPU CFS quota in microseconds"},
		&cli.StringFlag{Name: "cpu-period", Usage: "CPU CFS period in microseconds"},
		&cli.StringFlag{Name: "cpu-rt-runtime", Usage: "CPU realtime runtime in microseconds"},
		&cli.StringFlag{Name: "cpu-rt-period", Usage: "CPU realtime period in microseconds"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs to use (e.g. 0-1)"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes to use"},
		&cli.StringFlag{Name: "blkio-weight", Usage: "block IO weight (10-1000)"},
		&cli.StringFlag{Name: "pids-limit", Usage: "maximum number of processes (-1 unlimited)"},
	},
	Action: func(c *cli.Context) error {
		ctr, err := container(c)
		if err != nil {
			return err
		}
		return ctr.Update(func(r *specs.LinuxResources) error { return applyUpdate(c, r) })
	},
}

// applyUpdate merges --resources and the flags into the saved resources.
func applyUpdate(c *cli.Context, r *specs.LinuxResources) error {
	if path := c.String("resources"); path != "" {
		var in io.Reader = os.Stdin
		if path != "-" {
			f, err := os.Open(path)
			if err != nil {
				return fmt.Errorf("--resources: %w", err)
			}
			defer f.Close()
			in = f
		}
		if err := json.NewDecoder(in).Decode(r); err != nil {
			return fmt.Errorf("--resources %q: malformed: %w", path, err)
		}
	}
	if r.Memory == nil {
		r.Memory = &specs.LinuxMemory{}
	}
	if r.CPU == nil {
		r.CPU = &specs.LinuxCPU{}
	}
	sets := []struct {
		flag string
		set  func(string) error
	}{
		{"memory", bytesInto(&r.Memory.Limit)},
		{"memory-reservation", bytesInto(&r.Memory.Reservation)},
		{"memory-swap", bytesInto(&r.Memory.Swap)},
		{"cpu-shares", uintInto(&r.CPU.Shares)},
		{"cpu-quota", func(v string) error { n, err := strconv.ParseInt(v, 10, 64); r.CPU.Quota = &n; return err }},
		{"cpu-period", uintInto(&r.CPU.Period)},
		{"cpu-rt-runtime", func(v string) error { n, err := strconv.ParseInt(v, 10, 64); r.CPU.RealtimeRuntime = &n; return err }},
		{"cpu-rt-period", uintInto(&r.CPU.RealtimePeriod)},
		{"cpuset-cpus", func(v string) error { r.CPU.Cpus = v; return nil }},
		{"cpuset-mems", func(v string) error { r.CPU.Mems = v; return nil }},
		{"blkio-weight", func(v string) error {
			n, err := strconv.ParseUint(v, 10, 16)
			w := uint16(n)
			if r.BlockIO == nil {
				r.BlockIO = &specs.LinuxBlockIO{}
			}
			r.BlockIO.Weight = &w
			return err
		}},
		{"pids-limit", func(v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			r.Pids = &specs.LinuxPids{Limit: &n}
			return err
		}},
	}
	for _, s := range sets {
		if c.IsSet(s.flag) {
			if err := s.set(c.String(s.flag)); err != nil {
				return fmt.Errorf("--%s %q: %w", s.flag, c.String(s.flag), err)
			}
		}
	}
	return nil
}

func uintInto(p **uint64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseUint(v, 10, 64)
		*p = &n
		return err
	}
}

func bytesInto(p **int64) func(string) error {
	return func(v string) error {
		n, err := parseBytes(v)
		*p = &n
		return err
	}
}

// parseBytes takes 1024, 512k, 100m, 1g (powers of 1024) or -1.
func parseBytes(v string) (int64, error) {
	mult := int64(1)
	s := strings.ToLower(strings.TrimSuffix(strings.ToLower(v), "b"))
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k':
			mult, s = 1<<10, s[:n-1]
		case 'm':
			mult, s = 1<<20, s[:n-1]
		case 'g':
			mult, s = 1<<30, s[:n-1]
		case 't':
			mult, s = 1<<40, s[:n-1]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not a size")
	}
	if n == -1 {
		return -1, nil
	}
	return n * mult, nil
}

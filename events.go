package main

import (
	"encoding/json"
	"errors"
	"os"
	"time"

	cg "github.com/opencontainers/cgroups"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/oci-rt/oci-rt/libcontainer/state"
)

var eventsCommand = &cli.Command{
	Name:      "events",
	Usage:     "print a container's resource statistics, and its OOM kills, as JSON events (until it is deleted)",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "stats", Usage: "print the statistics once and exit"},
		&cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "time between statistics events"},
	},
	Action: func(c *cli.Context) error {
		ctr, err := container(c)
		if err != nil {
			return err
		}
		id := ctr.ID()
		if c.Duration("interval") <= 0 {
			return errors.New("--interval: must be positive")
		}
		enc := json.NewEncoder(os.Stdout)
		stats := func() error {
			s, err := ctr.Stats()
			if err != nil {
				return err
			}
			return enc.Encode(event{Type: "stats", ID: id, Data: convertStats(s)})
		}
		if c.Bool("stats") {
			return stats()
		}
		oom, err := ctr.WatchOOM()
		if err != nil {
			return err
		}
		if err := stats(); err != nil {
			return err
		}
		tick := time.NewTicker(c.Duration("interval"))
		defer tick.Stop()
		for {
			select {
			case _, ok := <-oom:
				if !ok {
					return nil // the cgroup is gone: the container was deleted
				}
				if err := enc.Encode(event{Type: "oom", ID: id}); err != nil {
					return err
				}
			case <-tick.C:
				err := stats()
				if errors.Is(err, state.ErrNotExist) {
					return nil
				}
				if err != nil {
					// as runc: a failed read is logged, the events go on
					logrus.Error(err)
				}
			}
		}
	},
}

// The event shapes are runc's (its types package), which tools parse.
type event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data *stats `json:"data,omitempty"`
}

type stats struct {
	CPU     cpu                `json:"cpu"`
	Memory  memory             `json:"memory"`
	Pids    pids               `json:"pids"`
	Blkio   blkio              `json:"blkio"`
	Hugetlb map[string]hugetlb `json:"hugetlb"`
}

type cpu struct {
	Usage      cpuUsage   `json:"usage,omitempty"`
	Throttling throttling `json:"throttling,omitempty"`
}

type cpuUsage struct {
	Kernel uint64   `json:"kernel"`
	User   uint64   `json:"user"`
	Total  uint64   `json:"total,omitempty"`
	Percpu []uint64 `json:"percpu,omitempty"`
}

type throttling struct {
	Periods          uint64 `json:"periods,omitempty"`
	ThrottledPeriods uint64 `json:"throttledPeriods,omitempty"`
	ThrottledTime    uint64 `json:"throttledTime,omitempty"`
}

type memoryEntry struct {
	Limit   uint64 `json:"limit"`
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

type memory struct {
	Cache     uint64            `json:"cache,omitempty"`
	Usage     memoryEntry       `json:"usage,omitempty"`
	Swap      memoryEntry       `json:"swap,omitempty"`
	Kernel    memoryEntry       `json:"kernel,omitempty"`
	KernelTCP memoryEntry       `json:"kernelTCP,omitempty"`
	Raw       map[string]uint64 `json:"raw,omitempty"`
}

type pids struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

type blkioEntry struct {
	Major uint64 `json:"major,omitempty"`
	Minor uint64 `json:"minor,omitempty"`
	Op    string `json:"op,omitempty"`
	Value uint64 `json:"value,omitempty"`
}

type blkio struct {
	IoServiceBytesRecursive []blkioEntry `json:"ioServiceBytesRecursive,omitempty"`
	IoServicedRecursive     []blkioEntry `json:"ioServicedRecursive,omitempty"`
}

type hugetlb struct {
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

func convertStats(s *cg.Stats) *stats {
	m := s.MemoryStats
	entry := func(d cg.MemoryData) memoryEntry {
		return memoryEntry{Limit: d.Limit, Usage: d.Usage, Max: d.MaxUsage, Failcnt: d.Failcnt}
	}
	out := &stats{
		CPU: cpu{
			Usage: cpuUsage{Kernel: s.CpuStats.CpuUsage.UsageInKernelmode, User: s.CpuStats.CpuUsage.UsageInUsermode,
				Total: s.CpuStats.CpuUsage.TotalUsage, Percpu: s.CpuStats.CpuUsage.PercpuUsage},
			Throttling: throttling{Periods: s.CpuStats.ThrottlingData.Periods,
				ThrottledPeriods: s.CpuStats.ThrottlingData.ThrottledPeriods, ThrottledTime: s.CpuStats.ThrottlingData.ThrottledTime},
		},
		Memory: memory{Cache: m.Cache, Usage: entry(m.Usage), Swap: entry(m.SwapUsage), Kernel: entry(m.KernelUsage),
			KernelTCP: entry(m.KernelTCPUsage), Raw: m.Stats},
		Pids:    pids{Current: s.PidsStats.Current, Limit: s.PidsStats.Limit},
		Hugetlb: map[string]hugetlb{},
	}
	for _, e := range s.BlkioStats.IoServiceBytesRecursive {
		out.Blkio.IoServiceBytesRecursive = append(out.Blkio.IoServiceBytesRecursive, blkioEntry{e.Major, e.Minor, e.Op, e.Value})
	}
	for _, e := range s.BlkioStats.IoServicedRecursive {
		out.Blkio.IoServicedRecursive = append(out.Blkio.IoServicedRecursive, blkioEntry{e.Major, e.Minor, e.Op, e.Value})
	}
	for k, h := range s.HugetlbStats {
		out.Hugetlb[k] = hugetlb{Usage: h.Usage, Max: h.MaxUsage, Failcnt: h.Failcnt}
	}
	return out
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Stats summarises the samples of one runtime for one metric.
type Stats struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	P90    float64 `json:"p90"`
	Mean   float64 `json:"mean"`
	// Ratio is this runtime's median over the reference runtime's median
	// (runtime/oci-rt); absent for the reference or without samples.
	Ratio *float64 `json:"ratio,omitempty"`
}

// Cell is one runtime's samples for one metric.
type Cell struct {
	Runtime  string    `json:"runtime"`
	Stats    Stats     `json:"stats"`
	Failures int       `json:"failures"`
	Samples  []float64 `json:"samples"`
}

// Metric is one measured quantity of a scenario.
type Metric struct {
	Name          string  `json:"name"`
	Label         string  `json:"label"`
	Unit          string  `json:"unit"`
	LowerIsBetter bool    `json:"lower_is_better"`
	Chart         bool    `json:"chart"`
	Cells         []*Cell `json:"runtimes"`
	mu            sync.Mutex
}

// Scenario is the result of one scenario.
type Scenario struct {
	Name        string              `json:"name"`
	Title       string              `json:"title"`
	Description string              `json:"description"`
	Seconds     float64             `json:"seconds"`
	Metrics     []*Metric           `json:"metrics"`
	Failures    map[string]int      `json:"failures"`
	Errors      map[string][]string `json:"errors,omitempty"`
	Info        map[string]any      `json:"info,omitempty"`
	Leftovers   []string            `json:"leftovers,omitempty"`
	rts         []*Runtime
	mu          sync.Mutex
}

func newScenario(b *bench, name, title, desc string) *Scenario {
	sc := &Scenario{Name: name, Title: title, Description: desc, Failures: map[string]int{}, Errors: map[string][]string{}, Info: map[string]any{}, rts: b.rts}
	for _, r := range b.rts {
		sc.Failures[r.Label] = 0
	}
	fmt.Printf("\n... %s\n", title)
	return sc
}

// metric adds a metric; chart says whether its medians go on the chart.
func (sc *Scenario) metric(name, label, unit string, lowerIsBetter, chart bool) *Metric {
	m := &Metric{Name: name, Label: label, Unit: unit, LowerIsBetter: lowerIsBetter, Chart: chart}
	for _, r := range sc.rts {
		m.Cells = append(m.Cells, &Cell{Runtime: r.Label, Samples: []float64{}})
	}
	sc.Metrics = append(sc.Metrics, m)
	return m
}

func (m *Metric) cell(r *Runtime) *Cell {
	for _, c := range m.Cells {
		if c.Runtime == r.Label {
			return c
		}
	}
	panic("no cell for " + r.Label)
}

// add records a sample.
func (m *Metric) add(r *Runtime, v float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.cell(r)
	c.Samples = append(c.Samples, v)
}

// addDur records a duration in milliseconds.
func (m *Metric) addDur(r *Runtime, d time.Duration) { m.add(r, float64(d)/float64(time.Millisecond)) }

// failMetric counts a failed sample of this metric (and of the scenario).
func (sc *Scenario) fail(r *Runtime, m *Metric, format string, args ...any) {
	if m != nil {
		m.mu.Lock()
		m.cell(r).Failures++
		m.mu.Unlock()
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.Failures[r.Label]++
	if len(sc.Errors[r.Label]) < 5 {
		sc.Errors[r.Label] = append(sc.Errors[r.Label], fmt.Sprintf(format, args...))
	}
}

// finish computes the stats and ratios of every metric.
func (sc *Scenario) finish() {
	for _, m := range sc.Metrics {
		for _, c := range m.Cells {
			c.Stats = summarize(c.Samples)
		}
		ref := m.Cells[0]
		for _, c := range m.Cells[1:] {
			// A ratio to a median of (nearly) nothing says nothing.
			if ref.Stats.N > 0 && c.Stats.N > 0 && ref.Stats.Median != 0 && !(m.Unit == "ms" && ref.Stats.Median < 0.1) {
				r := c.Stats.Median / ref.Stats.Median
				c.Stats.Ratio = &r
			}
		}
	}
}

func summarize(v []float64) Stats {
	if len(v) == 0 {
		return Stats{}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	sum := 0.0
	for _, x := range s {
		sum += x
	}
	return Stats{N: len(s), Median: quantile(s, 0.5), Min: s[0], Max: s[len(s)-1], P90: quantile(s, 0.9), Mean: sum / float64(len(s))}
}

// quantile of sorted s, linear interpolation between closest ranks.
func quantile(s []float64, q float64) float64 {
	if len(s) == 1 {
		return s[0]
	}
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

// Machine describes where the bench ran.
type Machine struct {
	Nproc       int      `json:"nproc"`
	Kernel      string   `json:"kernel"`
	CPUModel    string   `json:"cpu_model"`
	MemTotalKiB int64    `json:"mem_total_kib"`
	LoadStart   string   `json:"loadavg_start"`
	LoadEnd     string   `json:"loadavg_end"`
	Conditions  string   `json:"conditions"`
	Cgroups     string   `json:"cgroups"`
	Notes       []string `json:"notes"`
}

// Report is results/<name>.json.
type Report struct {
	Started   time.Time   `json:"started"`
	Seconds   float64     `json:"seconds"`
	Smoke     bool        `json:"smoke"`
	Scale     float64     `json:"scale"`
	Counts    counts      `json:"counts"`
	Machine   Machine     `json:"machine"`
	Runtimes  []*Runtime  `json:"runtimes"`
	Reference string      `json:"reference"`
	Scenarios []*Scenario `json:"scenarios"`
	Notes     []string    `json:"notes"`
}

func newReport(b *bench, conditions string) *Report {
	m := machineInfo()
	m.Conditions = conditions
	m.Notes = []string{
		"one interleaved run: iteration i runs the runtimes in the order rotated by i",
		"the bench process is a child subreaper and reaps what the runtimes leave",
		"other work may run on the same machine at the same time: look at the load averages",
	}
	return &Report{Started: b.started, Smoke: b.o.smoke, Scale: b.o.scale, Counts: b.c, Machine: m, Runtimes: b.rts, Reference: b.rts[0].Label}
}

func (rep *Report) finish(b *bench) {
	rep.Seconds = time.Since(b.started).Seconds()
	rep.Machine.LoadEnd = loadavg()
	for _, sc := range rep.Scenarios {
		sc.finish()
	}
	b.mu.Lock()
	rep.Notes = append([]string{}, b.notes...)
	b.mu.Unlock()
}

func (rep *Report) referenceFailures() int {
	n := 0
	for _, sc := range rep.Scenarios {
		n += sc.Failures[rep.Reference]
	}
	return n
}

func (rep *Report) write(dir, name string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	return writeChart(rep, filepath.Join(dir, name+".png"))
}

func machineInfo() Machine {
	var m Machine
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			k, v, ok := strings.Cut(l, ":")
			if !ok {
				continue
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if k == "processor" {
				m.Nproc++
			}
			if k == "model name" && m.CPUModel == "" {
				m.CPUModel = v
			}
		}
	}
	if n := onlineCPUs(); n > 0 {
		m.Nproc = n
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				fmt.Sscanf(strings.TrimPrefix(l, "MemTotal:"), "%d", &m.MemTotalKiB)
			}
		}
	}
	m.LoadStart = loadavg()
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		m.Cgroups = "v2"
	} else {
		m.Cgroups = "v1"
	}
	return m
}

// onlineCPUs is what nproc prints: the CPUs this process may run on.
func onlineCPUs() int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
			n := 0
			for _, part := range strings.Split(strings.TrimSpace(v), ",") {
				var a, b int
				if c, _ := fmt.Sscanf(part, "%d-%d", &a, &b); c == 2 {
					n += b - a + 1
				} else if c, _ := fmt.Sscanf(part, "%d", &a); c == 1 {
					n++
				}
			}
			return n
		}
	}
	return 0
}

func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func (b *bench) printHeader() {
	m := b.rep.Machine
	fmt.Printf("# oci-rt bench%s: %d CPUs (%s), %.1f GiB, kernel %s, cgroup %s; %s\n",
		map[bool]string{true: " (smoke)", false: ""}[b.o.smoke], m.Nproc, m.CPUModel, float64(m.MemTotalKiB)/(1<<20), m.Kernel, m.Cgroups, m.Conditions)
	fmt.Printf("# load average at start: %s (other work on this machine adds noise)\n", m.LoadStart)
	for _, r := range b.rts {
		from := ""
		if r.RanFrom != "" {
			from = ", run from a copy"
		}
		fmt.Printf("# %-7s %s (sha256 %.12s%s): %s\n", r.Label, r.Path, r.SHA256, from, r.Version)
	}
	fmt.Printf("# ratio = runtime median / %s median; work dir %s\n", b.rts[0].Label, b.work)
}

// fmtVal formats a value of a unit compactly.
func fmtVal(v float64, unit string) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case unit == "ms" && v < 10:
		return fmt.Sprintf("%.2f", v)
	case unit == "ms" && v < 100:
		return fmt.Sprintf("%.1f", v)
	case unit == "MiB":
		return fmt.Sprintf("%.2f", v)
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func printScenario(w io.Writer, sc *Scenario, rts []*Runtime) {
	sc.finish()
	fmt.Fprintf(w, "\n== %s (%.0f s)\n", sc.Title, sc.Seconds)
	if sc.Description != "" {
		fmt.Fprintf(w, "   %s\n", sc.Description)
	}
	names := map[*Metric]string{}
	width := len("metric")
	for _, m := range sc.Metrics {
		name := m.Label + " [" + m.Unit + "]"
		if !m.LowerIsBetter {
			name += " (higher=better)"
		}
		names[m] = name
		width = max(width, len(name))
	}
	fmt.Fprintf(w, "%-*s %-7s %5s %9s %9s %9s %9s %7s %5s\n", width, "metric", "runtime", "n", "median", "min", "max", "p90", "ratio", "fail")
	for _, m := range sc.Metrics {
		name := names[m]
		for i, c := range m.Cells {
			ratio := "1"
			if i > 0 {
				ratio = "-"
				if c.Stats.Ratio != nil {
					ratio = fmt.Sprintf("%.2f", *c.Stats.Ratio)
				}
			} else if c.Stats.N == 0 {
				ratio = "-"
			}
			label := name
			if i > 0 {
				label = ""
			}
			st := c.Stats
			if st.N == 0 {
				st = Stats{Median: math.NaN(), Min: math.NaN(), Max: math.NaN(), P90: math.NaN()}
			}
			fmt.Fprintf(w, "%-*s %-7s %5d %9s %9s %9s %9s %7s %5d\n", width, label, c.Runtime, c.Stats.N,
				fmtVal(st.Median, m.Unit), fmtVal(st.Min, m.Unit), fmtVal(st.Max, m.Unit), fmtVal(st.P90, m.Unit), ratio, c.Failures)
		}
	}
	for _, r := range rts {
		if sc.Failures[r.Label] > 0 {
			fmt.Fprintf(w, "   %s: %d failure(s): %s\n", r.Label, sc.Failures[r.Label], strings.Join(sc.Errors[r.Label], " | "))
		}
	}
	keys := make([]string, 0, len(sc.Info))
	for k := range sc.Info {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "   %s: %v\n", k, sc.Info[k])
	}
	for _, l := range sc.Leftovers {
		fmt.Fprintf(w, "   LEFTOVER %s\n", l)
	}
}

func printNotes(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "\n# load average at end: %s\n", rep.Machine.LoadEnd)
	if len(rep.Notes) == 0 {
		return
	}
	fmt.Fprintln(w, "# notes:")
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "#  - %s\n", n)
	}
}

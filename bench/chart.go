package main

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The chart: one group of bars per charted metric, one bar per runtime. A
// bar is the runtime's median relative to the reference runtime's (log
// scale), so latencies, memory and rates fit on one axis; for
// higher-is-better metrics (rates) the bar is inverted (reference/runtime,
// i.e. time per container), so that below 1 means better than the
// reference everywhere. Each bar is labelled with its absolute median.

var runtimeColors = []color.RGBA{
	{R: 0x1f, G: 0x5f, B: 0xbf, A: 0xff}, // reference: blue
	{R: 0xe6, G: 0x7e, B: 0x22, A: 0xff}, // orange
	{R: 0x2e, G: 0x9e, B: 0x4f, A: 0xff}, // green
	{R: 0x8e, G: 0x44, B: 0xad, A: 0xff}, // purple
	{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}, // grey
}

type barGroup struct {
	label  string
	unit   string
	values []float64 // relative heights; NaN when missing
	abs    []float64 // absolute medians; NaN when missing
}

type groupedBars struct {
	groups []barGroup
	colors []color.Color
	base   float64 // bottom of the bars (the Y axis minimum)
	label  text.Style
}

func (g *groupedBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	if len(g.groups) == 0 {
		return
	}
	k := len(g.colors)
	width := 0.8 / float64(k)
	for gi, grp := range g.groups {
		for ri := 0; ri < k; ri++ {
			x0 := float64(gi) - 0.4 + float64(ri)*width
			x1 := x0 + width*0.92
			xm := (x0 + x1) / 2
			v := grp.values[ri]
			if math.IsNaN(v) {
				sty := g.label
				sty.Color = color.Gray{Y: 0x80}
				c.FillText(sty, vg.Point{X: trX(xm), Y: trY(g.base) + vg.Points(3)}, "n/a")
				continue
			}
			pts := []vg.Point{
				{X: trX(x0), Y: trY(g.base)}, {X: trX(x1), Y: trY(g.base)},
				{X: trX(x1), Y: trY(v)}, {X: trX(x0), Y: trY(v)},
			}
			c.FillPolygon(g.colors[ri], c.ClipPolygonXY(pts))
			// The label, on a white ground so grid and parity line do
			// not cross it.
			txt := fmtChart(grp.abs[ri], grp.unit)
			w, h := g.label.Width(txt), g.label.Font.Size
			x, y := trX(xm), trY(v)+vg.Points(3)
			c.FillPolygon(color.White, []vg.Point{
				{X: x - h*0.55, Y: y - vg.Points(1)}, {X: x + h*0.55, Y: y - vg.Points(1)},
				{X: x + h*0.55, Y: y + w + vg.Points(1)}, {X: x - h*0.55, Y: y + w + vg.Points(1)},
			})
			c.FillText(g.label, vg.Point{X: x, Y: y}, txt)
		}
	}
}

func (g *groupedBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	return -0.5, float64(len(g.groups)) - 0.5, g.base, g.base
}

// fmtChart formats an absolute median for a bar label.
func fmtChart(v float64, unit string) string {
	switch unit {
	case "ms":
		return fmtVal(v, unit) + " ms"
	case "MiB":
		if v < 1 {
			return fmt.Sprintf("%.0f KiB", v*1024)
		}
		return fmt.Sprintf("%.1f MiB", v)
	case "containers/s":
		return fmtVal(v, unit) + "/s"
	}
	return fmtVal(v, unit) + " " + unit
}

type swatch struct{ c color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.c, []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}})
}

// chartGroupLabel is the X tick label of a metric: short, on two lines.
func chartGroupLabel(sc *Scenario, m *Metric) string {
	switch m.Name {
	case "run":
		return "run\n/bin/true"
	case "run-cpu":
		return "CPU time\nper run"
	case "run-userns":
		return "run /bin/true\nuser ns"
	case "create", "start", "delete":
		return m.Name + "\n(cycle)"
	case "cycle":
		return "create+start\n+exit+delete"
	case "pss":
		return "PSS per\ncreated ctr"
	case "burst-up-rate":
		return "burst up\n(1/rate)"
	case "burst-down-rate":
		return "burst down\n(1/rate)"
	}
	if rest, ok := strings.CutPrefix(m.Name, "list-"); ok {
		return "list\n(" + rest + " ctrs)"
	}
	if rest, ok := strings.CutPrefix(m.Name, "state-"); ok {
		if rest == "1" {
			return "state\n(1 ctr)"
		}
		return "state\n(" + rest + " ctrs)"
	}
	return m.Label
}

func writeChart(rep *Report, path string) error {
	var groups []barGroup
	minV, maxV := 1.0, 1.0
	nrt := len(rep.Runtimes)
	for _, sc := range rep.Scenarios {
		for _, m := range sc.Metrics {
			if !m.Chart {
				continue
			}
			g := barGroup{label: chartGroupLabel(sc, m), unit: m.Unit}
			ref := m.Cells[0].Stats
			for _, c := range m.Cells {
				abs, rel := math.NaN(), math.NaN()
				if c.Stats.N > 0 {
					abs = c.Stats.Median
					if ref.N > 0 && ref.Median > 0 && c.Stats.Median > 0 {
						rel = c.Stats.Median / ref.Median
						if !m.LowerIsBetter {
							rel = 1 / rel
						}
						minV, maxV = math.Min(minV, rel), math.Max(maxV, rel)
					}
				}
				g.values = append(g.values, rel)
				g.abs = append(g.abs, abs)
			}
			groups = append(groups, g)
		}
	}

	p := plot.New()
	names := make([]string, nrt)
	for i, r := range rep.Runtimes {
		names[i] = r.Label
	}
	p.Title.Text = fmt.Sprintf("%s: median per operation relative to %s (log scale, lower is better)", strings.Join(names, " vs "), rep.Reference)
	p.Title.TextStyle.Font.Size = vg.Points(17)
	p.Title.Padding = vg.Points(8)

	// Y: powers of two around 1.
	lo := math.Pow(2, math.Floor(math.Log2(minV/1.15)))
	if lo > 0.5 {
		lo = 0.5
	}
	hi := math.Pow(2, math.Ceil(math.Log2(maxV*1.35)))
	if hi < 2 {
		hi = 2
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Min, p.Y.Max = lo, hi
	p.Y.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
		var ts []plot.Tick
		for v := lo; v <= hi*1.0001; v *= 2 {
			ts = append(ts, plot.Tick{Value: v, Label: "×" + strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")})
		}
		return ts
	})
	p.Y.Label.Text = "median / " + rep.Reference + " median"
	p.Y.Label.TextStyle.Font.Size = vg.Points(13)
	p.Y.Tick.Label.Font.Size = vg.Points(12)
	p.Add(plotter.NewGrid())
	p.X.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
		var ts []plot.Tick
		for i, g := range groups {
			ts = append(ts, plot.Tick{Value: float64(i), Label: g.label})
		}
		return ts
	})
	p.X.Tick.Label.Font.Size = vg.Points(11.5)
	p.X.Tick.Length = 0
	p.X.Label.Text = chartCaption(rep)
	p.X.Label.TextStyle.Font.Size = vg.Points(11)
	p.X.Label.Padding = vg.Points(10)

	colors := make([]color.Color, nrt)
	for i := range colors {
		colors[i] = runtimeColors[i%len(runtimeColors)]
	}
	bars := &groupedBars{groups: groups, colors: colors, base: lo, label: text.Style{
		Color:    color.Black,
		Font:     font.From(plot.DefaultFont, vg.Points(10)),
		Rotation: math.Pi / 2,
		XAlign:   text.XLeft,
		YAlign:   -0.3, // centres the rotated label on the bar
		Handler:  plot.DefaultTextHandler,
	}}
	one, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: 1}, {X: float64(len(groups)) - 0.5, Y: 1}})
	if err != nil {
		return err
	}
	one.LineStyle.Width = vg.Points(1.2)
	one.LineStyle.Color = color.Black
	one.LineStyle.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	p.Add(one, bars)
	p.X.Min, p.X.Max = -0.5, float64(len(groups))-0.5
	p.Y.Min, p.Y.Max = lo, hi

	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.TextStyle.Font.Size = vg.Points(12)
	p.Legend.ThumbnailWidth = vg.Points(18)
	p.Legend.Padding = vg.Points(3)
	p.Legend.XOffs = vg.Points(8)
	p.Legend.YOffs = -vg.Points(4)
	for i, r := range rep.Runtimes {
		p.Legend.Add(fmt.Sprintf("%s %s", r.Label, shortVersion(r.Version)), swatch{colors[i]})
	}
	return p.Save(18*vg.Inch, 9*vg.Inch, path)
}

// shortVersion keeps the version number of a `--version` line, and the
// commit when it is a hash.
func shortVersion(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.Index(v, "version "); i >= 0 {
		v = v[i+len("version "):]
	}
	commit := ""
	if c := strings.Index(v, "commit: "); c >= 0 {
		commit = strings.TrimSuffix(v[c+len("commit: "):], ")")
	}
	if i := strings.Index(v, " "); i >= 0 {
		v = v[:i]
	}
	if len(commit) >= 7 && strings.Trim(commit, "0123456789abcdef") == "" {
		if len(commit) > 10 {
			commit = commit[:10]
		}
		v += " (" + commit + ")"
	}
	return v
}

func chartCaption(rep *Report) string {
	m := rep.Machine
	mode := ""
	if rep.Smoke {
		mode = "SMOKE RUN (tiny counts, not a measurement) — "
	}
	c := rep.Counts
	l1 := fmt.Sprintf("%s%s · %d CPUs %s · %.0f GiB RAM · kernel %s · cgroup %s, %s",
		mode, rep.Started.UTC().Format("2006-01-02 15:04 UTC"), m.Nproc, m.CPUModel, float64(m.MemTotalKiB)/(1<<20), m.Kernel, m.Cgroups, m.Conditions)
	var vs []string
	for _, r := range rep.Runtimes {
		vs = append(vs, r.Label+" "+shortVersion(r.Version))
	}
	l2 := fmt.Sprintf("%s · interleaved, rotated order · N: run %d, cycle %d, memory %d ctrs, burst %d ctrs ×%d rounds (par. %d), list/state %d iters with %d ctrs, userns %d",
		strings.Join(vs, " · "), c.Run, c.Cycle, c.Memory, c.Burst, c.BurstRound, c.BurstPar, c.ListIter, c.ListMany, c.Userns)
	l3 := fmt.Sprintf("Bars: median ÷ %s median; burst rates inverted (time per container) so lower is better everywhere; labels: absolute medians. Load average %s at start, %s at end (shared machine: other work adds noise).",
		rep.Reference, m.LoadStart, m.LoadEnd)
	return l1 + "\n" + l2 + "\n" + l3
}

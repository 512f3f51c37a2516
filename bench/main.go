// Command bench compares the start-up cost of oci-rt with runc and crun side
// by side (make bench, make bench-smoke).
//
// All runtimes are measured in one run, interleaved: iteration i runs the
// runtimes in the order rotated by i (A B C, B C A, C A B, ...), so machine
// noise hits every runtime alike. Everything happens inside a private mount
// namespace in which the hybrid cgroup2 mount /sys/fs/cgroup/unified is
// unmounted (crun refuses hybrid hosts), so all runtimes see the same cgroup
// v1 host. The bench process is a child subreaper, like a container shim:
// container processes that their runtime leaves behind are re-parented to it
// and reaped by it.
//
// Scenarios:
//
//	run     `run` of /bin/true until it exits, sequential
//	cycle   create, start, start until the payload exited, delete, and the whole cycle
//	memory  PSS of the processes left per created (not started) container
//	burst   containers created+started with parallelism 8, then killed and deleted
//	listing `list` and `state` with 0 and 200 containers
//	userns  `run` of /bin/true in a user namespace (0 -> 100000, 65536 ids)
//
// Results: tables on stdout, results/<name>.json and results/<name>.png.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// nsEnv marks the re-executed bench that runs in the private mount namespace.
const nsEnv = "OCIRT_BENCH_IN_MNTNS"

// unifiedPath is the cgroup2 mount of a hybrid cgroup host.
const unifiedPath = "/sys/fs/cgroup/unified"

type options struct {
	ociRT     string
	runtimes  string
	scenarios string
	scale     float64
	smoke     bool
	outDir    string
	name      string
	workDir   string
	keepWork  bool
	noUnshare bool
	parallel  int
}

func main() {
	var o options
	flag.StringVar(&o.ociRT, "oci-rt", "../oci-rt", "path of the oci-rt binary")
	flag.StringVar(&o.runtimes, "runtimes", "oci-rt,runc,crun", "comma-separated runtimes to compare: oci-rt, names in $PATH, or label=path; the first one present is the reference of the ratios when oci-rt is absent")
	flag.StringVar(&o.scenarios, "scenarios", "all", "comma-separated scenarios (names or numbers): run,cycle,memory,burst,listing,userns or 1-6, or all")
	flag.Float64Var(&o.scale, "n", 1, "scale every iteration count and container count by this factor (e.g. 0.2 for a quick run)")
	flag.BoolVar(&o.smoke, "smoke", false, "smoke mode: every scenario with tiny counts and 3 containers; proves the bench works, asserts no timing")
	flag.StringVar(&o.outDir, "out", "results", "directory for the JSON and PNG results")
	flag.StringVar(&o.name, "name", "", "base name of the result files (default latest, or smoke with -smoke)")
	flag.StringVar(&o.workDir, "work", "", "directory for bundles and runtime roots (default: a new directory under /run or $TMPDIR)")
	flag.BoolVar(&o.keepWork, "keep-work", false, "keep the work directory (bundles, roots) at the end")
	flag.BoolVar(&o.noUnshare, "no-unshare", false, "run in the current mount namespace and leave "+unifiedPath+" alone")
	flag.IntVar(&o.parallel, "parallel", 8, "parallelism of the burst scenario")
	replot := flag.String("replot", "", "only draw the chart again from this results JSON (written beside it as .png)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "bench: unexpected arguments:", flag.Args())
		os.Exit(2)
	}
	if *replot != "" {
		if err := replotFrom(*replot); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: must run as root: it creates real containers")
		os.Exit(2)
	}
	if o.name == "" {
		o.name = "latest"
		if o.smoke {
			o.name = "smoke"
		}
	}
	if !o.noUnshare && os.Getenv(nsEnv) == "" {
		os.Exit(reexecInMountNS())
	}
	code, err := run(&o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		if code == 0 {
			code = 2
		}
	}
	os.Exit(code)
}

// reexecInMountNS runs this program again in a new mount namespace. Go makes
// / recursively private in the child before exec, as `unshare -m
// --propagation private` does.
func reexecInMountNS() int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	// The bench runs oci-rt from a private copy, and oci-rt mounts a
	// read-only view of it on an empty file in /run/oci-rt-exe. The mount
	// goes with the bench's mount namespace; the empty file stays on the
	// host. The child tells which file it was, and it is removed here if
	// nothing is mounted on it (only that one: other files there may be
	// mount points in other namespaces).
	viewNote, err := os.CreateTemp("", "oci-rt-bench-view-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	viewNote.Close()
	defer os.Remove(viewNote.Name())
	defer func() {
		data, _ := os.ReadFile(viewNote.Name())
		name := strings.TrimSpace(string(data))
		if name == "" || strings.Contains(name, "/") {
			return
		}
		p := filepath.Join(viewDir, name)
		if st, err := os.Stat(p); err == nil && st.Size() == 0 && !mountPoints()[p] {
			os.Remove(p)
			fmt.Printf("# oci-rt left the empty file %s on the host (its view's mount point in the bench's mount namespace): removed\n", p)
		}
	}()
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), nsEnv+"=1", viewEnv+"="+viewNote.Name())
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "bench: mount namespace:", err)
		return 2
	}
	return 0
}

// viewEnv names the file where the child writes the name of oci-rt's view
// of the bench's copy of oci-rt.
const viewEnv = "OCIRT_BENCH_VIEW_NOTE"

// viewDir is where oci-rt keeps read-only views of its binary.
const viewDir = "/run/oci-rt-exe"

// setupConditions unmounts the hybrid cgroup2 mount in the private mount
// namespace and describes the conditions.
func setupConditions(o *options) (string, error) {
	if o.noUnshare {
		return "current mount namespace (-no-unshare)", nil
	}
	if !isMounted(unifiedPath) {
		return "private mount namespace (" + unifiedPath + " not mounted)", nil
	}
	if err := syscall.Unmount(unifiedPath, syscall.MNT_DETACH); err != nil {
		return "", fmt.Errorf("umount %s: %w", unifiedPath, err)
	}
	return "private mount namespace, " + unifiedPath + " unmounted", nil
}

// isMounted tells whether path is a mount point in this mount namespace.
func isMounted(path string) bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == path {
			return true
		}
	}
	return false
}

// counts are the iteration and container counts of one bench run.
type counts struct {
	Run        int `json:"run"`
	Cycle      int `json:"cycle"`
	Memory     int `json:"memory_containers"`
	Burst      int `json:"burst_containers"`
	BurstPar   int `json:"burst_parallelism"`
	BurstRound int `json:"burst_rounds"`
	ListMany   int `json:"listing_containers"`
	ListIter   int `json:"listing_iterations"`
	Userns     int `json:"userns"`
}

func makeCounts(o *options) counts {
	if o.smoke {
		return counts{Run: 3, Cycle: 3, Memory: 3, Burst: 3, BurstPar: o.parallel, BurstRound: 1, ListMany: 3, ListIter: 3, Userns: 3}
	}
	s := func(n int) int {
		v := int(math.Round(float64(n) * o.scale))
		if v < 1 {
			v = 1
		}
		return v
	}
	return counts{Run: s(100), Cycle: s(50), Memory: s(20), Burst: s(50), BurstPar: o.parallel, BurstRound: s(3),
		ListMany: s(200), ListIter: s(30), Userns: s(100)}
}

var scenarioNames = []string{"run", "cycle", "memory", "burst", "listing", "userns"}

func pickScenarios(spec string) (map[string]bool, error) {
	sel := map[string]bool{}
	for _, s := range strings.Split(spec, ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
		case s == "all":
			for _, n := range scenarioNames {
				sel[n] = true
			}
		case len(s) == 1 && s[0] >= '1' && s[0] <= '6':
			sel[scenarioNames[s[0]-'1']] = true
		default:
			ok := false
			for _, n := range scenarioNames {
				if n == s {
					sel[n], ok = true, true
				}
			}
			if !ok {
				return nil, fmt.Errorf("unknown scenario %q (want %s or 1-6)", s, strings.Join(scenarioNames, ","))
			}
		}
	}
	if len(sel) == 0 {
		return nil, errors.New("no scenario selected")
	}
	return sel, nil
}

func run(o *options) (int, error) {
	started := time.Now()
	sel, err := pickScenarios(o.scenarios)
	if err != nil {
		return 2, err
	}
	conditions, err := setupConditions(o)
	if err != nil {
		return 2, err
	}
	if err := startReaper(); err != nil {
		return 2, err
	}
	rts, skipped, err := findRuntimes(o)
	if err != nil {
		return 2, err
	}
	work := o.workDir
	if work == "" {
		base := "/run"
		if st, err := os.Stat(base); err != nil || !st.IsDir() {
			base = os.TempDir()
		}
		if work, err = os.MkdirTemp(base, "oci-rt-bench-"); err != nil {
			return 2, err
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return 2, err
	}
	if work, err = filepath.Abs(work); err != nil {
		return 2, err
	}
	// The user-namespace containers' root (host uid 100000) must reach
	// their root filesystems.
	if err := os.Chmod(work, 0o755); err != nil {
		return 2, err
	}
	b := &bench{
		o:       o,
		c:       makeCounts(o),
		work:    work,
		rts:     rts,
		prefix:  fmt.Sprintf("ocb%d", os.Getpid()),
		started: started,

		unifiedMounted: isMounted(unifiedPath),
		tmpfsArtefacts: map[string]int{},
	}
	for _, s := range skipped {
		b.note("runtime %s", s)
	}
	defer func() {
		b.cleanupAll()
		if !o.keepWork && o.workDir == "" {
			os.RemoveAll(work)
		}
	}()
	if err := b.snapshotBinaries(); err != nil {
		return 2, err
	}
	b.mountsAtStart = mountPoints()
	if err := b.prepare(); err != nil {
		return 2, err
	}
	b.rep = newReport(b, conditions)
	b.printHeader()

	type scen struct {
		name string
		fn   func() (*Scenario, error)
	}
	all := []scen{
		{"run", b.scenarioRun},
		{"cycle", b.scenarioCycle},
		{"memory", b.scenarioMemory},
		{"burst", b.scenarioBurst},
		{"listing", b.scenarioListing},
		{"userns", b.scenarioUserns},
	}
	code := 0
	for _, s := range all {
		if !sel[s.name] {
			continue
		}
		t0 := time.Now()
		sc, err := s.fn()
		if sc != nil {
			sc.Seconds = time.Since(t0).Seconds()
			b.checkLeftovers(sc)
			b.rep.Scenarios = append(b.rep.Scenarios, sc)
			printScenario(os.Stdout, sc, b.rts)
		}
		if err != nil {
			b.note("scenario %s aborted: %v", s.name, err)
			fmt.Fprintf(os.Stderr, "bench: scenario %s: %v\n", s.name, err)
			code = 1
		}
	}
	for k, n := range b.tmpfsArtefacts {
		b.note("%s: %d in all (removed; crun on a hybrid host whose cgroup2 mount is hidden writes them; not a cgroup leak)", k, n)
	}
	b.rep.finish(b)
	if err := b.rep.write(o.outDir, o.name); err != nil {
		return 2, err
	}
	printNotes(os.Stdout, b.rep)
	fmt.Printf("\nresults: %s, %s (%.0f s)\n", filepath.Join(o.outDir, o.name+".json"), filepath.Join(o.outDir, o.name+".png"), b.rep.Seconds)
	if o.smoke {
		// The smoke run asserts no timing: it fails only when the bench
		// could not measure the reference runtime.
		if f := b.rep.referenceFailures(); f > 0 {
			fmt.Printf("bench-smoke: %s had %d failed operations\n", b.rts[0].Label, f)
			code = 1
		} else if code == 0 {
			fmt.Printf("bench-smoke: ok (%d scenarios, runtimes %s)\n", len(b.rep.Scenarios), runtimeLabels(b.rts))
		}
	}
	return code, nil
}

// replotFrom draws the chart of a results JSON again.
func replotFrom(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var rep Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(rep.Runtimes) == 0 {
		return fmt.Errorf("%s: no runtimes", path)
	}
	out := strings.TrimSuffix(path, ".json") + ".png"
	if err := writeChart(&rep, out); err != nil {
		return err
	}
	fmt.Println("chart:", out)
	return nil
}

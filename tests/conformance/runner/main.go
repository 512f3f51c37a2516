// Command runner runs the OCI runtime-tools validation programs against one
// or more OCI runtimes and prints one line per program, the runtimes side by
// side, plus a JSON results file.
//
// It gets github.com/opencontainers/runtime-tools at a pinned version through
// the Go module proxy (`go mod download` in a throw-away module), copies it
// out of the module cache into a build directory outside the repository
// ($TMPDIR/oci-rt-conformance/build-<version>), builds every validation
// program and the static cmd/runtimetest there, and runs each program with
// RUNTIME=<runtime> from a directory holding runtimetest and
// rootfs-<arch>.tar.gz (which is what the programs expect). All runtimes
// run under the same conditions: inside a private mount namespace in which
// /sys/fs/cgroup/unified is unmounted (crun refuses the hybrid cgroup
// layout) and, on a cgroup v1 host, the controllers without a v1
// hierarchy that are free to bind (hierarchy 0 in /proc/cgroups, enabled
// in no cgroup2 subtree_control: here hugetlb, net_cls, net_prio,
// perf_event) get one, mounted as a typical v1 host mounts them
// (net_cls,net_prio with net_cls and net_prio symlinks, hugetlb,
// perf_event), for the whole run. /sys/fs/cgroup is a tmpfs the host
// shares, so the namespace gets a fresh tmpfs there with the host's
// hierarchies mounted again next to the new ones; at the end of the run
// the new hierarchies are emptied and unmounted and the run waits until
// the kernel has returned the controllers to hierarchy 0 (see package
// cgroupv1). While the run lasts the binding is seen host-wide (hugetlb
// leaves the hybrid cgroup2 hierarchy's cgroup.controllers).
//
// A program passes when it exits 0 within the timeout and its output has no
// failure signal: no "not ok" line, no YAML diagnostic carrying an "error"
// that is not attached to a test line (how the hook programs report), no "#"
// diagnostic outside a failed test other than the "expect: …, actual: …"
// notes (how the cgroup programs report a value they could not read), no
// stray "error:"/"panic:" line, and a plan that matches its test lines.
//
// Usage (as root; `make conformance` builds oci-rt and runs this):
//
//	go run ./tests/conformance/runner [-runtimes "oci-rt runc crun"] [-oci-rt PATH]
//	    [-run REGEXP] [-timeout 60s] [-json FILE] [-floor tests/conformance/floor]
//
// RUNTIMES in the environment is the default of -runtimes. A runtime is a
// path or a name looked up in $PATH; the name "oci-rt" means the -oci-rt
// binary when that flag is given. With -floor FILE the run fails (exit 1)
// when the floor runtime (-floor-runtime, default oci-rt) passes fewer
// programs than the number in FILE.
//
// tests/conformance/floor is what oci-rt passed when it was last raised,
// not counting poststart: that program races its hook against the
// container process (`sh -c echo` each; it wants the container's line
// first, which the spec does not promise: docs/conformance.md) and fails
// now and then with every runtime. Raise the floor when oci-rt passes more;
// the run says so.
//
// Each run writes, under $TMPDIR/oci-rt-conformance/runs/<time>-<pid>/,
// results.json (every program × runtime: verdict, counts, exit status,
// reasons, the "not ok" lines with their diagnostics) and logs/ with each
// program's stdout and stderr; the newest 12 runs are kept. Containers a
// program leaves behind (found by their bundle in the program's own TMPDIR)
// are force-deleted and reported. The run also records (results.json
// "host", and a "# host:" line) the host facilities some programs need:
// the host's cgroup v1 hierarchies and those mounted for the run, CFQ's
// blkio weight files, the capability bounding set and AppArmor
// (docs/conformance.md explains the failures they cause).
//
// Exit status: 0 when the run completed (programs may fail: conformance is
// measured, not required), 1 when the floor check failed, 2 when the run
// could not be done.
package main

import (
	"github.com/oci-rt/oci-rt/tests/bundle"

	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/oci-rt/oci-rt/tests/conformance/runner/cgroupv1"
)

// defaultVersion is the runtime-tools version the project measures against.
const defaultVersion = "v0.9.1-0.20250523060157-0ea5ed0382a2"

// nsEnv marks the re-executed runner that runs inside the private mount
// namespace.
const nsEnv = "OCIRT_CONFORMANCE_IN_MNTNS"

// keepRuns is how many run directories are kept (several people may run
// the suite on one host at a time, each a few runs).
const keepRuns = 12

// unifiedPath is the cgroup2 mount of a hybrid cgroup host.
const unifiedPath = "/sys/fs/cgroup/unified"

type options struct {
	runtimes     string
	ociRT        string
	version      string
	work         string
	run          string
	timeout      time.Duration
	jsonOut      string
	floorFile    string
	floorRuntime string
	noUnshare    bool
	allReasons   bool
}

// rtRuntime is one runtime under test.
type rtRuntime struct {
	Label   string `json:"label"`
	Path    string `json:"path"`
	Version string `json:"version"`
	// Passed and the test counts are filled in as programs run.
	Passed     int     `json:"programs_passed"`
	Programs   int     `json:"programs"`
	TestsOK    int     `json:"tests_ok"`
	Tests      int     `json:"tests"`
	Seconds    float64 `json:"seconds"`
	preexist   map[string]bool
	listWorks  bool
	tmpRoot    string
	logDir     string
	runDir     string
	floorCheck bool
}

// programResult is one program run against one runtime.
type programResult struct {
	Program   string       `json:"program"`
	Runtime   string       `json:"runtime"`
	Pass      bool         `json:"pass"`
	OK        int          `json:"ok"`
	Total     int          `json:"total"`
	Plan      int          `json:"plan"`
	ExitCode  int          `json:"exit_code"`
	TimedOut  bool         `json:"timed_out,omitempty"`
	Seconds   float64      `json:"seconds"`
	Reasons   []string     `json:"reasons,omitempty"`
	Failures  []tapFailure `json:"failures,omitempty"`
	Notes     []string     `json:"notes,omitempty"`
	Leftovers []string     `json:"leftover_containers,omitempty"`
	Stdout    string       `json:"stdout_file"`
	Stderr    string       `json:"stderr_file"`
}

type report struct {
	RuntimeTools string           `json:"runtime_tools_version"`
	ModuleDir    string           `json:"module_dir"`
	Rootfs       string           `json:"rootfs"`
	Started      time.Time        `json:"started"`
	Seconds      float64          `json:"seconds"`
	Kernel       string           `json:"kernel"`
	Conditions   string           `json:"conditions"`
	Timeout      string           `json:"timeout_per_program"`
	Filter       string           `json:"filter,omitempty"`
	Runtimes     []*rtRuntime     `json:"runtimes"`
	Results      []*programResult `json:"results"`
	Floor        *floorResult     `json:"floor,omitempty"`
	Host         hostFacts        `json:"host"`
	CgroupLayout *cgroupv1.Layout `json:"cgroup_v1_layout,omitempty"`
	// CgroupRelease notes the cgroups left in the hierarchies mounted for
	// the run, removed at its end, and any failure to release them.
	CgroupRelease []string `json:"cgroup_v1_release,omitempty"`
}

type floorResult struct {
	File    string `json:"file"`
	Runtime string `json:"runtime"`
	Floor   int    `json:"floor"`
	Passed  int    `json:"passed"`
	OK      bool   `json:"ok"`
}

func main() {
	o := options{}
	defRuntimes := os.Getenv("RUNTIMES")
	if defRuntimes == "" {
		defRuntimes = "oci-rt"
	}
	flag.StringVar(&o.runtimes, "runtimes", defRuntimes, "runtimes to test, space or comma separated paths or names (default $RUNTIMES or oci-rt)")
	flag.StringVar(&o.ociRT, "oci-rt", "", "the binary the runtime name \"oci-rt\" stands for (default: looked up in $PATH)")
	flag.StringVar(&o.version, "version", defaultVersion, "runtime-tools module version")
	flag.StringVar(&o.work, "work", filepath.Join(os.TempDir(), "oci-rt-conformance"), "work directory (build cache and runs; outside the repository)")
	flag.StringVar(&o.run, "run", "", "only programs whose name matches this regexp")
	flag.DurationVar(&o.timeout, "timeout", 60*time.Second, "timeout per program and runtime")
	flag.StringVar(&o.jsonOut, "json", "", "results file (default <run dir>/results.json)")
	flag.StringVar(&o.floorFile, "floor", "", "file holding the minimum number of passing programs for -floor-runtime; fail (exit 1) below it")
	flag.StringVar(&o.floorRuntime, "floor-runtime", "oci-rt", "label of the runtime the floor applies to")
	flag.BoolVar(&o.noUnshare, "no-unshare", false, "run in the current mount namespace and leave "+unifiedPath+" alone (and mount no cgroup v1 hierarchy)")
	flag.BoolVar(&o.allReasons, "all-reasons", false, "print failure reasons for every runtime, not only the floor runtime")
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := validateOptions(&o); err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(2)
	}
	if !o.noUnshare && os.Getenv(nsEnv) == "" {
		os.Exit(reexecInMountNS())
	}
	code, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

func validateOptions(o *options) error {
	if os.Geteuid() != 0 {
		return errors.New("must run as root: the validation programs create real containers")
	}
	if o.run != "" {
		if _, err := regexp.Compile(o.run); err != nil {
			return fmt.Errorf("-run: %v", err)
		}
		if o.floorFile != "" {
			return errors.New("-floor counts every program: it cannot be used with -run")
		}
	}
	if o.timeout <= 0 {
		return errors.New("-timeout must be positive")
	}
	w, err := filepath.Abs(o.work)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(w, 0o755); err != nil {
		return err
	}
	// Mount points are compared with the resolved path.
	if w, err = filepath.EvalSymlinks(w); err != nil {
		return err
	}
	o.work = w
	return nil
}

// reexecInMountNS runs this program again in a new mount namespace (the Go
// runtime makes / recursively private there, as `unshare -m --propagation
// private` does) and returns its exit status.
func reexecInMountNS() int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		return 2
	}
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), nsEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "conformance: mount namespace:", err)
		return 2
	}
	// The child releases what it bound before it exits: pass it the
	// signals that would otherwise end only us (it has the terminal's too).
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		for sig := range sigs {
			cmd.Process.Signal(sig)
		}
	}()
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "conformance: mount namespace:", err)
		return 2
	}
	return 0
}

// mountPoints returns the mount points of this mount namespace, in
// mountinfo order.
func mountPoints() ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var mps []string
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 {
			mps = append(mps, cgroupv1.UnescapeMountinfo(f[4]))
		}
	}
	return mps, nil
}

// prepareMountNS gives our private namespace the v1 hierarchies a v1 host
// lacks (cgroupv1.Provide, which leaves out the hybrid cgroup2 mount) and
// unmounts the hybrid cgroup2 mount if it is still there. It returns the
// conditions and the layout, whose Release the caller must call.
func prepareMountNS() (string, *cgroupv1.Layout, error) {
	l, err := cgroupv1.Provide()
	if errors.Is(err, cgroupv1.ErrNotV1) {
		l, err = nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	cond, err := unmountUnified()
	if err != nil {
		l.Release()
		return "", nil, err
	}
	if added := l.AddedNames(); len(added) > 0 {
		cond += ", cgroup v1 hierarchies mounted for the run on a fresh " + cgroupv1.Root + " tmpfs: " + strings.Join(added, " ")
	}
	return cond, l, nil
}

// unmountUnified unmounts the hybrid cgroup2 mount in our private namespace.
func unmountUnified() (string, error) {
	mps, err := mountPoints()
	if err != nil {
		return "", err
	}
	n := 0
	for _, mp := range mps {
		if mp == unifiedPath {
			n++
		}
	}
	if n == 0 {
		return "private mount namespace, " + unifiedPath + " not mounted", nil
	}
	for i := 0; i < n; i++ {
		if err := syscall.Unmount(unifiedPath, syscall.MNT_DETACH); err != nil {
			return "", fmt.Errorf("umount %s: %w", unifiedPath, err)
		}
	}
	return "private mount namespace, " + unifiedPath + " unmounted", nil
}

// unmountUnder detaches every mount at or below dir (left by containers
// that a runtime set up without a mount namespace of their own), deepest
// first. Only used on this run's own temporary directories.
func unmountUnder(dir string) {
	mps, err := mountPoints()
	if err != nil {
		return
	}
	prefix := dir + "/"
	for i := len(mps) - 1; i >= 0; i-- {
		if mps[i] == dir || strings.HasPrefix(mps[i], prefix) {
			syscall.Unmount(mps[i], syscall.MNT_DETACH)
		}
	}
}

// resolveRuntimes turns the -runtimes list into absolute executables with
// labels: the name given, or the path when two would share a label.
func resolveRuntimes(o options) ([]*rtRuntime, error) {
	var list []*rtRuntime
	seen := map[string]int{}
	for _, name := range strings.FieldsFunc(o.runtimes, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' }) {
		var path string
		var err error
		switch {
		case strings.Contains(name, "/"):
			path, err = filepath.Abs(name)
		case name == "oci-rt" && o.ociRT != "":
			path, err = filepath.Abs(o.ociRT)
		default:
			path, err = exec.LookPath(name)
			if err == nil {
				path, err = filepath.Abs(path)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("runtime %q: %v", name, err)
		}
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("runtime %q: %v", name, err)
		}
		if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
			return nil, fmt.Errorf("runtime %q: %s is not an executable", name, path)
		}
		label := filepath.Base(name)
		if name == "oci-rt" || filepath.Base(path) == "oci-rt" {
			label = "oci-rt"
		}
		list = append(list, &rtRuntime{Label: label, Path: path})
		seen[label]++
	}
	if len(list) == 0 {
		return nil, errors.New("no runtime given")
	}
	for _, r := range list {
		if seen[r.Label] > 1 {
			r.Label = r.Path
		}
	}
	for _, r := range list {
		out, _ := exec.Command(r.Path, "--version").CombinedOutput()
		first := strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)[0]
		r.Version = first
		if ids, err := listContainers(r.Path); err == nil {
			r.listWorks = true
			r.preexist = ids
		}
	}
	return list, nil
}

// listContainers returns the container IDs of a runtime's default root.
func listContainers(path string) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "list", "-q").Output()
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, l := range strings.Fields(string(out)) {
		ids[l] = true
	}
	return ids, nil
}

// containerBundle returns the bundle directory `state` reports for id.
func containerBundle(path, id string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "state", id).Output()
	if err != nil {
		return ""
	}
	var st struct {
		Bundle string `json:"bundle"`
	}
	if json.Unmarshal(out, &st) != nil {
		return ""
	}
	return st.Bundle
}

// cleanLeftovers force-deletes the containers a program left in the
// runtime's default root and returns their IDs. Only containers whose bundle
// is in the program's own temporary directory are touched: others may belong
// to someone else using the same root at the same time.
func cleanLeftovers(r *rtRuntime, tmp string) []string {
	if !r.listWorks {
		return nil
	}
	ids, err := listContainers(r.Path)
	if err != nil {
		return nil
	}
	var left []string
	for id := range ids {
		if r.preexist[id] {
			continue
		}
		b := containerBundle(r.Path, id)
		if b == "" || (b != tmp && !strings.HasPrefix(b, tmp+"/")) {
			continue
		}
		left = append(left, id)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		exec.CommandContext(ctx, r.Path, "delete", "--force", id).Run()
		cancel()
	}
	sort.Strings(left)
	return left
}

func run(o options) (code int, err error) {
	started := time.Now()
	conditions := "current mount namespace (-no-unshare)"
	host := collectHostFacts()
	var layout *cgroupv1.Layout
	// release gives back the cgroup v1 hierarchies mounted for the run
	// (at the end, or on an early return) and says whether that worked.
	release := func() ([]string, bool) { return nil, true }
	if !o.noUnshare {
		c, l, err := prepareMountNS()
		if err != nil {
			return 2, err
		}
		conditions, layout = c, l
		host.addLayout(l)
		stop := releaseOnSignal(l)
		release = func() ([]string, bool) {
			stop()
			notes, rerr := l.Release()
			for _, n := range notes {
				fmt.Fprintln(os.Stderr, "conformance: cgroup v1 release:", n)
			}
			if rerr != nil {
				fmt.Fprintf(os.Stderr, "conformance: the host is left changed: %v\n", rerr)
				notes = append(notes, "ERROR: "+rerr.Error())
			}
			return notes, rerr == nil
		}
		defer func() {
			if _, ok := release(); !ok && code == 0 {
				code = 2
			}
		}()
	}
	if err := os.MkdirAll(o.work, 0o755); err != nil {
		return 2, err
	}
	logf := func(f string, a ...any) { fmt.Fprintf(os.Stderr, "conformance: "+f+"\n", a...) }

	runtimes, err := resolveRuntimes(o)
	if err != nil {
		return 2, err
	}
	var floor *floorResult
	if o.floorFile != "" {
		data, err := os.ReadFile(o.floorFile)
		if err != nil {
			return 2, err
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || n < 0 {
			return 2, fmt.Errorf("%s: not a number of programs: %q", o.floorFile, strings.TrimSpace(string(data)))
		}
		floor = &floorResult{File: o.floorFile, Runtime: o.floorRuntime, Floor: n}
	}
	primary := -1
	for i, r := range runtimes {
		if r.Label == o.floorRuntime {
			primary = i
			r.floorCheck = true
			break
		}
	}
	if floor != nil && primary < 0 {
		return 2, fmt.Errorf("-floor: runtime %q is not among %q", o.floorRuntime, o.runtimes)
	}

	b, err := prepareRuntimeTools(o.work, o.version, logf)
	if err != nil {
		return 2, err
	}
	var filter *regexp.Regexp
	if o.run != "" {
		filter = regexp.MustCompile(o.run)
	}
	var names []string
	for _, n := range b.Names() {
		if filter == nil || filter.MatchString(n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return 2, fmt.Errorf("no program matches -run %q", o.run)
	}

	runsDir := filepath.Join(o.work, "runs")
	pruneRuns(runsDir, keepRuns)
	runDir := filepath.Join(runsDir, started.Format("20060102-150405")+fmt.Sprintf("-%d", os.Getpid()))
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return 2, err
	}
	// Held for the whole run so that a concurrent run's pruneRuns leaves
	// this directory alone.
	runLock, err := os.OpenFile(filepath.Join(runDir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return 2, err
	}
	defer runLock.Close()
	if err := syscall.Flock(int(runLock.Fd()), syscall.LOCK_EX); err != nil {
		return 2, err
	}
	for i, r := range runtimes {
		sub := fmt.Sprintf("%d-%s", i, filepath.Base(r.Label))
		r.runDir = filepath.Join(runDir, "cwd", sub)
		r.tmpRoot = filepath.Join(runDir, "tmp", sub)
		r.logDir = filepath.Join(runDir, "logs", sub)
		for _, d := range []string{r.runDir, r.tmpRoot, r.logDir} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return 2, err
			}
		}
		// The programs copy ./runtimetest into each bundle and untar
		// ./rootfs-<arch>.tar.gz into it.
		if err := bundle.CopyFile(b.Runtimetest, filepath.Join(r.runDir, "runtimetest"), 0o755); err != nil {
			return 2, err
		}
		if err := bundle.CopyFile(b.Rootfs, filepath.Join(r.runDir, filepath.Base(b.Rootfs)), 0o644); err != nil {
			return 2, err
		}
	}

	rep := &report{
		RuntimeTools: o.version, ModuleDir: b.ModuleDir, Rootfs: filepath.Base(b.Rootfs) + " " + b.RootfsNote,
		Started: started, Kernel: kernelRelease(), Conditions: conditions, Timeout: o.timeout.String(),
		Filter: o.run, Runtimes: runtimes, Host: host, CgroupLayout: layout,
	}

	out := os.Stdout
	width := 32
	for _, n := range names {
		if len(n) > width {
			width = len(n)
		}
	}
	colw := 20
	fmt.Fprintf(out, "# runtime-tools %s: %d programs; %s; timeout %s per program\n", o.version, len(names), conditions, o.timeout)
	fmt.Fprintf(out, "# host: kernel %s; %s\n", rep.Kernel, rep.Host)
	for _, r := range runtimes {
		fmt.Fprintf(out, "# %s = %s (%s)\n", r.Label, r.Path, r.Version)
		if len(r.Label)+2 > colw {
			colw = len(r.Label) + 2
		}
	}
	fmt.Fprintf(out, "%-*s", width+2, "program")
	for _, r := range runtimes {
		fmt.Fprintf(out, "%-*s", colw, r.Label)
	}
	fmt.Fprintln(out)

	for _, name := range names {
		fmt.Fprintf(out, "%-*s", width+2, name)
		for _, r := range runtimes {
			res := runProgram(b, r, name, o.timeout)
			rep.Results = append(rep.Results, res)
			r.Programs++
			r.Seconds += res.Seconds
			r.TestsOK += res.OK
			r.Tests += res.Total
			if res.Pass {
				r.Passed++
			}
			fmt.Fprintf(out, "%-*s", colw, cell(res))
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "%-*s", width+2, "programs passing")
	for _, r := range runtimes {
		fmt.Fprintf(out, "%-*s", colw, fmt.Sprintf("%d/%d", r.Passed, r.Programs))
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "%-*s", width+2, "tests ok")
	for _, r := range runtimes {
		fmt.Fprintf(out, "%-*s", colw, fmt.Sprintf("%d/%d", r.TestsOK, r.Tests))
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "%-*s", width+2, "seconds")
	for _, r := range runtimes {
		fmt.Fprintf(out, "%-*s", colw, fmt.Sprintf("%.0f", r.Seconds))
	}
	fmt.Fprintln(out)

	for i, r := range runtimes {
		if !o.allReasons && i != primary && !(primary < 0 && i == 0) {
			continue
		}
		fmt.Fprintf(out, "\nfailures of %s:", r.Label)
		if r.Passed == r.Programs {
			fmt.Fprint(out, " none")
		}
		fmt.Fprintln(out)
		for _, res := range rep.Results {
			if res.Runtime != r.Label || res.Pass {
				continue
			}
			fmt.Fprintf(out, "  %s: %s\n", res.Program, strings.Join(firstN(res.Reasons, 3), " || "))
			if len(res.Leftovers) > 0 {
				fmt.Fprintf(out, "    (left %d container(s) behind, force-deleted)\n", len(res.Leftovers))
			}
		}
	}

	code = 0
	notes, released := release()
	rep.CgroupRelease = notes
	if !released {
		code = 2
	}
	if floor != nil {
		floor.Passed = runtimes[primary].Passed
		floor.OK = floor.Passed >= floor.Floor
		rep.Floor = floor
	}
	rep.Seconds = time.Since(started).Seconds()
	jsonPath := o.jsonOut
	if jsonPath == "" {
		jsonPath = filepath.Join(runDir, "results.json")
	}
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return 2, err
	}
	if err := os.WriteFile(jsonPath, append(data, '\n'), 0o644); err != nil {
		return 2, err
	}
	os.RemoveAll(filepath.Join(runDir, "cwd"))
	fmt.Fprintf(out, "\nresults: %s\nlogs: %s\n", jsonPath, filepath.Join(runDir, "logs"))
	for _, r := range runtimes {
		fmt.Fprintf(out, "conformance %s: %d of %d programs pass (%d/%d tests ok)\n", r.Label, r.Passed, r.Programs, r.TestsOK, r.Tests)
	}
	if floor != nil {
		if floor.OK {
			fmt.Fprintf(out, "floor ok: %s passes %d programs, floor %d (%s)\n", floor.Runtime, floor.Passed, floor.Floor, floor.File)
			// The floor does not count the racy programs; suggest
			// raising it only beyond them.
			if steady := steadyPasses(rep.Results, floor.Runtime); steady > floor.Floor {
				fmt.Fprintf(out, "floor: %s passes %d programs besides %s: consider raising %s to %d\n",
					floor.Runtime, steady, strings.Join(racyPrograms, ", "), floor.File, steady)
			}
		} else {
			fmt.Fprintf(out, "FLOOR FAILED: %s passes %d programs, fewer than the floor %d (%s)\n", floor.Runtime, floor.Passed, floor.Floor, floor.File)
			if code == 0 {
				code = 1
			}
		}
	}
	return code, nil
}

// racyPrograms can fail with a correct runtime (docs/conformance.md): the
// floor does not count on them.
var racyPrograms = []string{"poststart"}

// steadyPasses counts the programs runtime passed, less the racy ones.
func steadyPasses(results []*programResult, runtime string) int {
	n := 0
	for _, r := range results {
		if r.Runtime == runtime && r.Pass && !slices.Contains(racyPrograms, r.Program) {
			n++
		}
	}
	return n
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(append([]string(nil), s[:n]...), fmt.Sprintf("(+%d more)", len(s)-n))
	}
	return s
}

// cell is a table cell: PASS/fail, ok/total, and the exit status.
func cell(r *programResult) string {
	verdict := "fail"
	if r.Pass {
		verdict = "PASS"
	}
	tail := fmt.Sprintf("rc=%d", r.ExitCode)
	if r.TimedOut {
		tail = "timeout"
	}
	return fmt.Sprintf("%s %d/%d %s", verdict, r.OK, r.Total, tail)
}

// runProgram runs one validation program against one runtime, from the
// runtime's working directory, with its own TMPDIR for the bundles.
func runProgram(b *rtBuild, r *rtRuntime, name string, timeout time.Duration) *programResult {
	res := &programResult{
		Program: name, Runtime: r.Label,
		Stdout: filepath.Join(r.logDir, name+".out"),
		Stderr: filepath.Join(r.logDir, name+".err"),
	}
	tmp := filepath.Join(r.tmpRoot, name)
	os.MkdirAll(tmp, 0o755)
	stdout, err1 := os.Create(res.Stdout)
	stderr, err2 := os.Create(res.Stderr)
	if err := errors.Join(err1, err2); err != nil {
		res.ExitCode = -1
		res.Reasons = []string{err.Error()}
		return res
	}
	defer stdout.Close()
	defer stderr.Close()

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.Programs[name])
	cmd.Dir = r.runDir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = append(filteredEnv(), "RUNTIME="+r.Path, "TMPDIR="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	if stopping.Load() {
		select {} // the signal handler ends the run
	}
	err := cmd.Start()
	if err == nil {
		current.Store(int64(cmd.Process.Pid))
		err = cmd.Wait()
		current.Store(0)
	}
	res.Seconds = time.Since(start).Seconds()
	res.TimedOut = ctx.Err() == context.DeadlineExceeded
	if cmd.Process != nil {
		// Whatever the program left running in its process group.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	res.ExitCode = 0
	if err != nil {
		res.ExitCode = -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			res.ExitCode = ee.ExitCode()
		} else {
			fmt.Fprintf(stderr, "\nconformance runner: %v\n", err)
		}
	}
	res.Leftovers = cleanLeftovers(r, tmp)
	removeProgramCgroups()
	unmountUnder(tmp)
	os.RemoveAll(tmp)

	outData, _ := readAll(res.Stdout)
	errData, _ := readAll(res.Stderr)
	v := classifyTAP(outData, errData, res.ExitCode, res.TimedOut)
	res.Pass, res.OK, res.Total, res.Plan = v.Pass, v.OK, v.Total, v.Plan
	res.Reasons, res.Failures, res.Notes = v.Reasons, v.Failures, v.Notes
	return res
}

// current is the process group of the program running (0: none).
var current atomic.Int64

// stopping is set when a signal ends the run: no program starts after it.
var stopping atomic.Bool

// releaseOnSignal makes SIGINT, SIGTERM and SIGHUP end the run cleanly:
// the running program's process group is killed and the cgroup v1
// hierarchies released (the containers in them are killed) before the
// exit. The returned function stops that.
func releaseOnSignal(l *cgroupv1.Layout) (stop func()) {
	sigs := make(chan os.Signal, 1)
	done := make(chan struct{})
	var once sync.Once
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		select {
		case sig := <-sigs:
			fmt.Fprintf(os.Stderr, "\nconformance: %v: stopping\n", sig)
			stopping.Store(true)
			if pg := current.Load(); pg != 0 {
				syscall.Kill(-int(pg), syscall.SIGKILL)
			}
			notes, err := l.Release()
			for _, n := range notes {
				fmt.Fprintln(os.Stderr, "conformance: cgroup v1 release:", n)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "conformance: the host is left changed: %v\n", err)
			}
			os.Exit(130)
		case <-done:
		}
	}()
	return func() { once.Do(func() { signal.Stop(sigs); close(done) }) }
}

// filteredEnv is the environment for the programs, less the variables this
// runner sets itself.
func filteredEnv() []string {
	var env []string
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "RUNTIME=") || strings.HasPrefix(e, "TMPDIR=") || strings.HasPrefix(e, nsEnv+"=") {
			continue
		}
		env = append(env, e)
	}
	return env
}

func readAll(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 64<<20))
}

func kernelRelease() string {
	data, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(data))
}

// pruneRuns keeps the keep-1 newest run directories, making room for one.
func pruneRuns(dir string, keep int) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for len(names) >= keep {
		p := filepath.Join(dir, names[0])
		names = names[1:]
		if lock, err := os.Open(filepath.Join(p, "lock")); err == nil {
			busy := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil
			lock.Close()
			if busy {
				continue // a run still going on
			}
		}
		unmountUnder(p)
		os.RemoveAll(p)
	}
}

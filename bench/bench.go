package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Runtime is one OCI runtime under comparison.
type Runtime struct {
	Label   string `json:"name"`
	Path    string `json:"path"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	RanFrom string `json:"ran_from,omitempty"`
	Root    string `json:"-"`
	bundles map[string]string
}

type bench struct {
	o       *options
	c       counts
	work    string
	rts     []*Runtime
	prefix  string
	started time.Time
	rep     *Report

	unifiedMounted bool // a cgroup2 file system is mounted at unifiedPath
	mountsAtStart  map[string]bool
	tmpfsArtefacts map[string]int
	viewSeen       bool

	mu    sync.Mutex
	notes []string
}

func (b *bench) note(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.notes = append(b.notes, fmt.Sprintf(format, args...))
}

func runtimeLabels(rts []*Runtime) string {
	var l []string
	for _, r := range rts {
		l = append(l, r.Label)
	}
	return strings.Join(l, ",")
}

// findRuntimes resolves -runtimes. Missing runtimes other than oci-rt are
// skipped (and reported) in smoke mode, so CI without runc or crun still
// proves the bench works; otherwise they are an error.
func findRuntimes(o *options) ([]*Runtime, []string, error) {
	var list []*Runtime
	var skipped []string
	seen := map[string]bool{}
	for _, name := range strings.Split(o.runtimes, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		label, path := name, ""
		if i := strings.IndexByte(name, '='); i > 0 {
			label, path = name[:i], name[i+1:]
		} else if name == "oci-rt" {
			path = o.ociRT
		} else {
			path = lookPath(name)
		}
		if path == "" {
			if o.smoke {
				skipped = append(skipped, fmt.Sprintf("%s not found in $PATH: skipped", name))
				continue
			}
			return nil, nil, fmt.Errorf("runtime %q not found in $PATH", name)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, nil, err
		}
		st, err := os.Stat(abs)
		if err != nil || st.IsDir() || st.Mode().Perm()&0o111 == 0 {
			return nil, nil, fmt.Errorf("runtime %q: %s is not an executable", label, abs)
		}
		if seen[label] {
			return nil, nil, fmt.Errorf("runtime %q given twice", label)
		}
		seen[label] = true
		list = append(list, &Runtime{Label: label, Path: abs})
	}
	if len(list) == 0 {
		return nil, nil, fmt.Errorf("no runtime to compare")
	}
	// The reference (ratio = runtime/reference) is oci-rt when present:
	// put it first.
	sort.SliceStable(list, func(i, j int) bool { return list[i].Label == "oci-rt" && list[j].Label != "oci-rt" })
	for _, r := range list {
		r.Version = versionOf(r.Path)
	}
	return list, skipped, nil
}

// versionOf is the first line of `path --version` and its commit.
func versionOf(path string) string {
	res := runCmd(true, path, "--version")
	if !res.ok() {
		return "unknown (" + res.failure() + ")"
	}
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	v := strings.TrimSpace(lines[0])
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "commit:") {
			v += " (" + strings.TrimSpace(l) + ")"
		}
	}
	return v
}

func lookPath(name string) string {
	if strings.Contains(name, "/") {
		return name
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode().Perm()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// Bundles: every runtime gets its own copies, built from the same master
// root filesystem and the same config.
const (
	bTrue        = "true"         // /bin/true
	bSleep       = "sleep"        // sleep 600: for containers that stay
	bUserns      = "userns"       // /bin/true in a user namespace
	bUsernsProbe = "userns-probe" // prints what the user namespace looks like
)

func (b *bench) prepare() error {
	master := filepath.Join(b.work, "rootfs")
	if err := buildRootfs(master); err != nil {
		return fmt.Errorf("root filesystem: %w", err)
	}
	for _, r := range b.rts {
		r.Root = filepath.Join(b.work, "root", r.Label)
		if err := os.MkdirAll(r.Root, 0o700); err != nil {
			return err
		}
		r.bundles = map[string]string{}
		specs := []struct {
			name   string
			args   []string
			userns bool
		}{
			{bTrue, []string{"/bin/true"}, false},
			{bSleep, []string{"/bin/sleep", "600"}, false},
			{bUserns, []string{"/bin/true"}, true},
			{bUsernsProbe, []string{"/bin/sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; stat -c %u:%g /bin/busybox"}, true},
		}
		for _, s := range specs {
			dir := filepath.Join(b.work, "bundles", r.Label, s.name)
			if err := writeBundle(master, dir, s.args, s.userns); err != nil {
				return fmt.Errorf("bundle %s for %s: %w", s.name, r.Label, err)
			}
			r.bundles[s.name] = dir
		}
	}
	return nil
}

// cmd runs the runtime with its own --root.
func (b *bench) cmd(r *Runtime, capture bool, args ...string) result {
	path := r.Path
	if r.RanFrom != "" {
		path = r.RanFrom
	}
	return runCmd(capture, append([]string{path, "--root", r.Root}, args...)...)
}

// id names a container: unique per bench process, scenario, runtime and
// iteration.
func (b *bench) id(scen string, r *Runtime, i int) string {
	return fmt.Sprintf("%s-%s-%s-%d", b.prefix, scen, r.Label, i)
}

// order is the runtimes rotated by i.
func (b *bench) order(i int) []*Runtime {
	n := len(b.rts)
	out := make([]*Runtime, n)
	for k := range out {
		out[k] = b.rts[(i+k)%n]
	}
	return out
}

// containerState is the part of `state` the bench reads.
type containerState struct {
	ID     string `json:"id"`
	Pid    int    `json:"pid"`
	Status string `json:"status"`
}

func (b *bench) state(r *Runtime, id string) (containerState, error) {
	res := b.cmd(r, true, "state", id)
	if !res.ok() {
		return containerState{}, fmt.Errorf("state %s: %s", id, res.failure())
	}
	var st containerState
	if err := json.Unmarshal([]byte(res.Stdout), &st); err != nil {
		return containerState{}, fmt.Errorf("state %s: %v in %q", id, err, res.Stdout)
	}
	return st, nil
}

// waitStatus polls `state` (with back-off, untimed paths only) until the
// container has the status, and returns how long that took.
func (b *bench) waitStatus(r *Runtime, id, want string, limit time.Duration) (time.Duration, error) {
	t0 := time.Now()
	sleep := time.Millisecond
	var last string
	for {
		st, err := b.state(r, id)
		if err == nil && st.Status == want {
			return time.Since(t0), nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = st.Status
		}
		if time.Since(t0) > limit {
			return time.Since(t0), fmt.Errorf("%s: status still %s after %s, want %s", id, last, limit, want)
		}
		time.Sleep(sleep)
		if sleep < 50*time.Millisecond {
			sleep *= 2
		}
	}
}

func readPidFile(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: %q", path, data)
	}
	return pid, nil
}

// forceDelete removes a container whatever its state (cleanup paths).
func (b *bench) forceDelete(r *Runtime, id string) {
	res := b.cmd(r, true, "delete", "--force", id)
	if !res.ok() {
		// It may not exist: only a container still listed is a problem.
		if ids, err := b.listIDs(r); err == nil && contains(ids, id) {
			b.note("%s: delete --force %s failed: %s", r.Label, id, res.failure())
		}
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (b *bench) listIDs(r *Runtime) ([]string, error) {
	res := b.cmd(r, true, "list", "-q")
	if !res.ok() {
		return nil, fmt.Errorf("list -q: %s", res.failure())
	}
	return strings.Fields(res.Stdout), nil
}

// parallel runs fn(0..n-1) on par workers, in index order of start.
func parallel(n, par int, fn func(i int)) {
	if par < 1 {
		par = 1
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}

// checkLeftovers looks, after a scenario cleaned up, for what the runtimes
// left behind: containers still listed, state directories, live processes
// below the bench, cgroup directories and mounts named after the bench's
// containers. Everything found is reported and removed.
func (b *bench) checkLeftovers(sc *Scenario) {
	add := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		sc.Leftovers = append(sc.Leftovers, msg)
		b.note("%s: leftover: %s", sc.Name, msg)
	}
	for _, r := range b.rts {
		ids, err := b.listIDs(r)
		if err != nil {
			add("%s: %v", r.Label, err)
		}
		for _, id := range ids {
			add("%s: container %s still listed", r.Label, id)
			b.forceDelete(r, id)
		}
		ents, _ := os.ReadDir(r.Root)
		for _, e := range ents {
			if !contains(ids, e.Name()) && strings.HasPrefix(e.Name(), b.prefix) {
				add("%s: %s left in its --root", r.Label, e.Name())
			}
		}
	}
	// Processes: give exiting ones a moment to go.
	var procs map[int]procInfo
	for try := 0; try < 20; try++ {
		if procs = descendants(); len(procs) == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for pid, pi := range procs {
		add("process %d (%s) still running", pid, pi.Comm)
		killPid(pid)
	}
	// Group the cgroup directories by runtime (the container IDs name it).
	groups := map[string][]string{}
	var keys []string
	for _, dir := range cgroupLeftovers(b.prefix) {
		who := "?"
		for _, r := range b.rts {
			if strings.Contains(filepath.Base(dir), "-"+r.Label+"-") {
				who = r.Label
			}
		}
		kind := "cgroup directories"
		if strings.HasPrefix(dir, unifiedPath+"/") && !b.unifiedMounted {
			// Not a cgroup: a plain directory in the tmpfs under the
			// unmounted hybrid cgroup2 mount point.
			kind = "plain directories (with a cgroup.procs file) in the tmpfs under the unmounted " + unifiedPath
			os.RemoveAll(dir)
		} else {
			os.Remove(dir)
		}
		k := who + ": " + kind
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], dir)
	}
	for _, k := range keys {
		if strings.Contains(k, "tmpfs") {
			// An artefact of the unmounted hybrid mount, not of a
			// runtime's cleanup: counted once for the whole run.
			sc.Leftovers = append(sc.Leftovers, fmt.Sprintf("%s: %d, e.g. %s", k, len(groups[k]), groups[k][0]))
			b.tmpfsArtefacts[k] += len(groups[k])
			continue
		}
		add("%s: %d, e.g. %s", k, len(groups[k]), groups[k][0])
	}
	var mps []string
	for mp := range mountPoints() {
		if !b.mountsAtStart[mp] {
			mps = append(mps, mp)
		}
	}
	sort.Strings(mps)
	for _, mp := range mps {
		if strings.HasPrefix(mp, viewDir+"/") {
			// oci-rt's read-only view of its binary: by design, one per
			// binary and mount namespace.
			if !b.viewSeen {
				b.viewSeen = true
				b.note("oci-rt mounted its executor view %s in the bench's mount namespace (by design; reused by every container)", mp)
			}
			b.mountsAtStart[mp] = true
			continue
		}
		add("mount %s appeared in the bench's mount namespace", mp)
		b.mountsAtStart[mp] = true
	}
}

// mountPoints is the set of mount points of this mount namespace.
func mountPoints() map[string]bool {
	out := map[string]bool{}
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return out
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) > 4 {
			out[f[4]] = true
		}
	}
	return out
}

// snapshotBinaries records each runtime binary's hash, and runs oci-rt from
// a private copy: the work tree's binary may be rebuilt during the run.
func (b *bench) snapshotBinaries() error {
	for _, r := range b.rts {
		sum, err := sha256File(r.Path)
		if err != nil {
			return err
		}
		r.SHA256 = sum
		if r.Label != "oci-rt" {
			continue
		}
		dir := filepath.Join(b.work, "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		cp := filepath.Join(dir, "oci-rt")
		if err := copyFile(r.Path, cp, 0o755); err != nil {
			return err
		}
		if sum2, err := sha256File(cp); err != nil || sum2 != sum {
			return fmt.Errorf("copy of %s changed while copying (rebuilt?): try again", r.Path)
		}
		r.RanFrom = cp
		r.Version = versionOf(cp)
		if note := os.Getenv(viewEnv); note != "" {
			var st syscall.Stat_t
			if err := syscall.Stat(cp, &st); err == nil {
				os.WriteFile(note, []byte(fmt.Sprintf("%d-%d\n", st.Dev, st.Ino)), 0o600)
			}
		}
	}
	return nil
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func killPid(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

// cgroupLeftovers finds cgroup directories whose name contains prefix, at
// most 5 levels below /sys/fs/cgroup (a v1 controller and 4 levels).
func cgroupLeftovers(prefix string) []string {
	const root = "/sys/fs/cgroup"
	var out []string
	base := strings.Count(root, "/")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.Count(p, "/")-base > 5 {
			return filepath.SkipDir
		}
		if strings.Contains(d.Name(), prefix) {
			out = append(out, p)
		}
		return nil
	})
	// Remove children first.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// cleanupAll force-deletes whatever is left in the runtimes' roots.
func (b *bench) cleanupAll() {
	for _, r := range b.rts {
		if r.Root == "" {
			continue
		}
		ids, _ := b.listIDs(r)
		for _, id := range ids {
			b.forceDelete(r, id)
		}
	}
	for pid := range descendants() {
		killPid(pid)
	}
	for _, dir := range cgroupLeftovers(b.prefix) {
		if strings.HasPrefix(dir, unifiedPath+"/") && !b.unifiedMounted {
			os.RemoveAll(dir)
		} else {
			os.Remove(dir)
		}
	}
}

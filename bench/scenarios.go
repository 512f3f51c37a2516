package main

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// exitWait bounds the wait for a payload to exit.
const exitWait = 10 * time.Second

// runOnce is one timed `run -b bundle id`; cpu gets the CPU time of the
// processes it ran (the runtime's and the container's).
func (b *bench) runOnce(sc *Scenario, m, cpu *Metric, r *Runtime, bundle, id string) {
	c0 := childCPU()
	res := b.cmd(r, false, "run", "-b", bundle, id)
	if res.ok() {
		m.addDur(r, res.Dur)
		cpu.addDur(r, childCPU()-c0)
		return
	}
	sc.fail(r, m, "run %s: %s (%s)", id, res.failure(), b.explain(r, "run", bundle, id))
	b.forceDelete(r, id)
}

// explain retries a failed timed create or run (whose output went to
// /dev/null) untimed, with its output captured, and tells how that went.
func (b *bench) explain(r *Runtime, verb, bundle, id string) string {
	id += "-retry"
	res := b.cmd(r, true, verb, "-b", bundle, id)
	b.forceDelete(r, id)
	if res.ok() {
		return "an untimed retry worked"
	}
	return "untimed retry: " + res.failure()
}

// scenarioRun: (1) `run` of /bin/true until it exits, sequential.
func (b *bench) scenarioRun() (*Scenario, error) {
	return b.runScenario("run", fmt.Sprintf("1. run /bin/true to exit, sequential (N=%d per runtime)", b.c.Run),
		"wall time of `<runtime> run -b <bundle> <id>` (create+start+wait+delete), stdio /dev/null", bTrue, b.c.Run)
}

// scenarioUserns: (6) the same in a user namespace.
func (b *bench) scenarioUserns() (*Scenario, error) {
	sc := newScenario(b, "userns", fmt.Sprintf("6. run /bin/true in a user namespace (uid/gid 0 -> %d, %d ids; N=%d)", usernsHostID, usernsSize, b.c.Userns),
		fmt.Sprintf("as scenario 1 with a user namespace; rootfs owned by %d; each runtime checked first from inside and outside", usernsHostID))
	var ok []*Runtime
	for _, r := range b.rts {
		if err := b.checkUserns(r); err != nil {
			sc.fail(r, nil, "user namespace check: %v", err)
			b.note("userns: %s excluded: %v", r.Label, err)
			continue
		}
		ok = append(ok, r)
	}
	sc.Info["user namespace check"] = fmt.Sprintf("passed by %s", runtimeLabels(ok))
	m := sc.metric("run-userns", "run /bin/true, userns", "ms", true, true)
	cpu := sc.metric("run-userns-cpu", "CPU time (user+sys) per run", "ms", true, false)
	b.runLoop(sc, m, cpu, bUserns, "userns", b.c.Userns, ok)
	return sc, nil
}

func (b *bench) runScenario(name, title, desc, bundle string, n int) (*Scenario, error) {
	sc := newScenario(b, name, title, desc)
	m := sc.metric("run", "run /bin/true", "ms", true, true)
	cpu := sc.metric("run-cpu", "CPU time (user+sys) per run", "ms", true, true)
	b.runLoop(sc, m, cpu, bundle, name, n, b.rts)
	return sc, nil
}

func (b *bench) runLoop(sc *Scenario, m, cpu *Metric, bundle, name string, n int, rts []*Runtime) {
	include := map[*Runtime]bool{}
	for _, r := range rts {
		include[r] = true
	}
	// One untimed warm-up per runtime.
	for _, r := range rts {
		id := b.id(name+"-warm", r, 0)
		if res := b.cmd(r, false, "run", "-b", r.bundles[bundle], id); !res.ok() {
			sc.fail(r, m, "warm-up run %s: %s", id, res.failure())
			b.forceDelete(r, id)
		}
	}
	for i := 0; i < n; i++ {
		for _, r := range b.order(i) {
			if include[r] {
				b.runOnce(sc, m, cpu, r, r.bundles[bundle], b.id(name, r, i))
			}
		}
	}
}

// checkUserns runs the probe bundle and checks, from inside, the maps, the
// ids and the owner of the root filesystem as the container sees them, and
// from outside, the maps and the host uid of a created container's init.
func (b *bench) checkUserns(r *Runtime) error {
	id := b.id("userns-probe", r, 0)
	res := b.cmd(r, true, "run", "-b", r.bundles[bUsernsProbe], id)
	if !res.ok() {
		b.forceDelete(r, id)
		return fmt.Errorf("run probe: %s", res.failure())
	}
	got := strings.Fields(res.Stdout)
	want := strings.Fields(fmt.Sprintf("0 %d %d 0 %d %d 0 0 0:0", usernsHostID, usernsSize, usernsHostID, usernsSize))
	if strings.Join(got, " ") != strings.Join(want, " ") {
		return fmt.Errorf("inside: uid_map, gid_map, id -u, id -g, owner of /bin/busybox = %q, want %q", strings.Join(got, " "), strings.Join(want, " "))
	}
	id = b.id("userns-probe", r, 1)
	pidFile := filepath.Join(b.work, id+".pid")
	if res := b.cmd(r, false, "create", "--pid-file", pidFile, "-b", r.bundles[bUserns], id); !res.ok() {
		return fmt.Errorf("create: %s", res.failure())
	}
	defer b.forceDelete(r, id)
	pid, err := readPidFile(pidFile)
	if err != nil {
		return err
	}
	uidMap := readFileString(fmt.Sprintf("/proc/%d/uid_map", pid))
	if strings.Join(strings.Fields(uidMap), " ") != fmt.Sprintf("0 %d %d", usernsHostID, usernsSize) {
		return fmt.Errorf("outside: /proc/%d/uid_map = %q", pid, uidMap)
	}
	if uid := statusField(pid, "Uid:"); len(uid) == 0 || uid[0] != fmt.Sprint(usernsHostID) {
		return fmt.Errorf("outside: init %d runs as host uid %v, want %d", pid, uid, usernsHostID)
	}
	if ns, self := readLink(fmt.Sprintf("/proc/%d/ns/user", pid)), readLink("/proc/self/ns/user"); ns == "" || ns == self {
		return fmt.Errorf("outside: init %d is in user namespace %q, the bench's is %q", pid, ns, self)
	}
	return nil
}

// scenarioCycle: (2) create, start, wait for exit and delete, timed
// separately and as a whole.
func (b *bench) scenarioCycle() (*Scenario, error) {
	sc := newScenario(b, "cycle", fmt.Sprintf("2. create / start / exit / delete of /bin/true (N=%d per runtime)", b.c.Cycle),
		"create --pid-file; start = the start command's own time; exit wait = from start's return until the payload has exited "+
			"(pidfd poll, no state polling); start to exit = start + exit wait; delete of the stopped container; cycle = wall time of all, back to back")
	mc := sc.metric("create", "create", "ms", true, true)
	ms := sc.metric("start", "start (command)", "ms", true, true)
	mw := sc.metric("exit-wait", "exit wait after start", "ms", true, false)
	mse := sc.metric("start-exit", "start to exit", "ms", true, false)
	md := sc.metric("delete", "delete (stopped)", "ms", true, true)
	mcy := sc.metric("cycle", "whole cycle", "ms", true, true)
	mcpu := sc.metric("cycle-cpu", "CPU time (user+sys) per cycle", "ms", true, false)
	mccpu := sc.metric("create-cpu", "CPU time of the create command", "ms", true, false)

	iter := func(r *Runtime, id string, warm bool) {
		pidFile := filepath.Join(b.work, id+".pid")
		c0 := childCPU()
		t0 := time.Now()
		rc := b.cmd(r, false, "create", "--pid-file", pidFile, "-b", r.bundles[bTrue], id)
		if !rc.ok() {
			sc.fail(r, mc, "create %s: %s (%s)", id, rc.failure(), b.explain(r, "create", r.bundles[bTrue], id))
			b.forceDelete(r, id)
			return
		}
		createCPU := childCPU() - c0
		pid, err := readPidFile(pidFile)
		if err != nil {
			sc.fail(r, mc, "create %s: %v", id, err)
			b.forceDelete(r, id)
			return
		}
		pfd, err := openPidfd(pid)
		if err != nil {
			sc.fail(r, mc, "create %s: %v", id, err)
			b.forceDelete(r, id)
			return
		}
		defer pfd.close()
		if warm {
			if st, err := b.state(r, id); err != nil || st.Status != "created" || st.Pid != pid {
				b.note("cycle: %s: after create, state = %+v (%v), want created with pid %d", r.Label, st, err, pid)
			}
		}
		rs := b.cmd(r, false, "start", id)
		tStarted := time.Now()
		if !rs.ok() {
			st, err := b.state(r, id)
			sc.fail(r, ms, "start %s: %s (then state %+v %v)", id, rs.failure(), st, err)
			b.forceDelete(r, id)
			return
		}
		if !pfd.wait(exitWait) {
			sc.fail(r, mw, "start %s: payload still running after %s", id, exitWait)
			b.forceDelete(r, id)
			return
		}
		wait := time.Since(tStarted)
		if warm {
			// How long until `state` says stopped (untimed, warm-up only).
			if d, err := b.waitStatus(r, id, "stopped", 5*time.Second); err != nil {
				b.note("cycle: %s: %v", r.Label, err)
			} else if d > 100*time.Millisecond {
				b.note("cycle: %s: state reported stopped only %s after the payload exited", r.Label, d.Round(time.Millisecond))
			}
		}
		rd := b.cmd(r, false, "delete", id)
		total := time.Since(t0)
		cpu := childCPU() - c0
		if !rd.ok() {
			st, err := b.state(r, id)
			sc.fail(r, md, "delete %s: %s (then state %+v %v)", id, rd.failure(), st, err)
			b.forceDelete(r, id)
			return
		}
		if warm {
			return
		}
		mc.addDur(r, rc.Dur)
		ms.addDur(r, rs.Dur)
		mw.addDur(r, wait)
		mse.addDur(r, rs.Dur+wait)
		md.addDur(r, rd.Dur)
		mcy.addDur(r, total)
		mcpu.addDur(r, cpu)
		mccpu.addDur(r, createCPU)
	}
	for _, r := range b.rts {
		iter(r, b.id("cycle-warm", r, 0), true)
	}
	for i := 0; i < b.c.Cycle; i++ {
		for _, r := range b.order(i) {
			iter(r, b.id("cycle", r, i), false)
		}
	}
	return sc, nil
}

// memContainer is one created container of the memory scenario.
type memContainer struct {
	r     *Runtime
	id    string
	pid   int
	added map[int]procInfo // processes that appeared below the bench with its create
}

// scenarioMemory: (3) PSS of what each runtime leaves running per created,
// not started container.
func (b *bench) scenarioMemory() (*Scenario, error) {
	n := b.c.Memory
	sc := newScenario(b, "memory", fmt.Sprintf("3. memory left per created (not started) container (%d containers per runtime)", n),
		"sum of Pss (and Rss) from /proc/<pid>/smaps_rollup over the container's processes: its init pid, every pid of its cgroup, "+
			"and every process that appeared below the bench with its create and still runs; measured once all containers exist")
	mp := sc.metric("pss", "PSS per container", "MiB", true, true)
	mr := sc.metric("rss", "RSS per container", "MiB", true, false)
	mn := sc.metric("procs", "processes per container", "count", true, false)
	var cs []*memContainer
	for i := 0; i < n; i++ {
		for _, r := range b.order(i) {
			id := b.id("mem", r, i)
			pidFile := filepath.Join(b.work, id+".pid")
			before := descendants()
			res := b.cmd(r, false, "create", "--pid-file", pidFile, "-b", r.bundles[bSleep], id)
			if !res.ok() {
				sc.fail(r, mp, "create %s: %s", id, res.failure())
				b.forceDelete(r, id)
				continue
			}
			pid, err := readPidFile(pidFile)
			if err != nil {
				sc.fail(r, mp, "create %s: %v", id, err)
				b.forceDelete(r, id)
				continue
			}
			// The init pid as `state` reports it must be the pid file's.
			if st, err := b.state(r, id); err != nil || st.Pid != pid || st.Status != "created" {
				b.note("memory: %s %s: state says pid %d status %q (%v), the pid file %d", r.Label, id, st.Pid, st.Status, err, pid)
			}
			c := &memContainer{r: r, id: id, pid: pid, added: map[int]procInfo{}}
			for p, pi := range descendants() {
				if _, ok := before[p]; !ok {
					c.added[p] = pi
				}
			}
			cs = append(cs, c)
		}
	}
	// Let transient processes settle.
	time.Sleep(200 * time.Millisecond)
	comms := map[string]map[string]int{}
	outside := map[string]int{}
	cgPaths := map[string]string{}
	for _, c := range cs {
		set := map[int]bool{c.pid: true}
		procs, path, err := cgroupProcs(c.pid)
		if err != nil {
			b.note("memory: %s %s: cgroup: %v", c.r.Label, c.id, err)
		}
		if _, ok := cgPaths[c.r.Label]; !ok {
			cgPaths[c.r.Label] = path
		}
		inCg := map[int]bool{}
		for _, p := range procs {
			set[p] = true
			inCg[p] = true
		}
		for p := range c.added {
			if _, ok := readProc(p); ok {
				set[p] = true
				if !inCg[p] {
					outside[c.r.Label]++
				}
			}
		}
		var pss, rss int64
		nproc := 0
		for p := range set {
			ps, rs, err := memOf(p)
			if err != nil {
				continue
			}
			pss += ps
			rss += rs
			nproc++
			pi, _ := readProc(p)
			if comms[c.r.Label] == nil {
				comms[c.r.Label] = map[string]int{}
			}
			comms[c.r.Label][pi.Comm]++
		}
		if nproc == 0 {
			sc.fail(c.r, mp, "%s: no process to measure (init %d)", c.id, c.pid)
			continue
		}
		mp.add(c.r, float64(pss)/(1<<20))
		mr.add(c.r, float64(rss)/(1<<20))
		mn.add(c.r, float64(nproc))
	}
	for _, r := range b.rts {
		var l []string
		for comm, k := range comms[r.Label] {
			l = append(l, fmt.Sprintf("%s x%d", comm, k))
		}
		sort.Strings(l)
		sc.Info["processes of "+r.Label] = strings.Join(l, ", ") + fmt.Sprintf("; cgroup e.g. %s; outside the cgroup: %d", cgPaths[r.Label], outside[r.Label])
	}
	// Tear down, interleaved.
	parallel(len(cs), 1, func(i int) {
		c := cs[i]
		if res := b.cmd(c.r, true, "delete", "--force", c.id); !res.ok() {
			sc.fail(c.r, nil, "delete --force %s: %s", c.id, res.failure())
		}
	})
	return sc, nil
}

// scenarioBurst: (4) containers created and started with parallelism 8,
// then killed and deleted with the same parallelism.
func (b *bench) scenarioBurst() (*Scenario, error) {
	n, par, rounds := b.c.Burst, b.c.BurstPar, b.c.BurstRound
	sc := newScenario(b, "burst", fmt.Sprintf("4. burst: %d containers (sleep) created+started with parallelism %d, then killed and deleted (%d round(s) per runtime)", n, par, rounds),
		"up = create --pid-file + start per container; down = kill KILL, wait for the exit (pidfd), delete; rates = containers done / wall time of the phase")
	mup := sc.metric("burst-up-rate", "burst up rate", "containers/s", false, true)
	mdown := sc.metric("burst-down-rate", "burst down rate", "containers/s", false, true)
	mul := sc.metric("burst-up-latency", "create+start latency in burst", "ms", true, false)
	mdl := sc.metric("burst-down-latency", "kill+delete latency in burst", "ms", true, false)
	for round := 0; round < rounds; round++ {
		for _, r := range b.order(round) {
			ids := make([]string, n)
			pfds := make([]pidfd, n)
			up := make([]bool, n)
			for i := range ids {
				ids[i] = b.id(fmt.Sprintf("burst%d", round), r, i)
				pfds[i] = -1
			}
			var okUp, okDown int
			var mu sync.Mutex
			t0 := time.Now()
			parallel(n, par, func(i int) {
				id := ids[i]
				pidFile := filepath.Join(b.work, id+".pid")
				s := time.Now()
				rc := b.cmd(r, false, "create", "--pid-file", pidFile, "-b", r.bundles[bSleep], id)
				if !rc.ok() {
					sc.fail(r, mup, "create %s: %s", id, rc.failure())
					return
				}
				rs := b.cmd(r, true, "start", id)
				if !rs.ok() {
					sc.fail(r, mup, "start %s: %s", id, rs.failure())
					return
				}
				mul.addDur(r, time.Since(s))
				mu.Lock()
				okUp++
				up[i] = true
				mu.Unlock()
			})
			upWall := time.Since(t0)
			if okUp > 0 {
				mup.add(r, float64(okUp)/upWall.Seconds())
			}
			// Untimed: handles on the payloads, to see them exit.
			for i, id := range ids {
				if !up[i] {
					continue
				}
				pid, err := readPidFile(filepath.Join(b.work, id+".pid"))
				if err == nil {
					pfds[i], err = openPidfd(pid)
				}
				if err != nil {
					sc.fail(r, mdown, "%s: %v", id, err)
					up[i] = false
				}
			}
			t1 := time.Now()
			parallel(n, par, func(i int) {
				if !up[i] {
					return
				}
				id := ids[i]
				s := time.Now()
				if rk := b.cmd(r, true, "kill", id, "KILL"); !rk.ok() {
					sc.fail(r, mdown, "kill %s: %s", id, rk.failure())
					return
				}
				if !pfds[i].wait(exitWait) {
					sc.fail(r, mdown, "kill %s: payload still running after %s", id, exitWait)
					return
				}
				if rd := b.cmd(r, true, "delete", id); !rd.ok() {
					sc.fail(r, mdown, "delete %s: %s", id, rd.failure())
					return
				}
				mdl.addDur(r, time.Since(s))
				mu.Lock()
				okDown++
				mu.Unlock()
			})
			downWall := time.Since(t1)
			if okDown > 0 {
				mdown.add(r, float64(okDown)/downWall.Seconds())
			}
			for i := range ids {
				if pfds[i] >= 0 {
					pfds[i].close()
				}
			}
			// Whatever failed is removed outside the timing.
			if okDown < n {
				ids2, _ := b.listIDs(r)
				for _, id := range ids {
					if contains(ids2, id) {
						b.forceDelete(r, id)
					}
				}
			}
			key := fmt.Sprintf("round %d %s", round+1, r.Label)
			sc.Info[key] = fmt.Sprintf("up %d/%d in %s, down %d/%d in %s", okUp, n, upWall.Round(time.Millisecond), okDown, okUp, downWall.Round(time.Millisecond))
		}
	}
	return sc, nil
}

// scenarioListing: (5) `list` and `state` with no container and with many
// (created, not started) containers.
func (b *bench) scenarioListing() (*Scenario, error) {
	many, iters := b.c.ListMany, b.c.ListIter
	sc := newScenario(b, "listing", fmt.Sprintf("5. list and state with 0 and %d containers (%d iterations each)", many, iters),
		fmt.Sprintf("list = `list` (table) to /dev/null; state = `state <id>` of one created container, alone or among %d created containers of the same runtime", many))
	ml0 := sc.metric("list-0", "list, 0 containers", "ms", true, true)
	ms1 := sc.metric("state-1", "state, 1 container", "ms", true, true)
	mlN := sc.metric(fmt.Sprintf("list-%d", many), fmt.Sprintf("list, %d containers", many), "ms", true, true)
	msN := sc.metric(fmt.Sprintf("state-%d", many), fmt.Sprintf("state, %d containers", many), "ms", true, true)
	timed := func(m *Metric, r *Runtime, args ...string) {
		res := b.cmd(r, false, args...)
		if res.ok() {
			m.addDur(r, res.Dur)
		} else {
			sc.fail(r, m, "%s: %s", strings.Join(args, " "), res.failure())
		}
	}
	for i := 0; i < iters; i++ {
		for _, r := range b.order(i) {
			timed(ml0, r, "list")
		}
	}
	// The container whose state is asked: created, never started.
	solo := map[*Runtime]string{}
	for _, r := range b.rts {
		id := b.id("list", r, 0)
		if res := b.cmd(r, false, "create", "-b", r.bundles[bSleep], id); !res.ok() {
			sc.fail(r, nil, "create %s: %s", id, res.failure())
			continue
		}
		solo[r] = id
	}
	for i := 0; i < iters; i++ {
		for _, r := range b.order(i) {
			if id, ok := solo[r]; ok {
				timed(ms1, r, "state", id)
			}
		}
	}
	// Fill up to `many` containers per runtime, interleaved (untimed).
	type job struct {
		r  *Runtime
		id string
	}
	var jobs []job
	for i := 1; i < many; i++ {
		for _, r := range b.order(i) {
			jobs = append(jobs, job{r, b.id("list", r, i)})
		}
	}
	t0 := time.Now()
	parallel(len(jobs), 4, func(i int) {
		j := jobs[i]
		if res := b.cmd(j.r, false, "create", "-b", j.r.bundles[bSleep], j.id); !res.ok() {
			sc.fail(j.r, nil, "create %s: %s", j.id, res.failure())
		}
	})
	sc.Info["setup"] = fmt.Sprintf("%d containers created in %s (parallelism 4)", len(jobs), time.Since(t0).Round(time.Millisecond))
	for _, r := range b.rts {
		ids, err := b.listIDs(r)
		if err != nil || len(ids) != many {
			b.note("listing: %s lists %d containers, want %d (%v)", r.Label, len(ids), many, err)
		}
	}
	for i := 0; i < iters; i++ {
		for _, r := range b.order(i) {
			timed(mlN, r, "list")
			if id, ok := solo[r]; ok {
				timed(msN, r, "state", id)
			}
		}
	}
	// Tear down.
	var all []job
	for i := 0; i < many; i++ {
		for _, r := range b.order(i) {
			all = append(all, job{r, b.id("list", r, i)})
		}
	}
	t1 := time.Now()
	parallel(len(all), 4, func(i int) {
		j := all[i]
		res := b.cmd(j.r, true, "delete", "--force", j.id)
		if !res.ok() {
			if ids, err := b.listIDs(j.r); err == nil && contains(ids, j.id) {
				sc.fail(j.r, nil, "delete --force %s: %s", j.id, res.failure())
			}
		}
	})
	sc.Info["teardown"] = fmt.Sprintf("%d containers deleted (--force) in %s (parallelism 4)", len(all), time.Since(t1).Round(time.Millisecond))
	return sc, nil
}

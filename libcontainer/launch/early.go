package launch

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	cg "github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/planner"
)

// startsEarly tells whether the executor can be started before the cgroup
// is made: not when systemd places it once it runs, nor rootless, where
// only making the cgroup tells whether there is one.
func (c *initProcess) startsEarly() bool {
	return !c.opts.Systemd && !c.opts.Rootless
}

// spawnEarly starts the executor now, to wait for its plan, when it can be
// started before the cgroup is made. It is started into the cgroup2
// directory (CLONE_INTO_CGROUP) and moves itself into the v1 ones.
func (c *initProcess) spawnEarly(in *planner.Input) (bool, error) {
	if !c.startsEarly() {
		return false, nil
	}
	unified, err := c.makeUnifiedDir()
	if err != nil {
		return false, err
	}
	env, err := c.preludeEnv(in)
	if err != nil {
		return false, err
	}
	if err := c.spawn(unified, env...); err != nil {
		return false, err
	}
	return true, nil
}

// preludeEnv says what the executor does before it has its plan (executor/entry.c's
// prelude): in the memory cgroup first, so that the namespaces are charged
// to the container, then unshare the new namespaces when nothing has to
// come before (no namespace to join). A new user namespace is unshared
// with the others (which it then owns, as when they follow it in the
// plan); the plan still has us write its id maps before the executor
// takes uid 0. The executor's kernel uid is still the caller's, so it can
// join the other v1 cgroups from inside it. The cgroup namespace waits for
// the plan: its root is the cgroup at unshare time.
func (c *initProcess) preludeEnv(in *planner.Input) ([]string, error) {
	var env []string
	flags := c.ns.New &^ (unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME)
	if len(c.ns.Joins) > 0 || flags == 0 || len(in.NoPivotCovers) > 0 {
		return nil, nil // (the covers go before the user namespace: planner)
	}
	if !cg.IsCgroup2UnifiedMode() {
		dir, ok := c.cgm.GetPaths()["memory"]
		if !ok {
			return nil, nil // v1 without a memory hierarchy: the namespaces wait for the plan
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("linux.cgroupsPath: %w", err)
		}
		env = append(env, "_OCIRT_PRELUDE_JOIN="+filepath.Join(dir, "tasks"))
	}
	in.PreludeUnshared = flags
	return append(env, "_OCIRT_PRELUDE_UNSHARE="+strconv.Itoa(flags)), nil
}

// cgroupLate says whether the plan may reach the executor before the
// cgroup is made (planner.Input.CgroupLate). Not when the executor must be
// in the cgroup before it changes identity or enters other mounts (a user
// namespace, namespaces to join): its first step joins the cgroup then.
// And only when its prelude ran (it is in the memory or unified cgroup
// already, where a failed create finds and kills the container's process)
// in a mount namespace of its own (whose mounts go with it). Nor when the
// process asks the runtime for something while it mounts: it would take
// the early answer for its own.
func (c *initProcess) cgroupLate(in *planner.Input) bool {
	return c.startsEarly() && in.PreludeUnshared != 0 && len(c.ns.Joins) == 0 &&
		!c.ns.IsNew(specs.UserNamespace) && c.ns.IsNew(specs.MountNamespace) && !planner.AsksHost(c.spec)
}

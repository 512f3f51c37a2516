package cgroups

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/oci-rt/oci-rt/libcontainer/errmsg"
)

// ParseSubCgroups reads exec's --cgroup arguments, runc's syntax: one
// plain path (every hierarchy: cgroup v2, or all of v1 and the hybrid
// unified one), or controller[,controller...]:path for v1 controllers.
// The result maps a controller ("" for the plain path) to its path.
func ParseSubCgroups(args []string) (map[string]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(args))
	for _, a := range args {
		ctrls, sub, ok := strings.Cut(a, ":")
		if !ok {
			if len(args) != 1 {
				return nil, fmt.Errorf("--cgroup %q: a path without a controller must be the only --cgroup", errmsg.Value(a))
			}
			out[""] = a
			continue
		}
		for _, c := range strings.Split(ctrls, ",") {
			if c == "" {
				return nil, fmt.Errorf("--cgroup %q: empty controller name", errmsg.Value(a))
			}
			if _, dup := out[c]; dup {
				return nil, fmt.Errorf("--cgroup %q: controller %s given twice", errmsg.Value(a), c)
			}
			out[c] = sub
		}
	}
	return out, nil
}

// SubCgroupPaths applies subs (from ParseSubCgroups) to the container's
// cgroup paths (controller -> directory, "" the cgroup2 one): a plain
// path moves every entry, a controller's only its own. Each sub-cgroup
// must exist and stay inside the container's cgroup.
func SubCgroupPaths(paths, subs map[string]string) (map[string]string, error) {
	out := maps.Clone(paths)
	for ctrl, sub := range subs {
		arg := sub
		if ctrl != "" {
			arg = ctrl + ":" + sub
		}
		rel := filepath.Clean("/" + sub)
		if rel != "/"+strings.Trim(sub, "/") {
			return nil, fmt.Errorf("--cgroup %q: the sub-cgroup must be a plain path inside the container's cgroup", errmsg.Value(arg))
		}
		if ctrl == "" {
			for k, base := range paths {
				out[k] = filepath.Join(base, rel)
			}
			continue
		}
		// a v1 hierarchy's key is the library's name for its controller
		// ("memory", "cpu", "name=systemd"...)
		base, ok := paths[ctrl]
		if !ok {
			return nil, fmt.Errorf("--cgroup %q: the container has no cgroup for controller %s", errmsg.Value(arg), ctrl)
		}
		out[ctrl] = filepath.Join(base, rel)
	}
	for k, dir := range out {
		if dir == paths[k] {
			continue
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--cgroup: no sub-cgroup %s (make it first)", errmsg.Value(dir))
		}
	}
	return out, nil
}

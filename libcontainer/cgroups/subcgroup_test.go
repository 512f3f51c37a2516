package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSubCgroups(t *testing.T) {
	for _, c := range []struct {
		args []string
		want map[string]string
		err  string
	}{
		{nil, nil, ""},
		{[]string{"sub"}, map[string]string{"": "sub"}, ""},
		{[]string{"memory,pids:a/b", "cpu:c"}, map[string]string{"memory": "a/b", "pids": "a/b", "cpu": "c"}, ""},
		{[]string{"sub", "other"}, nil, "only --cgroup"},
		{[]string{",memory:x"}, nil, "empty controller"},
		{[]string{"memory:x", "memory:y"}, nil, "given twice"},
	} {
		got, err := ParseSubCgroups(c.args)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "--cgroup") {
				t.Errorf("%q: error %v, want one naming --cgroup and %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil || len(got) != len(c.want) {
			t.Errorf("%q: %v %v, want %v", c.args, got, err, c.want)
			continue
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%q: %q -> %q, want %q", c.args, k, got[k], v)
			}
		}
	}
}

func TestSubCgroupPaths(t *testing.T) {
	root := t.TempDir()
	paths := map[string]string{}
	for _, k := range []string{"memory", "pids", ""} {
		d := filepath.Join(root, "h"+k, "ctr")
		os.MkdirAll(filepath.Join(d, "sub"), 0o755)
		paths[k] = d
	}
	got, err := SubCgroupPaths(paths, map[string]string{"": "sub"})
	if err != nil {
		t.Fatal(err)
	}
	for k, d := range paths {
		if got[k] != d+"/sub" {
			t.Errorf("plain path: %q -> %q, want %q", k, got[k], d+"/sub")
		}
	}
	got, err = SubCgroupPaths(paths, map[string]string{"memory": "/sub/"})
	if err != nil || got["memory"] != paths["memory"]+"/sub" || got["pids"] != paths["pids"] || got[""] != paths[""] {
		t.Errorf("memory:/sub/: %v %v", got, err)
	}
	for sub, want := range map[string]string{"../x": "plain path", "a/../sub": "plain path", ".": "plain path", "missing": "no sub-cgroup"} {
		if _, err := SubCgroupPaths(paths, map[string]string{"": sub}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", sub, err, want)
		}
	}
	if _, err := SubCgroupPaths(paths, map[string]string{"cpu": "sub"}); err == nil || !strings.Contains(err.Error(), "controller cpu") {
		t.Errorf("cpu:sub without a cpu hierarchy: %v", err)
	}
}

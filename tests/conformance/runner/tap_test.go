package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/oci-rt/oci-rt/tests/conformance/runner/cgroupv1"
)

// Outputs below are trimmed copies of what runtime-tools' validation
// programs print.

const tapCreateOK = `TAP version 13
ok 1 - create MUST generate an error if the ID is not provided
  ---
  {
    "error": "exit status 1",
    "reference": "https://github.com/opencontainers/runtime-spec/blob/v1.1.0/runtime.md#create",
    "stderr": "oci-rt: create: exactly one container ID is required\n"
  }
  ...
ok 2 - create MUST create a new container
  ---
  {
    "reference": "https://github.com/opencontainers/runtime-spec/blob/v1.1.0/runtime.md#create"
  }
  ...
1..2
`

const tapHooksUnattached = `TAP version 13
  ---
  {
    "error": "Hooks MUST be called in the listed order\nRefer to: https://github.com/opencontainers/runtime-spec/blob/v1.1.0/config.md#posix-platform-hooks"
  }
  ...
1..0
`

const tapDeleteNotOK = `TAP version 13
ok 1 - first
not ok 2 - attempting to ` + "`delete`" + ` a container that is not ` + "`stopped`" + ` MUST generate an error
  ---
  {
    "reference": "https://github.com/opencontainers/runtime-spec/blob/v1.1.0/runtime.md#delete"
  }
  ...
not ok 3 - devices c 10:229 rwm is set correctly
# expect: c 10:229 rwm, actual: b 0:0 m
# The runtime MUST apply entries in the listed order
1..3
`

const tapUnableToGet = `TAP version 13
ok 1 - find cpu cgroup
ok 2 - get cpu cgroup data
# unable to get cpu shares, lcd.Shares == <nil>, config.Linux.Resources.CPU.Shares == 0xc0000
1..2
`

const tapExpectNote = `TAP version 13
ok 1 - cpus shares limit is set correctly
# expect: 1024, actual: 20884415848856
ok 2 - cpus cpus is set correctly
# expect: 0-1, actual: 0-1
1..2
`

const tapHostnameYAMLFirst = `TAP version 13
  ---
  {
    "stderr": "",
    "stdout": "TAP version 13\nok 1 - has expected hostname\n1..1\n"
  }
  ...
ok 1 - check hostname ""
ok 2 - hostname is set correctly
1..2
`

const tapStateMultiline = `TAP version 13
ok 1 - state MUST generate an error if it is not provided the ID of a container
Refer to: https://github.com/opencontainers/runtime-spec/blob/v1.1.0/runtime.md#query-state
  ---
  {
    "error": "exit status 1",
    "stderr": "oci-rt: state: expects exactly one container id, got 0 arguments\n"
  }
  ...
1..1
`

func TestClassifyTAP(t *testing.T) {
	cases := []struct {
		name      string
		stdout    string
		stderr    string
		rc        int
		timedOut  bool
		pass      bool
		ok, total int
		reason    string // a substring of the joined reasons when failing
	}{
		{name: "all ok with expected-error diagnostics", stdout: tapCreateOK, pass: true, ok: 2, total: 2},
		{name: "unattached error diagnostic", stdout: tapHooksUnattached, reason: "Hooks MUST be called in the listed order"},
		{name: "multi-line description, then its diagnostic", stdout: tapStateMultiline, pass: true, ok: 1, total: 1},
		{name: "hook never ran: warning on stderr", stdout: "TAP version 13\n1..0\n", stderr: "WARNING: The poststop hook invoke fails\n", reason: "poststop hook invoke fails"},
		{name: "empty plan", stdout: "TAP version 13\n1..0\n", pass: true},
		{name: "negative test: no output, create refused", stderr: "failed to create the container\noci-rt: bad rlimit\n", pass: true},
		{name: "not ok with # context", stdout: tapDeleteNotOK, ok: 1, total: 3, reason: "The runtime MUST apply entries in the listed order"},
		{name: "failure only as # diagnostic", stdout: tapUnableToGet, ok: 2, total: 2, reason: "unable to get cpu shares"},
		{name: "expect/actual notes after ok lines", stdout: tapExpectNote, pass: true, ok: 2, total: 2},
		{name: "diagnostic before the test line", stdout: tapHostnameYAMLFirst, pass: true, ok: 2, total: 2},
		{name: "exit status", stdout: "TAP version 13\n", stderr: "Any value which cannot be mapped MUST cause an error\n", rc: 1, reason: "exit status 1: Any value"},
		{name: "timeout", stdout: "TAP version 13\nok 1 - a\n", rc: -1, timedOut: true, ok: 1, total: 1, reason: "timed out"},
		{name: "plan mismatch", stdout: "TAP version 13\nok 1 - a\n1..3\n", ok: 1, total: 1, reason: "plan 1..3 but 1 test lines"},
		{name: "no plan", stdout: "TAP version 13\nok 1 - a\n", ok: 1, total: 1, reason: "no TAP plan"},
		// linux_cgroups_hugetlb: one document for the page sizes, one for the bad page size
		{name: "two documents, each with its plan", stdout: "TAP version 13\nok 1 - a\nok 2 - b\n1..2\nTAP version 13\nok 1 - c\n1..1\n",
			stderr: "failed to create the container\n", pass: true, ok: 3, total: 3},
		{name: "two documents, the second short of its plan", stdout: "TAP version 13\nok 1 - a\n1..1\nTAP version 13\nok 1 - c\n1..2\n",
			ok: 2, total: 2, reason: "TAP document 2: plan 1..2 but 1 test lines"},
		{name: "two documents, the second without a plan", stdout: "TAP version 13\nok 1 - a\n1..1\nTAP version 13\nok 1 - c\n",
			ok: 2, total: 2, reason: "TAP document 2: no TAP plan line"},
		{name: "skip and todo", stdout: "ok 1 - a # SKIP no apparmor\nnot ok 2 - b # TODO later\n1..2\n", pass: true, ok: 2, total: 2},
		{name: "stray error line", stdout: "TAP version 13\nerror: cannot find cgroup\n1..0\n", reason: "error: cannot find cgroup"},
		{name: "panic on stderr", stdout: "TAP version 13\n1..0\n", stderr: "panic: runtime error: index out of range\n", reason: "Go panic"},
		{name: "non-TAP note", stdout: "TAP version 13\n<nil>\nok 1 - a\n1..1\n", pass: true, ok: 1, total: 1},
		{name: "stderr kept with a failing verdict", stdout: "TAP version 13\nnot ok 1 - cannot run validation tests: exit status 1\n1..1\n",
			stderr: "failed to create the container\noci-rt: linux.namespaces: a new mount namespace is required\n", total: 1,
			reason: "stderr: failed to create the container | oci-rt: linux.namespaces"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := classifyTAP([]byte(c.stdout), []byte(c.stderr), c.rc, c.timedOut)
			if v.Pass != c.pass || v.OK != c.ok || v.Total != c.total {
				t.Fatalf("got pass=%v %d/%d reasons=%q, want pass=%v %d/%d", v.Pass, v.OK, v.Total, v.Reasons, c.pass, c.ok, c.total)
			}
			joined := strings.Join(v.Reasons, " || ")
			if c.pass && joined != "" {
				t.Fatalf("passing verdict with reasons %q", joined)
			}
			if !c.pass && !strings.Contains(joined, c.reason) {
				t.Fatalf("reasons %q do not mention %q", joined, c.reason)
			}
		})
	}
}

func TestClassifyTAPNotOKDetail(t *testing.T) {
	v := classifyTAP([]byte(tapDeleteNotOK), nil, 0, false)
	if len(v.Failures) != 2 {
		t.Fatalf("failures %+v, want 2", v.Failures)
	}
	if f := v.Failures[1]; !f.NotOK || f.Number != 3 || !strings.Contains(f.Detail, "actual: b 0:0 m") {
		t.Fatalf("second failure %+v lacks its # diagnostics", f)
	}
	if v.Plan != 3 {
		t.Fatalf("plan %d, want 3", v.Plan)
	}
}

func TestValidationMains(t *testing.T) {
	src := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(src, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("validation/create/create.go", "// comment\npackage main\n")
	write("validation/util/test.go", "package util\n")
	write("validation/kill.go", "package main\n")
	write("validation/helper_test.go", "package main\n")
	got, err := validationMains(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"create": "./validation/create", "kill": "./validation/kill.go"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := validationMains(t.TempDir()); err == nil {
		t.Fatal("no error for a tree without validation/")
	}
}

func TestCellAndMountinfo(t *testing.T) {
	if got := cell(&programResult{Pass: true, OK: 4, Total: 4}); got != "PASS 4/4 rc=0" {
		t.Fatalf("cell %q", got)
	}
	if got := cell(&programResult{OK: 1, Total: 3, ExitCode: -1, TimedOut: true}); got != "fail 1/3 timeout" {
		t.Fatalf("cell %q", got)
	}
	if got := cgroupv1.UnescapeMountinfo(`/tmp/a\040b`); got != "/tmp/a b" {
		t.Fatalf("unescape %q", got)
	}
}

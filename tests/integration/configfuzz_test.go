package integration

// A fuzz test of config.json as create sees it: random mutations of a valid
// config (a key removed, a value of another type, a huge or path-like
// string, an element repeated...) give success or a one-line error, never a
// panic, a hang or anything left behind. OCIRT_FUZZ_N sets the number of
// configs (20 by default), OCIRT_FUZZ_SEED replays a run.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuzzSkip are keys never mutated: hooks would run what a mutation names,
// and a cgroupsPath mutated to "/" or a host cgroup is not the test's.
var fuzzSkip = map[string]bool{"hooks": true, "cgroupsPath": true}

var fuzzStrings = []string{"", "/", ".", "..", "../../../../etc", "/proc/self/fd/0", "/dev/null", "a\x00b",
	"\xff\xfe", "relative/path", "/proc", "/sys/kernel", strings.Repeat("/x", 70000), "rbind", "ro", "-1", "tmpfs"}

func fuzzValue(r *rand.Rand) interface{} {
	switch r.Intn(9) {
	case 0:
		return nil
	case 1:
		return r.Intn(2) == 0
	case 2:
		return []float64{0, -1, 1, 4294967295, 4294967296, -9223372036854775808, 1e300, 0.5}[r.Intn(8)]
	case 3:
		return []interface{}{}
	case 4:
		return map[string]interface{}{}
	case 5:
		return []interface{}{fuzzStrings[r.Intn(len(fuzzStrings))]}
	default:
		return fuzzStrings[r.Intn(len(fuzzStrings))]
	}
}

// fuzzMutate changes one random place of the JSON tree v.
func fuzzMutate(r *rand.Rand, v interface{}) interface{} {
	switch x := v.(type) {
	case map[string]interface{}:
		var keys []string
		for k := range x {
			if !fuzzSkip[k] {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			return x
		}
		sort.Strings(keys)
		k := keys[r.Intn(len(keys))]
		switch r.Intn(6) {
		case 0:
			delete(x, k)
		case 1:
			x[k] = fuzzValue(r)
		default:
			x[k] = fuzzMutate(r, x[k])
		}
		return x
	case []interface{}:
		if len(x) == 0 {
			return append(x, fuzzValue(r))
		}
		i := r.Intn(len(x))
		switch r.Intn(5) {
		case 0:
			return append(x[:i], x[i+1:]...)
		case 1:
			return append(x, x[i])
		default:
			x[i] = fuzzMutate(r, x[i])
			return x
		}
	default:
		if r.Intn(3) == 0 {
			return v
		}
		return fuzzValue(r)
	}
}

func TestFuzzCreateConfig(t *testing.T) {
	n := 20
	if v, err := strconv.Atoi(os.Getenv("OCIRT_FUZZ_N")); err == nil && v > 0 {
		n = v
	}
	seed := time.Now().UnixNano()
	if s, err := strconv.ParseInt(os.Getenv("OCIRT_FUZZ_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("OCIRT_FUZZ_SEED=%d", seed)
	r := rand.New(rand.NewSource(seed))
	e := NewEnv(t)
	b := e.Bundle([]string{"sleep", "1000"}, nil)
	base, err := os.ReadFile(filepath.Join(b, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	created, refused := 0, 0
	for i := 0; i < n; i++ {
		var v interface{}
		json.Unmarshal(base, &v)
		for k := 1 + r.Intn(3); k > 0; k-- {
			v = fuzzMutate(r, v)
		}
		cfg, _ := json.Marshal(v)
		if err := os.WriteFile(filepath.Join(b, "config.json"), cfg, 0o644); err != nil {
			t.Fatal(err)
		}
		id := escID("fuzz")
		what := fmt.Sprintf("config %d (%.300s)", i, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out, _ := os.Create(filepath.Join(e.Dir, "fuzz.out"))
		cmd := exec.CommandContext(ctx, binary, "--root", e.Root, "create", "-b", b, id)
		errPath := filepath.Join(e.Dir, "fuzz.err")
		errf, _ := os.Create(errPath)
		// files, not pipes: a created container keeps its stdio open
		cmd.Stdout, cmd.Stderr = out, errf
		err := cmd.Run()
		hung := ctx.Err() == context.DeadlineExceeded
		cancel()
		out.Close()
		errf.Close()
		stderr, _ := os.ReadFile(errPath)
		if hung {
			t.Errorf("%s: create hung (killed after 20s)", what)
		}
		// warnings (an unknown capability is ignored with one, as runc
		// 1.5 does) are lines of their own; the error is one line
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(string(stderr)), "\n") {
			if !strings.Contains(l, "level=warning") {
				lines = append(lines, l)
			}
		}
		msg := strings.Join(lines, "\n")
		if strings.Contains(msg, "panic") || strings.Contains(msg, "goroutine ") {
			t.Errorf("%s: create panicked: %.2000s", what, msg)
		} else if err != nil && (msg == "" || strings.Contains(msg, "\n")) {
			t.Errorf("%s: want one error line, got %q", what, msg)
		} else if len(msg) > 2048 {
			t.Errorf("%s: error line of %d bytes", what, len(msg))
		}
		if err != nil {
			refused++
		} else {
			created++
			if r := e.Run("delete", "--force", id); r.Code != 0 {
				t.Errorf("%s: delete --force: %s", what, r.Stderr)
			}
		}
		failed := t.Failed()
		lcAssertRemoved(t, e, id, b)
		if !failed && t.Failed() {
			t.Logf("%s: left behind (err %v, stderr %q)", what, err, msg)
		}
	}
	os.WriteFile(filepath.Join(b, "config.json"), base, 0o644)
	t.Logf("%d configs: %d created, %d refused in one line", n, created, refused)
}

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// tapFailure is one failing test line of a program's TAP output, with the
// diagnostics that belong to it.
type tapFailure struct {
	NotOK  bool   `json:"not_ok"` // a "not ok" test line; otherwise a signal outside test lines
	Number int    `json:"number,omitempty"`
	Desc   string `json:"desc"`
	Detail string `json:"detail,omitempty"`
}

// tapVerdict is what the output of one validation program says.
type tapVerdict struct {
	Pass  bool // exit status 0, no failure signal at all
	OK    int  // "ok" test lines (skips included)
	Total int  // test lines, "ok" and "not ok"
	Plan  int  // N of the "1..N" plan line (the sum over the documents), -1 without one
	// Failures are the "not ok" lines (in order) and the failure signals
	// that are not attached to a test line: an unattached YAML diagnostic
	// carrying an "error", a "#" diagnostic outside a failed test that is
	// not an "expect: …, actual: …" note, a stray "error:"/"panic:" line,
	// a "WARNING:" line on stderr.
	Failures []tapFailure
	// Reasons summarise why the program failed, first the exit status.
	Reasons []string
	// Notes are stdout lines that are not TAP and not failure signals.
	Notes []string
}

var (
	tapTestRe   = regexp.MustCompile(`^(not )?ok\b\s*(\d*)\s*(?:-\s*)?(.*)$`)
	tapPlanRe   = regexp.MustCompile(`^1\.\.(\d+)`)
	tapExpectRe = regexp.MustCompile(`^expect: .*, actual: .*$`)
	tapStrayRe  = regexp.MustCompile(`(?i)^(panic|fatal error|error)\b\s*:?`)
)

// tapDirective returns the lower-cased directive ("skip", "todo") of a test
// description, "" when there is none.
func tapDirective(desc string) string {
	i := strings.LastIndex(desc, "#")
	if i < 0 {
		return ""
	}
	d := strings.Fields(strings.ToLower(desc[i+1:]))
	if len(d) == 0 {
		return ""
	}
	if strings.HasPrefix(d[0], "skip") {
		return "skip"
	}
	if strings.HasPrefix(d[0], "todo") {
		return "todo"
	}
	return ""
}

// tapYAMLDetail turns a diagnostic block (tap-go writes JSON between "---"
// and "...") into a one-line summary of its interesting keys, and reports
// whether it carries a non-empty "error".
func tapYAMLDetail(block []string) (detail string, hasError bool) {
	text := strings.Join(block, "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		// Not JSON: fall back to the raw text.
		flat := oneLine(text, 300)
		return flat, strings.Contains(text, "error")
	}
	var parts []string
	for _, k := range []string{"error", "stderr", "expected", "actual", "message", "stdout"} {
		v, ok := m[k]
		if !ok {
			continue
		}
		s := fmt.Sprint(v)
		if b, err := json.Marshal(v); err == nil {
			if _, isStr := v.(string); !isStr {
				s = string(b)
			}
		}
		if strings.TrimSpace(s) == "" {
			continue
		}
		if k == "error" {
			hasError = true
		}
		if k == "stdout" && len(parts) > 0 {
			continue // inner TAP; only useful when nothing else explains
		}
		parts = append(parts, k+": "+oneLine(s, 300))
	}
	return strings.Join(parts, "; "), hasError
}

// oneLine joins the non-empty lines of s with " | " and cuts it to max runes.
func oneLine(s string, max int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	r := []rune(strings.Join(out, " | "))
	if max > 0 && len(r) > max {
		return string(r[:max]) + "…"
	}
	return string(r)
}

// tapDoc is one TAP document: a program may print several, each from its
// own "TAP version" line with its own plan (linux_cgroups_hugetlb does).
type tapDoc struct {
	plan, tests int
}

// classifyTAP judges one program run from its stdout, stderr and exit code
// (-1 when it was killed or could not run). timedOut marks a run killed at
// the per-program timeout.
func classifyTAP(stdout, stderr []byte, exitCode int, timedOut bool) tapVerdict {
	v := tapVerdict{Plan: -1}
	docs := []tapDoc{{plan: -1}}
	doc := func() *tapDoc { return &docs[len(docs)-1] }
	var (
		inYAML       bool
		yamlAttached bool // the block follows a test line directly
		yamlBlock    []string
		lastKind     string // "test", "yaml", "comment", "other", "" at the start
		lastFailed   = -1   // index into v.Failures of the last "not ok", -1 after an "ok"
	)
	addDetail := func(i int, s string) {
		if s == "" {
			return
		}
		if v.Failures[i].Detail != "" {
			v.Failures[i].Detail += "; "
		}
		v.Failures[i].Detail += s
	}
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if inYAML {
			if trimmed == "..." {
				inYAML = false
				detail, hasError := tapYAMLDetail(yamlBlock)
				switch {
				case yamlAttached && lastFailed >= 0:
					addDetail(lastFailed, detail)
				case !yamlAttached && hasError:
					v.Failures = append(v.Failures, tapFailure{Desc: "error diagnostic outside a test line", Detail: detail})
				}
				lastKind = "yaml"
				continue
			}
			yamlBlock = append(yamlBlock, line)
			continue
		}
		switch {
		case trimmed == "":
			continue
		case trimmed == "---" && line != trimmed:
			inYAML = true
			yamlAttached = lastKind == "test"
			yamlBlock = nil
			continue
		case strings.HasPrefix(line, "TAP version"):
			lastKind = "other"
			if d := doc(); d.plan >= 0 || d.tests > 0 {
				docs = append(docs, tapDoc{plan: -1})
			}
			continue
		}
		if m := tapPlanRe.FindStringSubmatch(line); m != nil {
			doc().plan, _ = strconv.Atoi(m[1])
			lastKind = "other"
			continue
		}
		if m := tapTestRe.FindStringSubmatch(line); m != nil {
			v.Total++
			doc().tests++
			lastKind = "test"
			n, _ := strconv.Atoi(m[2])
			if m[1] == "" || tapDirective(m[3]) == "todo" {
				v.OK++
				lastFailed = -1
				continue
			}
			v.Failures = append(v.Failures, tapFailure{NotOK: true, Number: n, Desc: m[3]})
			lastFailed = len(v.Failures) - 1
			continue
		}
		if strings.HasPrefix(line, "#") {
			text := strings.TrimSpace(strings.TrimPrefix(line, "#"))
			lastKind = "comment"
			switch {
			case lastFailed >= 0:
				addDetail(lastFailed, text)
			case tapExpectRe.MatchString(text):
				// informational; the test line next to it decides
			case text == "":
			default:
				v.Failures = append(v.Failures, tapFailure{Desc: "diagnostic outside a failed test", Detail: text})
			}
			continue
		}
		if tapStrayRe.MatchString(trimmed) {
			lastKind = "other"
			v.Failures = append(v.Failures, tapFailure{Desc: "error line in the output", Detail: oneLine(trimmed, 300)})
			continue
		}
		if lastKind == "test" {
			// A multi-line description ("ok 1 - … MUST …\nRefer to:
			// …"): the diagnostic after it is still attached.
			continue
		}
		lastKind = "other"
		if len(v.Notes) < 20 {
			v.Notes = append(v.Notes, oneLine(trimmed, 300))
		}
	}
	if inYAML {
		detail, hasError := tapYAMLDetail(yamlBlock)
		if hasError {
			v.Failures = append(v.Failures, tapFailure{Desc: "unterminated error diagnostic", Detail: detail})
		}
	}

	var panicked string
	for _, l := range strings.Split(string(stderr), "\n") {
		if strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "fatal error:") {
			panicked = oneLine(l, 300)
			break
		}
		// poststart/poststop report a hook that never ran only this way.
		if strings.HasPrefix(l, "WARNING:") {
			v.Failures = append(v.Failures, tapFailure{Desc: "warning from the program", Detail: oneLine(l, 300)})
		}
	}

	switch {
	case timedOut:
		v.Reasons = append(v.Reasons, "timed out")
	case exitCode != 0:
		v.Reasons = append(v.Reasons, fmt.Sprintf("exit status %d: %s", exitCode, oneLine(string(stderr), 500)))
	}
	if panicked != "" && exitCode == 0 {
		v.Reasons = append(v.Reasons, "Go panic: "+panicked)
	}
	for i, d := range docs {
		which := ""
		if len(docs) > 1 {
			which = fmt.Sprintf("TAP document %d: ", i+1)
		}
		if d.plan >= 0 {
			v.Plan = max(v.Plan, 0) + d.plan
		}
		if d.plan > 0 && d.plan != d.tests {
			v.Reasons = append(v.Reasons, fmt.Sprintf("%splan 1..%d but %d test lines", which, d.plan, d.tests))
		}
		if d.plan < 0 && d.tests > 0 && exitCode == 0 && !timedOut {
			v.Reasons = append(v.Reasons, which+"no TAP plan line")
		}
	}
	for _, f := range v.Failures {
		r := f.Desc
		if f.NotOK {
			r = fmt.Sprintf("not ok %d - %s", f.Number, f.Desc)
		}
		if f.Detail != "" {
			r += " [" + oneLine(f.Detail, 400) + "]"
		}
		v.Reasons = append(v.Reasons, r)
	}
	v.Pass = len(v.Reasons) == 0
	if !v.Pass && exitCode == 0 && !timedOut {
		// The runtime's own error messages land on stderr (the
		// programs copy them there): keep them next to the verdict.
		if s := oneLine(string(stderr), 500); s != "" {
			v.Reasons = append(v.Reasons, "stderr: "+s)
		}
	}
	return v
}

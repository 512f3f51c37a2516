package plan

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// planTestDecode is an independent reader of the wire format, written from
// the description in plan.h and the executor's parse_plan (readplan.c):
// "OCRTPLN1", u32 op count, then per op u32 code, u32 int count, u32 string count, the ints (int64) and
// the strings (u32 length, bytes, NUL).
func planTestDecode(b []byte) (magic string, ops []Op, err error) {
	if len(b) < 12 {
		return "", nil, fmt.Errorf("short plan: %d bytes", len(b))
	}
	magic = string(b[:8])
	p := b[8:]
	u32 := func() (uint32, error) {
		if len(p) < 4 {
			return 0, errors.New("truncated u32")
		}
		v := binary.NativeEndian.Uint32(p)
		p = p[4:]
		return v, nil
	}
	n, _ := u32()
	for k := uint32(0); k < n; k++ {
		var o Op
		code, err := u32()
		if err != nil {
			return magic, ops, err
		}
		nint, err := u32()
		if err != nil {
			return magic, ops, err
		}
		nstr, err := u32()
		if err != nil {
			return magic, ops, err
		}
		o.Code = Code(code)
		for i := uint32(0); i < nint; i++ {
			if len(p) < 8 {
				return magic, ops, fmt.Errorf("op %d: truncated int %d", k, i)
			}
			o.Ints = append(o.Ints, int64(binary.NativeEndian.Uint64(p)))
			p = p[8:]
		}
		for i := uint32(0); i < nstr; i++ {
			l, err := u32()
			if err != nil {
				return magic, ops, err
			}
			if uint32(len(p)) < l+1 {
				return magic, ops, fmt.Errorf("op %d: truncated string %d", k, i)
			}
			if p[l] != 0 {
				return magic, ops, fmt.Errorf("op %d: string %d not NUL-terminated (byte %#x)", k, i, p[l])
			}
			o.Strs = append(o.Strs, string(p[:l]))
			p = p[l+1:]
		}
		ops = append(ops, o)
	}
	if len(p) != 0 {
		return magic, ops, fmt.Errorf("%d trailing bytes", len(p))
	}
	return magic, ops, nil
}

func TestEncodeEmpty(t *testing.T) {
	t.Parallel()
	b := (&Plan{}).Encode()
	if len(b) != 12 {
		t.Fatalf("empty plan encodes to %d bytes, want 12 (magic + count): %q", len(b), b)
	}
	if string(b[:8]) != "OCRTPLN1" {
		t.Errorf("magic %q, want OCRTPLN1", b[:8])
	}
	if n := binary.NativeEndian.Uint32(b[8:]); n != 0 {
		t.Errorf("op count %d, want 0", n)
	}
}

func TestEncodeLayout(t *testing.T) {
	t.Parallel()
	p := &Plan{}
	p.Add("mounts[0] destination \"/x\"", OpMount, []int64{-1, 2, 1 << 40, 0}, "", "/x", "tmpfs", "mode=755,size=1k")
	p.Add("process", OpSetsid, nil)
	p.Add("hostname \"h\"", OpSethostname, nil, "héllo wörld")
	p.Add("linux.seccomp", OpSeccomp, []int64{3, 1}, "\x00\x01bpf\x00with NULs", "/run/l.sock", "")
	p.Add("x", OpRlimit, []int64{7, int64(^uint64(0) >> 1), -1})
	b := p.Encode()

	magic, ops, err := planTestDecode(b)
	if err != nil {
		t.Fatalf("decoding %d bytes: %v", len(b), err)
	}
	if magic != "OCRTPLN1" {
		t.Errorf("magic %q, want OCRTPLN1", magic)
	}
	if len(ops) != len(p.Ops) {
		t.Fatalf("decoded %d ops, want %d", len(ops), len(p.Ops))
	}
	for i := range ops {
		want := p.Ops[i]
		got := ops[i]
		if got.Code != want.Code {
			t.Errorf("op %d: code %d, want %d", i, got.Code, want.Code)
		}
		if len(got.Ints) != len(want.Ints) || (len(want.Ints) > 0 && !reflect.DeepEqual(got.Ints, want.Ints)) {
			t.Errorf("op %d: ints %v, want %v", i, got.Ints, want.Ints)
		}
		if len(got.Strs) != len(want.Strs) || (len(want.Strs) > 0 && !reflect.DeepEqual(got.Strs, want.Strs)) {
			t.Errorf("op %d: strs %q, want %q", i, got.Strs, want.Strs)
		}
	}

	// Byte-level spot checks of the first op, independent of the decoder:
	// code 7, 4 ints, 4 strings, then -1 as all ones.
	h := b[12:]
	if c := binary.NativeEndian.Uint32(h[0:]); c != uint32(OpMount) {
		t.Errorf("first op code word %d, want %d", c, OpMount)
	}
	if n := binary.NativeEndian.Uint32(h[4:]); n != 4 {
		t.Errorf("first op int count %d, want 4", n)
	}
	if n := binary.NativeEndian.Uint32(h[8:]); n != 4 {
		t.Errorf("first op string count %d, want 4", n)
	}
	if v := binary.NativeEndian.Uint64(h[12:]); v != ^uint64(0) {
		t.Errorf("first int encodes as %#x, want all ones for -1", v)
	}
	// the first string is "": a zero length and a lone NUL
	s0 := h[12+4*8:]
	if l := binary.NativeEndian.Uint32(s0); l != 0 || s0[4] != 0 {
		t.Errorf("empty string encodes as len %d byte %#x, want len 0 then NUL", l, s0[4])
	}
	s1 := s0[5:]
	if l := binary.NativeEndian.Uint32(s1); l != 2 || string(s1[4:6]) != "/x" || s1[6] != 0 {
		t.Errorf("string \"/x\" encodes as % x, want len 2, \"/x\", NUL", s1[:7])
	}

	// Size: header + per op 12 + 8 per int + per string 4 + len + 1.
	want := 12
	for _, o := range p.Ops {
		want += 12 + 8*len(o.Ints)
		for _, s := range o.Strs {
			want += 4 + len(s) + 1
		}
	}
	if len(b) != want {
		t.Errorf("encoded %d bytes, want %d", len(b), want)
	}
	// Encode does not change the plan and is repeatable.
	if b2 := p.Encode(); string(b2) != string(b) {
		t.Errorf("a second Encode differs from the first")
	}
}

func TestAddAndField(t *testing.T) {
	t.Parallel()
	p := &Plan{}
	if got := p.Field(0); got != "" {
		t.Errorf("Field(0) of an empty plan = %q, want \"\"", got)
	}
	p.Add("process.oomScoreAdj", OpWrite, []int64{0}, "/proc/self/oom_score_adj", "5")
	p.Add(`mounts[1] destination "/proc"`, OpMount, []int64{0, TargetDir}, "proc", "/proc", "proc", "")
	if len(p.Ops) != 2 || p.Ops[1].Code != OpMount || p.Ops[1].Strs[1] != "/proc" {
		t.Fatalf("Add did not append in order: %+v", p.Ops)
	}
	for _, c := range []struct {
		i    int
		want string
	}{
		{-1, ""}, {0, "process.oomScoreAdj"}, {1, `mounts[1] destination "/proc"`}, {2, ""}, {1 << 30, ""},
	} {
		if got := p.Field(c.i); got != c.want {
			t.Errorf("Field(%d) = %q, want %q", c.i, got, c.want)
		}
	}
}

func TestOpStringNamesEveryCode(t *testing.T) {
	t.Parallel()
	seen := map[string]Code{}
	for c, name := range codeNames {
		if name == "" {
			t.Errorf("code %d has an empty name", c)
		}
		if other, dup := seen[name]; dup {
			t.Errorf("codes %d and %d share the name %q", c, other, name)
		}
		seen[name] = c
	}
	s := Op{Code: OpMount, Ints: []int64{1, 2}, Strs: []string{"a", "b"}}.String()
	if !strings.HasPrefix(s, "mount ") || !strings.Contains(s, "[1 2]") || !strings.Contains(s, `"a"`) {
		t.Errorf("Op.String() = %q, want the name, the ints and the quoted strings", s)
	}
}

// planTestHeaderConsts maps every number plan.h defines to its Go constant.
// A define in plan.h this table lacks fails the test, so neither side can
// gain a number the other does not know.
var planTestHeaderConsts = map[string]int64{
	"OP_SETNS":         int64(OpSetns),
	"OP_UNSHARE":       int64(OpUnshare),
	"OP_SYNC":          int64(OpSync),
	"OP_SETID0":        int64(OpSetID0),
	"OP_FORK":          int64(OpFork),
	"OP_WRITE":         int64(OpWrite),
	"OP_MOUNT":         int64(OpMount),
	"OP_OPEN_ROOT":     int64(OpOpenRoot),
	"OP_MKNOD":         int64(OpMknod),
	"OP_SYMLINK":       int64(OpSymlink),
	"OP_PIVOT":         int64(OpPivot),
	"OP_CHROOT":        int64(OpChroot),
	"OP_MASK":          int64(OpMask),
	"OP_READONLY":      int64(OpReadonly),
	"OP_SETHOSTNAME":   int64(OpSethostname),
	"OP_SETDOMAINNAME": int64(OpSetdomainname),
	"OP_RLIMIT":        int64(OpRlimit),
	"OP_PRCTL":         int64(OpPrctl),
	"OP_CAPBSET":       int64(OpCapBset),
	"OP_CAPSET":        int64(OpCapSet),
	"OP_USER":          int64(OpUser),
	"OP_UMASK":         int64(OpUmask),
	"OP_CHDIR":         int64(OpChdir),
	"OP_CONSOLE":       int64(OpConsole),
	"OP_SECCOMP":       int64(OpSeccomp),
	"OP_CLOSE_FDS":     int64(OpCloseFds),
	"OP_WAIT_START":    int64(OpWaitStart),
	"OP_HOOK":          int64(OpHook),
	"OP_EXEC":          int64(OpExec),
	"OP_SETSID":        int64(OpSetsid),
	"OP_READY":         int64(OpReady),
	"OP_MKDIR":         int64(OpMkdir),
	"OP_MOUNT_SETATTR": int64(OpMountSetattr),
	"OP_KEYRING":       int64(OpKeyring),
	"OP_JOIN_CGROUP":   int64(OpJoinCgroup),
	"OP_CHECK_EXEC":    int64(OpCheckExec),
	"OP_SCHED_ATTR":    int64(OpSchedAttr), "OP_IOPRIO": int64(OpIOPrio), "OP_PERSONALITY": int64(OpPersonality),
	"OP_MEMPOLICY": int64(OpMempolicy), "OP_AFFINITY": int64(OpAffinity),
	"OP_PIDFD": int64(OpPidfd),

	"TARGET_PLAIN":      TargetPlain,
	"TARGET_DIR":        TargetDir,
	"TARGET_FILE":       TargetFile,
	"MNT_KEEP_LOCKED":   MountKeepLocked,
	"MNT_COPY_UP":       MountCopyUp,
	"MNT_HOST_SOURCE":   MountHostSource,
	"MNT_IDMAP_TREE":    MountIdmapTree,
	"MNT_NO_SYMLINKS":   MountNoSymlinks,
	"SYNC_MAPS":         SyncMaps,
	"SYNC_HOOKS":        SyncHooks,
	"SYNC_CGROUP":       SyncCgroup,
	"SYNC_NETDEV":       SyncNetDevices,
	"SYNC_MOUNT_SOURCE": SyncMountSource,
	"MSG_SYNC":          MsgSync,
	"MSG_PID":           MsgPid,
	"MSG_ERROR":         MsgError,
	"MSG_READY":         MsgReady,
	"MSG_SECCOMP":       MsgSeccomp,
	"PRELUDE_JOIN":      PreludeJoin,
	"PRELUDE_UNSHARE":   PreludeUnshare,
	"MNT_SRC_IN_ROOT":   MountSrcInRoot,
	"MNT_TMPFS_MODE":    MountTmpfsMode,
	"CHDIR_FIRST":       ChdirFirst,
	"CHDIR_RETRY":       ChdirRetry,
	"SYNC_TIMENS":       SyncTimens,
}

func TestHeaderMatchesGo(t *testing.T) {
	t.Parallel()
	num := regexp.MustCompile(`^#define\s+((?:OP|SYNC|MSG|TARGET|WRITE|MNT|PRELUDE|CHDIR)_[A-Z0-9_]+)\s+(-?\d+)\b`)
	magic := regexp.MustCompile(`^#define\s+PLAN_MAGIC\s+"([^"]*)"`)
	found := map[string]int64{}
	var headerMagic string
	sc := bufio.NewScanner(strings.NewReader(header))
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if m := magic.FindStringSubmatch(text); m != nil {
			headerMagic = m[1]
			continue
		}
		m := num.FindStringSubmatch(text)
		if m == nil {
			if strings.HasPrefix(strings.TrimSpace(text), "#define") &&
				regexp.MustCompile(`^#define\s+(OP|SYNC|MSG|TARGET|WRITE|MNT|PRELUDE|CHDIR)_`).MatchString(text) {
				t.Errorf("plan.h:%d: a define this test cannot read as a number: %q", line, text)
			}
			continue
		}
		v, _ := strconv.ParseInt(m[2], 10, 64)
		if _, dup := found[m[1]]; dup {
			t.Errorf("plan.h:%d: %s defined twice", line, m[1])
		}
		found[m[1]] = v
		goVal, ok := planTestHeaderConsts[m[1]]
		if !ok {
			t.Errorf("plan.h:%d: %s = %d has no Go constant in libcontainer/plan (add one, or drop the define)", line, m[1], v)
			continue
		}
		if goVal != v {
			t.Errorf("plan.h:%d: %s = %d, but the Go constant is %d", line, m[1], v, goVal)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(found) < 20 {
		t.Fatalf("parsed only %d defines from plan.h: the parser is broken", len(found))
	}
	for name, v := range planTestHeaderConsts {
		if _, ok := found[name]; !ok {
			t.Errorf("Go constant for %s (= %d) has no define in plan.h", name, v)
		}
	}
	// Every Go op code is in the table (codeNames lists them all).
	byValue := map[int64]string{}
	for name, v := range planTestHeaderConsts {
		if strings.HasPrefix(name, "OP_") {
			byValue[v] = name
		}
	}
	for c, name := range codeNames {
		if _, ok := byValue[int64(c)]; !ok {
			t.Errorf("Go op %s (%d) is missing from the header table", name, c)
		}
	}
	if headerMagic == "" {
		t.Error("plan.h defines no PLAN_MAGIC")
	} else if enc := (&Plan{}).Encode(); string(enc[:len(headerMagic)]) != headerMagic || len(headerMagic) != 8 {
		t.Errorf("PLAN_MAGIC %q, Encode writes %q", headerMagic, enc[:8])
	}
}

// MsgHeaderLen must be the size of plan.h's struct msg {u32 type; i32 a, b;}.
func TestMsgHeaderLen(t *testing.T) {
	t.Parallel()
	m := regexp.MustCompile(`(?s)struct msg \{(.*?)\};`).FindStringSubmatch(header)
	if m == nil {
		t.Fatal("plan.h: struct msg not found")
	}
	// count the 32-bit fields declared in it
	n := 0
	for _, decl := range strings.Split(m[1], ";") {
		decl = strings.TrimSpace(decl)
		if decl == "" {
			continue
		}
		if !strings.HasPrefix(decl, "uint32_t ") && !strings.HasPrefix(decl, "int32_t ") {
			t.Fatalf("struct msg field %q is not a 32-bit int: update this test", decl)
		}
		n += len(strings.Split(decl, ","))
	}
	if MsgHeaderLen != 4*n {
		t.Errorf("MsgHeaderLen = %d, struct msg has %d 32-bit fields (%d bytes)", MsgHeaderLen, n, 4*n)
	}
}

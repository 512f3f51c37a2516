// Package plan is the contract between Go, which decides everything about a
// container, and the C executor in libcontainer/executor, which performs it
// before the Go runtime could start. plan.h beside this file is the same
// contract in C, included by the executor. A Plan is an ordered list of plain
// operations; each carries the config field it serves so that a failure
// reported by index becomes an error naming that field.
package plan

import (
	_ "embed"
	"encoding/binary"
	"fmt"
)

// header is plan.h, for the test that compares its numbers with ours. It is
// embedded so that plan.h is part of this package's build: the executor
// imports this package, and the go command, which hashes no header outside
// a cgo package's directory, then rebuilds the executor's C when plan.h
// changes. The linker drops it (nothing in the binary reads it).
//
//go:embed plan.h
var header string

// Code is an operation; the numbers match plan.h.
type Code uint32

const (
	OpSetns         Code = 1
	OpUnshare       Code = 2
	OpSync          Code = 3
	OpSetID0        Code = 4
	OpFork          Code = 5
	OpWrite         Code = 6
	OpMount         Code = 7
	OpOpenRoot      Code = 8
	OpMknod         Code = 9
	OpSymlink       Code = 10
	OpPivot         Code = 11
	OpChroot        Code = 12
	OpMask          Code = 13
	OpReadonly      Code = 14
	OpSethostname   Code = 15
	OpSetdomainname Code = 16
	OpRlimit        Code = 17
	OpPrctl         Code = 18
	OpCapBset       Code = 19
	OpCapSet        Code = 20
	OpUser          Code = 21
	OpUmask         Code = 22
	OpChdir         Code = 23
	OpConsole       Code = 24
	OpSeccomp       Code = 25
	OpCloseFds      Code = 26
	OpWaitStart     Code = 27
	OpHook          Code = 28
	OpExec          Code = 29
	OpSetsid        Code = 30
	OpReady         Code = 31
	OpMkdir         Code = 32
	OpMountSetattr  Code = 34
	OpKeyring       Code = 35
	OpJoinCgroup    Code = 36
	OpCheckExec     Code = 37
	OpSchedAttr     Code = 50
	OpIOPrio        Code = 51
	OpPersonality   Code = 52
	OpMempolicy     Code = 53
	OpAffinity      Code = 54
	OpPidfd         Code = 60
)

// Mount target kinds (OpMount's second int).
const (
	TargetPlain = 0 // used as it is
	TargetDir   = 1 // resolved inside the rootfs, directories made as needed
	TargetFile  = 2 // resolved inside the rootfs, an empty file made if missing
)

// MountKeepLocked (OpMount's third int): on EPERM retry a remount with the
// flags the kernel locked on the mount (inside user namespaces); the fourth
// int, when given, holds the flags the config asked to clear: one of them
// locked is an error rather than kept.
const MountKeepLocked = 1

// MountCopyUp (OpMount's third int, "tmpcopyup"): fill the new mount with
// what the target directory held before it was mounted over.
const MountCopyUp = 2

// MountHostSource (OpMount's third int, a bind in a user namespace): a
// source the container's process cannot reach (EACCES) is opened by the
// runtime (SyncMountSource for the mount index, OpMount's fourth int).
const MountHostSource = 4

// MountIdmapTree (OpMount's third int): the source is a detached,
// idmapped tree the runtime makes (SyncMountSource for the mount index,
// OpMount's fourth int), moved onto the target.
const MountIdmapTree = 8

// MountSrcInRoot (OpMount's third int): the source is a path inside the
// rootfs that an earlier mount makes or covers, resolved there when this
// mount is made; the target becomes a directory or a file as the source is.
const MountSrcInRoot = 16

// MountTmpfsMode (OpMount's third int): a tmpfs given no mode= takes the
// mode of the directory it is mounted on, when that exists (runc 1.5).
const MountTmpfsMode = 32

// MountNoSymlinks (OpMount's third int): procfs and sysfs are mounted on a
// directory reached without any symlink in the rootfs, or refused
// (CVE-2019-19921, CVE-2023-27561): a link there would redirect the
// runtime's own /proc and the container's view of it.
const MountNoSymlinks = 64

// OpChdir's int: entered first with the runtime's privileges, and if they
// do not suffice, again as the process's user.
const (
	ChdirFirst = 1
	ChdirRetry = 2
)

// OpSync kinds.
const (
	SyncMaps   = 1 // write my uid/gid maps
	SyncHooks  = 2 // run createRuntime and prestart hooks now
	SyncCgroup = 3 // wait until the container's cgroup is made
	// SyncNetDevices: move linux.netDevices into the sender's network namespace
	SyncNetDevices = 4
	// SyncMountSource: open the source of the mount whose index is the
	// payload (int32); the answer carries its fd
	SyncMountSource = 5
	SyncTimens      = 6 // write my timens_offsets (in a new user namespace I cannot)
)

// Messages from the executor.
const (
	MsgSync  = 1 // a: kind, b: the sender's pid
	MsgPid   = 2 // a: the container process's pid
	MsgError = 3 // a: op index, b: errno; payload: what failed
	MsgReady = 4 // a: pid
	// MsgSeccomp carries the seccomp listener fd (SCM_RIGHTS)
	MsgSeccomp = 5
)

// Op indexes of the prelude, what the executor does from its environment
// before it has its plan: join a v1 cgroup (_OCIRT_PRELUDE_JOIN) and
// unshare namespaces (_OCIRT_PRELUDE_UNSHARE).
const (
	PreludeJoin    = -2
	PreludeUnshare = -3
)

// MsgHeaderLen is the size of struct msg in plan.h.
const MsgHeaderLen = 12

// Op is one operation.
type Op struct {
	Code  Code
	Ints  []int64
	Strs  []string
	Field string // the config field it serves, e.g. `mounts[2] destination "/data"`
}

// Plan is what the executor runs, in order.
type Plan struct {
	Ops []Op
}

// Add appends an operation serving field.
func (p *Plan) Add(field string, code Code, ints []int64, strs ...string) {
	p.Ops = append(p.Ops, Op{Code: code, Ints: ints, Strs: strs, Field: field})
}

// Has tells whether the plan has an op with this code.
func (p *Plan) Has(code Code) bool {
	for _, op := range p.Ops {
		if op.Code == code {
			return true
		}
	}
	return false
}

// Field names the config field of the op at index i (as reported by the
// executor), or "" when out of range.
func (p *Plan) Field(i int) string {
	if i < 0 || i >= len(p.Ops) {
		return ""
	}
	return p.Ops[i].Field
}

// Encode lays the plan out as the executor parses it: a magic, the op count, then
// per op its code, int count, string count, the ints (int64) and the strings
// (u32 length, bytes, NUL).
func (p *Plan) Encode() []byte {
	n := 12
	for _, o := range p.Ops {
		n += 12 + 8*len(o.Ints)
		for _, s := range o.Strs {
			n += 5 + len(s)
		}
	}
	b := make([]byte, 0, n)
	b = append(b, "OCRTPLN1"...)
	b = binary.NativeEndian.AppendUint32(b, uint32(len(p.Ops)))
	for _, o := range p.Ops {
		b = binary.NativeEndian.AppendUint32(b, uint32(o.Code))
		b = binary.NativeEndian.AppendUint32(b, uint32(len(o.Ints)))
		b = binary.NativeEndian.AppendUint32(b, uint32(len(o.Strs)))
		for _, v := range o.Ints {
			b = binary.NativeEndian.AppendUint64(b, uint64(v))
		}
		for _, s := range o.Strs {
			b = binary.NativeEndian.AppendUint32(b, uint32(len(s)))
			b = append(b, s...)
			b = append(b, 0)
		}
	}
	return b
}

// String shows a plan for debugging (`--debug` logs it).
func (o Op) String() string {
	name := codeNames[o.Code]
	return fmt.Sprintf("%s %v %q", name, o.Ints, o.Strs)
}

var codeNames = map[Code]string{
	OpSetns: "setns", OpUnshare: "unshare", OpSync: "sync", OpSetID0: "setid0", OpFork: "fork",
	OpWrite: "write", OpMount: "mount", OpOpenRoot: "open-root", OpMknod: "mknod", OpSymlink: "symlink",
	OpPivot: "pivot", OpChroot: "chroot", OpMask: "mask", OpReadonly: "readonly",
	OpSethostname: "sethostname", OpSetdomainname: "setdomainname", OpRlimit: "rlimit", OpPrctl: "prctl",
	OpCapBset: "capbset", OpCapSet: "capset", OpUser: "user", OpUmask: "umask", OpChdir: "chdir",
	OpConsole: "console", OpSeccomp: "seccomp", OpCloseFds: "close-fds", OpWaitStart: "wait-start",
	OpHook: "hook", OpExec: "exec", OpSetsid: "setsid", OpReady: "ready", OpMkdir: "mkdir", OpMountSetattr: "mount-setattr", OpKeyring: "keyring", OpJoinCgroup: "join-cgroup", OpCheckExec: "check-exec",
	OpSchedAttr: "sched-attr", OpIOPrio: "ioprio", OpPersonality: "personality", OpMempolicy: "mempolicy", OpAffinity: "affinity",
	OpPidfd: "pidfd",
}

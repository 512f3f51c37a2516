package planner

import (
	"strings"

	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/internal/table"
)

// mountFlag is what one mount option does to the flags.
type mountFlag struct {
	clear bool
	flag  uintptr
}

var mountFlags = table.Table[string, mountFlag]{
	{Key: "async", Val: mountFlag{true, unix.MS_SYNCHRONOUS}},
	{Key: "atime", Val: mountFlag{true, unix.MS_NOATIME}},
	{Key: "defaults", Val: mountFlag{false, 0}},
	{Key: "dev", Val: mountFlag{true, unix.MS_NODEV}},
	{Key: "diratime", Val: mountFlag{true, unix.MS_NODIRATIME}},
	{Key: "dirsync", Val: mountFlag{false, unix.MS_DIRSYNC}},
	{Key: "exec", Val: mountFlag{true, unix.MS_NOEXEC}},
	{Key: "iversion", Val: mountFlag{false, unix.MS_I_VERSION}},
	{Key: "lazytime", Val: mountFlag{false, unix.MS_LAZYTIME}},
	{Key: "loud", Val: mountFlag{true, unix.MS_SILENT}},
	{Key: "mand", Val: mountFlag{false, unix.MS_MANDLOCK}},
	{Key: "noatime", Val: mountFlag{false, unix.MS_NOATIME}},
	{Key: "nodev", Val: mountFlag{false, unix.MS_NODEV}},
	{Key: "nodiratime", Val: mountFlag{false, unix.MS_NODIRATIME}},
	{Key: "noexec", Val: mountFlag{false, unix.MS_NOEXEC}},
	{Key: "noiversion", Val: mountFlag{true, unix.MS_I_VERSION}},
	{Key: "nolazytime", Val: mountFlag{true, unix.MS_LAZYTIME}},
	{Key: "nomand", Val: mountFlag{true, unix.MS_MANDLOCK}},
	{Key: "norelatime", Val: mountFlag{true, unix.MS_RELATIME}},
	{Key: "nostrictatime", Val: mountFlag{true, unix.MS_STRICTATIME}},
	{Key: "nosuid", Val: mountFlag{false, unix.MS_NOSUID}},
	{Key: "nosymfollow", Val: mountFlag{false, unix.MS_NOSYMFOLLOW}},
	{Key: "relatime", Val: mountFlag{false, unix.MS_RELATIME}},
	{Key: "remount", Val: mountFlag{false, unix.MS_REMOUNT}},
	{Key: "ro", Val: mountFlag{false, unix.MS_RDONLY}},
	{Key: "rw", Val: mountFlag{true, unix.MS_RDONLY}},
	{Key: "silent", Val: mountFlag{false, unix.MS_SILENT}},
	{Key: "strictatime", Val: mountFlag{false, unix.MS_STRICTATIME}},
	{Key: "suid", Val: mountFlag{true, unix.MS_NOSUID}},
	{Key: "sync", Val: mountFlag{false, unix.MS_SYNCHRONOUS}},
	{Key: "bind", Val: mountFlag{false, unix.MS_BIND}},
	{Key: "rbind", Val: mountFlag{false, unix.MS_BIND | unix.MS_REC}},
}

var propagationFlags = table.Table[string, uintptr]{
	{Key: "private", Val: unix.MS_PRIVATE},
	{Key: "rprivate", Val: unix.MS_PRIVATE | unix.MS_REC},
	{Key: "shared", Val: unix.MS_SHARED},
	{Key: "rshared", Val: unix.MS_SHARED | unix.MS_REC},
	{Key: "slave", Val: unix.MS_SLAVE},
	{Key: "rslave", Val: unix.MS_SLAVE | unix.MS_REC},
	{Key: "unbindable", Val: unix.MS_UNBINDABLE},
	{Key: "runbindable", Val: unix.MS_UNBINDABLE | unix.MS_REC},
}

// recursiveAttr sets (or clears) a MOUNT_ATTR_* on a whole bind tree with
// mount_setattr(AT_RECURSIVE).
type recursiveAttr struct {
	set  bool
	attr uint64
}

var recursiveAttrs = table.Table[string, recursiveAttr]{
	{Key: "rro", Val: recursiveAttr{true, unix.MOUNT_ATTR_RDONLY}}, {Key: "rrw", Val: recursiveAttr{false, unix.MOUNT_ATTR_RDONLY}},
	{Key: "rnosuid", Val: recursiveAttr{true, unix.MOUNT_ATTR_NOSUID}}, {Key: "rsuid", Val: recursiveAttr{false, unix.MOUNT_ATTR_NOSUID}},
	{Key: "rnodev", Val: recursiveAttr{true, unix.MOUNT_ATTR_NODEV}}, {Key: "rdev", Val: recursiveAttr{false, unix.MOUNT_ATTR_NODEV}},
	{Key: "rnoexec", Val: recursiveAttr{true, unix.MOUNT_ATTR_NOEXEC}}, {Key: "rexec", Val: recursiveAttr{false, unix.MOUNT_ATTR_NOEXEC}},
	{Key: "rnodiratime", Val: recursiveAttr{true, unix.MOUNT_ATTR_NODIRATIME}}, {Key: "rdiratime", Val: recursiveAttr{false, unix.MOUNT_ATTR_NODIRATIME}},
	{Key: "rnosymfollow", Val: recursiveAttr{true, unix.MOUNT_ATTR_NOSYMFOLLOW}}, {Key: "rsymfollow", Val: recursiveAttr{false, unix.MOUNT_ATTR_NOSYMFOLLOW}},
}

// MountOptions lists the options oci-rt understands, for `features`.
func MountOptions() []string {
	var out []string
	out = append(out, mountFlags.Keys()...)
	out = append(out, propagationFlags.Keys()...)
	out = append(out, recursiveAttrs.Keys()...)
	return append(out, "tmpcopyup")
}

// parsedMount is a mount's options split into what mount(2) takes.
type parsedMount struct {
	flags       uintptr   // MS_* flags, MS_BIND included
	propagation []uintptr // applied one by one after the mount
	data        []string  // filesystem options, passed as the data string
	attrSet     uint64    // MOUNT_ATTR_* set on the whole tree (rro...)
	attrClr     uint64    // MOUNT_ATTR_* cleared on the whole tree
	copyUp      bool      // tmpcopyup (runc extension)
}

func parseMountOptions(opts []string) parsedMount {
	var p parsedMount
	for _, o := range opts {
		if f, ok := mountFlags.Get(o); ok {
			if f.clear {
				p.flags &^= f.flag
			} else {
				p.flags |= f.flag
			}
			continue
		}
		if f, ok := propagationFlags.Get(o); ok {
			p.propagation = append(p.propagation, f)
			continue
		}
		if a, ok := recursiveAttrs.Get(o); ok {
			if a.set {
				p.attrSet, p.attrClr = p.attrSet|a.attr, p.attrClr&^a.attr
			} else {
				p.attrClr, p.attrSet = p.attrClr|a.attr, p.attrSet&^a.attr
			}
			continue
		}
		if o == "tmpcopyup" {
			p.copyUp = true
			continue
		}
		p.data = append(p.data, o)
	}
	return p
}

func (p parsedMount) dataString() string { return strings.Join(p.data, ",") }

// flagsAfterBind are the flags a bind mount only gets from a remount.
const flagsAfterBind = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
	unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME | unix.MS_NOSYMFOLLOW

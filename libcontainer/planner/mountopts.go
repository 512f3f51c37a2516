package planner

import (
	"maps"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// mountFlag is what one mount option does to the flags.
type mountFlag struct {
	clear bool
	flag  uintptr
}

var mountFlags = map[string]mountFlag{
	"async":         {true, unix.MS_SYNCHRONOUS},
	"atime":         {true, unix.MS_NOATIME},
	"defaults":      {false, 0},
	"dev":           {true, unix.MS_NODEV},
	"diratime":      {true, unix.MS_NODIRATIME},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"exec":          {true, unix.MS_NOEXEC},
	"iversion":      {false, unix.MS_I_VERSION},
	"lazytime":      {false, unix.MS_LAZYTIME},
	"loud":          {true, unix.MS_SILENT},
	"mand":          {false, unix.MS_MANDLOCK},
	"noatime":       {false, unix.MS_NOATIME},
	"nodev":         {false, unix.MS_NODEV},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"noexec":        {false, unix.MS_NOEXEC},
	"noiversion":    {true, unix.MS_I_VERSION},
	"nolazytime":    {true, unix.MS_LAZYTIME},
	"nomand":        {true, unix.MS_MANDLOCK},
	"norelatime":    {true, unix.MS_RELATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"nosuid":        {false, unix.MS_NOSUID},
	"nosymfollow":   {false, unix.MS_NOSYMFOLLOW},
	"relatime":      {false, unix.MS_RELATIME},
	"remount":       {false, unix.MS_REMOUNT},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"silent":        {false, unix.MS_SILENT},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"suid":          {true, unix.MS_NOSUID},
	"sync":          {false, unix.MS_SYNCHRONOUS},
	"symfollow":     {true, unix.MS_NOSYMFOLLOW},
	"bind":          {false, unix.MS_BIND},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
}

var propagationFlags = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// recursiveAttr sets (or clears) a MOUNT_ATTR_* on a whole mount tree
// with mount_setattr(AT_RECURSIVE). The access-time mode is one field of
// three values (relatime, noatime, strictatime): atime options set it, the
// last one given winning; the ones that only say "not this one" (ratime,
// rnorelatime, rnostrictatime) give the kernel's default, relatime, as
// mount(2) does without an atime flag.
type recursiveAttr struct {
	set   bool
	attr  uint64
	atime bool
}

var recursiveAttrs = map[string]recursiveAttr{
	"rro": {true, unix.MOUNT_ATTR_RDONLY, false}, "rrw": {false, unix.MOUNT_ATTR_RDONLY, false},
	"rnosuid": {true, unix.MOUNT_ATTR_NOSUID, false}, "rsuid": {false, unix.MOUNT_ATTR_NOSUID, false},
	"rnodev": {true, unix.MOUNT_ATTR_NODEV, false}, "rdev": {false, unix.MOUNT_ATTR_NODEV, false},
	"rnoexec": {true, unix.MOUNT_ATTR_NOEXEC, false}, "rexec": {false, unix.MOUNT_ATTR_NOEXEC, false},
	"rnodiratime": {true, unix.MOUNT_ATTR_NODIRATIME, false}, "rdiratime": {false, unix.MOUNT_ATTR_NODIRATIME, false},
	"rnosymfollow": {true, unix.MOUNT_ATTR_NOSYMFOLLOW, false}, "rsymfollow": {false, unix.MOUNT_ATTR_NOSYMFOLLOW, false},
	"rrelatime": {true, unix.MOUNT_ATTR_RELATIME, true}, "rnorelatime": {true, unix.MOUNT_ATTR_RELATIME, true},
	"rnoatime": {true, unix.MOUNT_ATTR_NOATIME, true}, "ratime": {true, unix.MOUNT_ATTR_RELATIME, true},
	"rstrictatime": {true, unix.MOUNT_ATTR_STRICTATIME, true}, "rnostrictatime": {true, unix.MOUNT_ATTR_RELATIME, true},
}

// MountOptions lists the options oci-rt understands, for `features`.
func MountOptions() []string {
	out := slices.Collect(maps.Keys(mountFlags))
	out = slices.AppendSeq(out, maps.Keys(propagationFlags))
	out = slices.AppendSeq(out, maps.Keys(recursiveAttrs))
	out = append(out, "tmpcopyup", "idmap", "ridmap")
	slices.Sort(out)
	return out
}

// parsedMount is a mount's options split into what mount(2) takes.
type parsedMount struct {
	flags       uintptr   // MS_* flags, MS_BIND included
	cleared     uintptr   // MS_* flags an option asked to clear (rw, suid, dev, exec...)
	propagation []uintptr // applied one by one after the mount
	data        []string  // filesystem options, passed as the data string
	attrSet     uint64    // MOUNT_ATTR_* set on the whole tree (rro...)
	attrClr     uint64    // MOUNT_ATTR_* cleared on the whole tree
	copyUp      bool      // tmpcopyup (runc extension)
	idmap       bool      // idmap or ridmap: an idmapped bind mount
	idmapRec    bool      // ridmap: every mount of an rbind's tree idmapped
}

func parseMountOptions(opts []string) parsedMount {
	var p parsedMount
	for _, o := range opts {
		if f, ok := mountFlags[o]; ok {
			if f.clear {
				p.flags &^= f.flag
				p.cleared |= f.flag
			} else {
				p.flags |= f.flag
				p.cleared &^= f.flag
			}
			continue
		}
		if f, ok := propagationFlags[o]; ok {
			p.propagation = append(p.propagation, f)
			continue
		}
		if a, ok := recursiveAttrs[o]; ok {
			if a.atime {
				// mount_setattr(2): the mode in attr_set, MOUNT_ATTR__ATIME in attr_clr
				p.attrSet = p.attrSet&^unix.MOUNT_ATTR__ATIME | a.attr
				p.attrClr |= unix.MOUNT_ATTR__ATIME
			} else if a.set {
				p.attrSet, p.attrClr = p.attrSet|a.attr, p.attrClr&^a.attr
			} else {
				p.attrClr, p.attrSet = p.attrClr|a.attr, p.attrSet&^a.attr
			}
			continue
		}
		switch o {
		case "tmpcopyup":
			p.copyUp = true
			continue
		case "idmap", "ridmap":
			p.idmap, p.idmapRec = true, o == "ridmap"
			continue
		}
		p.data = append(p.data, o)
	}
	return p
}

func (p parsedMount) dataString() string { return strings.Join(p.data, ",") }

// hasMode tells whether the filesystem options give a mode=.
func (p parsedMount) hasMode() bool {
	for _, d := range p.data {
		if strings.HasPrefix(d, "mode=") {
			return true
		}
	}
	return false
}

// flagsAfterBind are the flags a bind mount only gets from a remount.
const flagsAfterBind = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
	unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME | unix.MS_NOSYMFOLLOW

// MountData is what of opts reaches the filesystem as its data string:
// the options oci-rt does not know itself.
func MountData(opts []string) string { return parseMountOptions(opts).dataString() }

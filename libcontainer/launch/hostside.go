package launch

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/mountsrc"
	"github.com/oci-rt/oci-rt/libcontainer/netdev"
	"github.com/oci-rt/oci-rt/libcontainer/plan"
	"github.com/oci-rt/oci-rt/libcontainer/planner"
)

// What the runtime does on the host's side for the container's process,
// when it asks: move network devices into its namespace, open mount
// sources it cannot.

// moveNetDevices moves linux.netDevices into the container's network
// namespace (SyncNetDevices).
func (c *initProcess) moveNetDevices() error {
	ns, err := os.Open("/proc/" + strconv.Itoa(c.pid) + "/ns/net")
	if err != nil {
		return fmt.Errorf("linux.netDevices: the container's network namespace: %w", err)
	}
	defer ns.Close()
	if err := netdev.Move(int(ns.Fd()), c.spec.Linux.NetDevices); err != nil {
		return err
	}
	return c.reply(0, nil)
}

// sendMountSource opens the source of the mount whose index the payload
// holds (SyncMountSource) and sends it: an idmapped detached tree, or the
// source of a bind as the container's mount namespace has it.
func (c *initProcess) sendMountSource(payload string) error {
	if len(payload) < 4 {
		return fmt.Errorf("executor: mount source request without an index")
	}
	i := int(int32(binary.NativeEndian.Uint32([]byte(payload))))
	ms, err := planner.MountSourceOf(c.spec, c.opts.Bundle, i)
	if err != nil {
		return err
	}
	var src *os.File
	if ms.Idmap {
		src, err = c.idmapped(ms)
	} else if src, err = mountsrc.OpenIn(c.pid, sourceOf(ms)); err != nil {
		err = fmt.Errorf("%s: source %q: %w", ms.Field, ms.Source, err)
	}
	if err != nil {
		return err
	}
	defer src.Close()
	return c.replyFd(src)
}

func sourceOf(ms planner.MountSource) mountsrc.Source {
	return mountsrc.Source{Path: ms.Source, Rootfs: ms.Rootfs, InRoot: ms.InRoot}
}

// idmapped makes the tree of an idmapped mount: through a user namespace
// with the mount's own mappings, or the container's.
func (c *initProcess) idmapped(ms planner.MountSource) (*os.File, error) {
	userns, err := c.idmapUserns(ms)
	if err != nil {
		return nil, fmt.Errorf("%s: idmap: %w", ms.Field, err)
	}
	tree, err := mountsrc.Idmapped(c.pid, sourceOf(ms), ms.Recursive, ms.IdmapRecursive, userns)
	if err != nil {
		return nil, fmt.Errorf("%s: idmap: %w", ms.Field, err)
	}
	return tree, nil
}

// idmapUserns is the user namespace an idmapped mount maps through: one
// made with its mappings (one per distinct mappings: each costs a fork),
// or the container's. It stays open until create ends.
func (c *initProcess) idmapUserns(ms planner.MountSource) (*os.File, error) {
	key := "container"
	if len(ms.UIDMappings) > 0 {
		key = planner.MapsText(ms.UIDMappings) + "/" + planner.MapsText(ms.GIDMappings)
	}
	if f, ok := c.idmapNs[key]; ok {
		return f, nil
	}
	var f *os.File
	var err error
	if len(ms.UIDMappings) > 0 {
		f, err = mountsrc.Userns(ms.UIDMappings, ms.GIDMappings)
	} else {
		f, err = os.Open("/proc/" + strconv.Itoa(c.pid) + "/ns/user")
	}
	if err != nil {
		return nil, err
	}
	if c.idmapNs == nil {
		c.idmapNs = map[string]*os.File{}
	}
	c.idmapNs[key] = f
	c.files = append(c.files, f)
	return f, nil
}

// replyFd answers a request with an fd (SCM_RIGHTS).
func (c *initProcess) replyFd(f *os.File) error {
	msg := make([]byte, plan.MsgHeaderLen)
	binary.NativeEndian.PutUint32(msg, plan.MsgSync)
	rc, err := c.sync.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Write(func(fd uintptr) bool {
		serr = unix.Sendmsg(int(fd), msg, unix.UnixRights(int(f.Fd())), nil, 0)
		return serr != unix.EAGAIN
	})
	if err == nil {
		err = serr
	}
	return err
}

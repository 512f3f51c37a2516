package launch

import (
	"github.com/oci-rt/oci-rt/libcontainer/intelrdt"
	"github.com/oci-rt/oci-rt/libcontainer/planner"
)

// linux.intelRdt: the container's resctrl group. Only a config that asks
// for it reads the mount table; exec joins the group create recorded.

// openResctrl finds resctrl and checks the group the config asks for
// before anything is made: where resctrl is not mounted, the config is
// refused by name.
func (c *initProcess) openResctrl() error {
	l := c.spec.Linux
	if l == nil || l.IntelRdt == nil {
		return nil
	}
	root, err := c.host.resctrlRoot()
	if err != nil {
		return err
	}
	c.rdt, err = intelrdt.Open(root, c.opts.ID, l.IntelRdt)
	return err
}

// makeResctrl makes the group, records it in runtime.json (delete --force
// after a create that died removes it) and has the executor join it as
// its first step, before the container's process can run anything.
func (c *initProcess) makeResctrl(in *planner.Input) error {
	if c.rdt == nil {
		return nil
	}
	if err := c.rdt.Make(c.opts.ID, c.spec.Linux.IntelRdt); err != nil {
		return err // abort removes what was made
	}
	c.state.IntelRdt = c.rdt
	if err := c.handle.SaveRuntime(c.state); err != nil {
		return err
	}
	in.ResctrlTasks = c.rdt.Tasks()
	return nil
}

package launch

import (
	"fmt"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/planner"
)

// procFile is one file of the executor's /proc/<pid> we write for it.
type procFile struct {
	field, name string
	data        []byte
}

// writeProc writes files of the executor's /proc/<pid> (its id maps,
// setgroups, time offsets) through a procfs handle of our own, as runc 1.5
// does (CVE-2025-52881): pathrs-lite's, a private procfs where the kernel
// allows one, else /proc checked to be procfs; each file is reached without
// crossing a mount or following a symlink, and reopened for writing from
// that handle. A write that fails is named by its field.
func writeProc(pid int, files ...procFile) error {
	h, err := procfs.OpenProcRoot()
	if err != nil {
		return fmt.Errorf("%s: a procfs handle: %w", files[0].field, err)
	}
	defer h.Close()
	for _, f := range files {
		if err := writeProcFile(h, pid, f); err != nil {
			return fmt.Errorf("%s: %w", f.field, err)
		}
	}
	return nil
}

func writeProcFile(h *procfs.Handle, pid int, f procFile) error {
	p, err := h.OpenPid(pid, f.name)
	if err != nil {
		return planner.PathReason(err)
	}
	defer p.Close()
	w, err := pathrs.Reopen(p, unix.O_WRONLY|unix.O_CLOEXEC)
	if err != nil {
		return planner.PathReason(err)
	}
	defer w.Close()
	if _, err := w.Write(f.data); err != nil {
		return planner.PathReason(err)
	}
	return nil
}

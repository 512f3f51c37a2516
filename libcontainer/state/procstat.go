package state

import (
	"errors"
	"strconv"

	"github.com/oci-rt/oci-rt/libcontainer/procstat"
)

// ProcStat returns a process's start time (field 22 of /proc/<pid>/stat)
// and its state letter.
func ProcStat(pid int) (uint64, byte, error) { return new(Reader).ProcStat(pid) }

func (r *Reader) ProcStat(pid int) (uint64, byte, error) {
	if pid <= 0 {
		return 0, 0, errors.New("no pid")
	}
	b, err := r.read("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	return procstat.Parse(b)
}

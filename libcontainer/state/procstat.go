package state

import (
	"bytes"
	"errors"
	"math"
	"strconv"
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
	return parseStat(b)
}

var errBadStat = errors.New("bad /proc/<pid>/stat")

// parseStat finds the state letter (field 3) and the start time (field
// 22) of a /proc/<pid>/stat line without splitting it (list reads one per
// container). The command name (field 2) may hold spaces and parentheses:
// fields are counted after its last ')'.
func parseStat(b []byte) (start uint64, state byte, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errBadStat
	}
	field := 2
	for j := i + 1; j < len(b); {
		for j < len(b) && b[j] == ' ' {
			j++
		}
		k := j
		for k < len(b) && b[k] != ' ' && b[k] != '\n' {
			k++
		}
		if k == j {
			break
		}
		field++
		switch field {
		case 3:
			state = b[j]
		case 22:
			for _, c := range b[j:k] {
				d := uint64(c - '0')
				if c < '0' || c > '9' || start > (math.MaxUint64-d)/10 {
					return 0, 0, errBadStat
				}
				start = start*10 + d
			}
			return start, state, nil
		}
		j = k
	}
	return 0, 0, errBadStat
}

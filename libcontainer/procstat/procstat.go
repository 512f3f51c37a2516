// Package procstat reads the two fields of /proc/<pid>/stat the runtime
// needs: the state letter and the start time that tells a process from a
// later one given the same pid.
package procstat

import (
	"bytes"
	"errors"
	"math"
)

var errBadStat = errors.New("bad /proc/<pid>/stat")

// Parse finds the start time (field 22) and the state letter (field 3) of
// a /proc/<pid>/stat line without splitting it (list reads one per
// container). The command name (field 2) may hold spaces and parentheses:
// fields are counted after its last ')'.
func Parse(b []byte) (start uint64, state byte, err error) {
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

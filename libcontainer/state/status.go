package state

import (
	"errors"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// refresh marks a container whose process is gone (or a zombie, or a new
// process that reused the pid) as stopped, and a frozen one as paused.
func (s *State) refresh(dir string, r *Reader) {
	if s.Status == Stopped || s.Status == Creating {
		return
	}
	if s.Status == Created {
		// start removes the socket the created process waits on
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(dir, "start.sock"), &st); errors.Is(err, unix.ENOENT) {
			s.Status = Running
		}
	}
	st, state, err := r.ProcStat(s.Pid)
	if err != nil || st != s.StartTime || state == 'Z' || state == 'X' {
		s.Status = Stopped
		s.Pid = 0
		return
	}
	if s.Status == Running && s.isFrozen(r) {
		s.Status = Paused
	}
}

func (s *State) isFrozen(r *Reader) bool {
	file := s.Freezer
	if file == "" && s.CgroupPaths != nil {
		// a state.json of an older oci-rt: the paths, no Freezer
		var old State
		old.SetCgroupPaths(s.CgroupPaths)
		file = old.Freezer
	}
	if file == "" {
		return false
	}
	b, err := r.read(file)
	v := strings.TrimSpace(string(b))
	return err == nil && (v == "FROZEN" || v == "1") // freezer.state, cgroup.freeze
}

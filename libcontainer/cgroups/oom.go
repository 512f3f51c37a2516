package cgroups

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// WatchOOM reports the container's memory cgroup running out of memory,
// as runc does: with the v1 memory controller once each time the kernel
// signals it (an eventfd registered through cgroup.event_control on
// memory.oom_control; it signals before the kill is counted), with cgroup
// v2 once per rise of memory.events' oom_kill (inotify). The channel
// closes when the cgroup is removed. paths are the container's cgroup
// paths (controller -> directory, "" the cgroup2 one). Without a memory controller it returns a nil channel
// (nothing to report).
func WatchOOM(paths map[string]string) (<-chan struct{}, error) {
	if dir, ok := paths["memory"]; ok {
		return watchOOMv1(dir)
	}
	if dir, ok := paths[""]; ok {
		if _, err := os.Stat(filepath.Join(dir, "memory.events")); err == nil {
			return watchOOMv2(dir)
		}
	}
	return nil, nil
}

func watchOOMv1(dir string) (<-chan struct{}, error) {
	ctl, err := os.Open(filepath.Join(dir, "memory.oom_control"))
	if err != nil {
		return nil, err
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		ctl.Close()
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	ev := os.NewFile(uintptr(efd), "eventfd")
	evControl := filepath.Join(dir, "cgroup.event_control")
	if err := os.WriteFile(evControl, fmt.Appendf(nil, "%d %d", efd, ctl.Fd()), 0); err != nil {
		ev.Close()
		ctl.Close()
		return nil, err
	}
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		defer ctl.Close()
		defer ev.Close()
		buf := make([]byte, 8)
		for {
			if _, err := ev.Read(buf); err != nil {
				return
			}
			// the eventfd is also signalled when the cgroup goes
			if _, err := os.Lstat(evControl); err != nil {
				return
			}
			ch <- struct{}{}
		}
	}()
	return ch, nil
}

func watchOOMv2(dir string) (<-chan struct{}, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify_init1: %w", err)
	}
	events := filepath.Join(dir, "memory.events")
	if _, err := unix.InotifyAddWatch(fd, events, unix.IN_MODIFY|unix.IN_DELETE_SELF); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("inotify %s: %w", events, err)
	}
	f := os.NewFile(uintptr(fd), "inotify")
	kills := func() (uint64, bool) { return oomKills(events) }
	// the kills so far, counted before the caller goes on
	last, _ := kills()
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		defer f.Close()
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			if err != nil {
				return
			}
			if inotifyGone(buf[:n]) {
				return
			}
			k, ok := kills()
			if !ok {
				return
			}
			for ; last < k; last++ {
				ch <- struct{}{}
			}
		}
	}()
	return ch, nil
}

// inotifyGone tells whether the watched file was removed (its cgroup
// with it).
func inotifyGone(b []byte) bool {
	for len(b) >= unix.SizeofInotifyEvent {
		// struct inotify_event: wd, mask, cookie, len, name
		if binary.NativeEndian.Uint32(b[4:])&(unix.IN_DELETE_SELF|unix.IN_IGNORED) != 0 {
			return true
		}
		l := int(binary.NativeEndian.Uint32(b[12:]))
		b = b[min(len(b), unix.SizeofInotifyEvent+l):]
	}
	return false
}

// oomKills reads the "oom_kill N" line of memory.oom_control (v1) or
// memory.events (v2); false when the file is gone.
func oomKills(path string) (uint64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("oom_kill ")); ok {
			n, _ := strconv.ParseUint(string(v), 10, 64)
			return n, true
		}
	}
	return 0, true
}

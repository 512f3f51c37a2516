// Package netdev moves host network interfaces into a container's network
// namespace (linux.netDevices): renamed when asked, with the permanent
// global addresses the kernel drops on a move put back, and up. Only a
// failed move brings back those moved before it; otherwise, when the
// namespace goes, the kernel returns physical devices to the host and
// destroys virtual ones, and the spec forbids the runtime to move them out
// before (config-linux.md, Network Devices).
//
// It speaks netlink through vishvananda/netlink's low-level package nl
// only: the top-level package's initialisers (41 allocations, ~5 page
// faults) would run in every command, netDevices or not; nl's cost two
// allocations (docs/performance.md).
package netdev

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"

	"github.com/oci-rt/oci-rt/libcontainer/errmsg"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// field names one device of the config, as every error does.
func field(name string) string {
	return fmt.Sprintf("linux.netDevices[%q]", errmsg.Value(name))
}

// Check refuses names the kernel would refuse or misread, before anything
// is made: empty, IFNAMSIZ (16) bytes or more, "." or "..", with a '/',
// a ':' or white space, or a '%' but one "%d" (the kernel picks a free
// number there).
func Check(devs map[string]specs.LinuxNetDevice) error {
	seen := make(map[string]string, len(devs))
	for _, name := range sortedNames(devs) {
		if err := checkName(name); err != nil {
			return fmt.Errorf("%s: %w", field(name), err)
		}
		if n := devs[name].Name; n != "" {
			if err := checkName(n); err != nil {
				return fmt.Errorf("%s.name %q: %w", field(name), errmsg.Value(n), err)
			}
		}
		n := newName(name, devs[name])
		if other, ok := seen[n]; ok && !strings.Contains(n, "%d") {
			return fmt.Errorf("%s: named %q in the container, as %s is", field(name), errmsg.Value(n), field(other))
		}
		seen[n] = name
	}
	return nil
}

func checkName(n string) error {
	switch {
	case n == "":
		return errors.New("an interface name cannot be empty")
	case len(n) >= unix.IFNAMSIZ:
		return fmt.Errorf("an interface name has at most %d bytes", unix.IFNAMSIZ-1)
	case n == "." || n == "..":
		return errors.New("not an interface name")
	case strings.ContainsAny(n, "/:") || strings.IndexFunc(n, isSpace) >= 0:
		return errors.New("an interface name cannot hold '/', ':' or white space")
	case strings.Contains(n, "%") && (strings.Count(n, "%") > 1 || !strings.Contains(n, "%d")):
		// the kernel takes one %d (a number it picks) and refuses any
		// other %, but only once the devices before have moved
		return errors.New("an interface name holds no % but one %d")
	}
	return nil
}

func isSpace(r rune) bool { return r == ' ' || (r >= '\t' && r <= '\r') }

func sortedNames(devs map[string]specs.LinuxNetDevice) []string {
	names := make([]string, 0, len(devs))
	for n := range devs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Move moves each device (in name order) from the caller's network
// namespace into the one nsFd refers to, once all are found on the host
// and their names free in the container. When one fails, those moved
// before it go back to the host as they were (name, addresses, up): in
// the failed create's namespace a veth would die, and its host end with
// it. A failure after Move is the kernel's to clean up, as the spec says.
func Move(nsFd int, devs map[string]specs.LinuxNetDevice) error {
	if len(devs) == 0 {
		return nil
	}
	if err := notOurs(nsFd, sortedNames(devs)[0]); err != nil {
		return err
	}
	// a route socket of the container's namespace (made there: a netlink
	// socket stays in the namespace it was made in)
	sock, err := nl.GetNetlinkSocketAt(netns.NsHandle(nsFd), netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("linux.netDevices: a netlink socket in the container's network namespace: %w", err)
	}
	defer sock.Close()
	inside := &nl.SocketHandle{Socket: sock}
	// every device checked before any moves
	names := sortedNames(devs)
	hosts := make([]hostDev, len(names))
	for i, name := range names {
		if hosts[i], err = check(inside, name, newName(name, devs[name])); err != nil {
			return fmt.Errorf("%s: %w", field(name), err)
		}
	}
	var moved []movedDev
	for i, name := range names {
		m, err := move(inside, nsFd, hosts[i], newName(name, devs[name]))
		if m.index != 0 {
			moved = append(moved, m)
		}
		if err != nil {
			putBack(inside, moved)
			return fmt.Errorf("%s: %w", field(name), err)
		}
	}
	return nil
}

// notOurs refuses a container's network namespace that is the runtime's
// own (joined by a path naming the host's): a device "moved" there would
// only be renamed and set up on the host. The error names the first
// device.
func notOurs(nsFd int, first string) error {
	var ctr, own unix.Stat_t
	if err := unix.Fstat(nsFd, &ctr); err != nil {
		return fmt.Errorf("linux.netDevices: the container's network namespace: %w", err)
	}
	// the thread's: the namespace devices are looked up and moved from
	if err := unix.Stat("/proc/thread-self/ns/net", &own); err != nil {
		return fmt.Errorf("linux.netDevices: the runtime's network namespace: %w", err)
	}
	if ctr.Dev == own.Dev && ctr.Ino == own.Ino {
		return fmt.Errorf("%s: the container's network namespace is the host's (the runtime's): nothing to move the device into", field(first))
	}
	return nil
}

// newName is the device's name in the container.
func newName(name string, d specs.LinuxNetDevice) string {
	if d.Name != "" {
		return d.Name
	}
	return name
}

// hostDev is a device as the host has it before the move.
type hostDev struct {
	name  string
	index int
	up    bool
}

// movedDev is a device moved into the container: its index there, and
// what putBack needs to give it back to the host as it was.
type movedDev struct {
	host  hostDev
	index int
	addrs []addr
}

// check finds the host's device and makes sure its name is free in the
// container (the kernel would move the device first and fail the rename
// inside).
func check(inside *nl.SocketHandle, name, newName string) (hostDev, error) {
	dev, err := net.InterfaceByName(name)
	if err != nil {
		return hostDev{}, errors.New("no interface of this name on the host")
	}
	if !strings.Contains(newName, "%d") {
		if _, err := linkIndex(inside, newName); err == nil {
			return hostDev{}, fmt.Errorf("the container already has an interface named %q", newName)
		}
	}
	return hostDev{name: name, index: dev.Index, up: dev.Flags&net.FlagUp != 0}, nil
}

// move moves the host's device into the container as newName, with its
// kept addresses, and sets it up. It returns the device as moved (index 0:
// it did not move) for putBack.
func move(inside *nl.SocketHandle, nsFd int, host hostDev, newName string) (movedDev, error) {
	m := movedDev{host: host}
	var err error
	if m.addrs, err = keptAddrs(host.index); err != nil {
		return m, err
	}
	// a template is applied once the device is inside under a name of
	// our own, which finds it: its index changes when the namespace has
	// it already, and the name the kernel picks is not told
	name := newName
	if strings.Contains(newName, "%d") {
		name = tempName()
		if _, err := linkIndex(inside, name); err == nil {
			return m, fmt.Errorf("the container already has an interface named %q", name)
		}
	}
	if err := setLink(nil, host.index, nsFd, name); err != nil {
		return m, fmt.Errorf("move into the container's network namespace as %q: %w", newName, err)
	}
	if m.index, err = linkIndex(inside, name); err != nil {
		// moved, but not found: nothing can be put back
		return m, fmt.Errorf("moved, then not found in the container as %q: %w", name, err)
	}
	if name != newName {
		if err := setLink(inside, m.index, -1, newName); err != nil {
			return m, fmt.Errorf("name it %q in the container: %w", newName, err)
		}
	}
	for _, a := range m.addrs {
		if err := addAddr(inside, m.index, a); err != nil {
			return m, fmt.Errorf("address %s in the container: %w", a, err)
		}
	}
	if err := setUp(inside, m.index); err != nil {
		return m, fmt.Errorf("set it up in the container: %w", err)
	}
	return m, nil
}

// tempName is a name for a device on its way in, unlikely to be taken.
func tempName() string {
	var b [4]byte
	unix.Getrandom(b[:], 0)
	return fmt.Sprintf("ocirt%x", b)
}

// putBack moves the devices back into the host's network namespace (the
// caller's) as they were there, after a failed move; what fails is left.
func putBack(inside *nl.SocketHandle, moved []movedDev) {
	host, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return
	}
	defer host.Close()
	for _, m := range moved {
		if setLink(inside, m.index, int(host.Fd()), m.host.name) != nil {
			continue
		}
		index, err := linkIndex(nil, m.host.name)
		if err != nil {
			continue
		}
		for _, a := range m.addrs {
			addAddr(nil, index, a)
		}
		if m.host.up {
			setUp(nil, index)
		}
	}
}

// execute runs req on the socket h (nil: a socket of the caller's
// network namespace) and returns the answers of type resType.
func execute(h *nl.SocketHandle, req *nl.NetlinkRequest, resType uint16) ([][]byte, error) {
	if h != nil {
		req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: h}
	}
	return req.Execute(unix.NETLINK_ROUTE, resType)
}

// linkIndex finds an interface by name in h's namespace.
func linkIndex(h *nl.SocketHandle, name string) (int, error) {
	req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_ACK)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	msgs, err := execute(h, req, unix.RTM_NEWLINK)
	if err != nil {
		return 0, err
	}
	if len(msgs) == 0 || len(msgs[0]) < unix.SizeofIfInfomsg {
		return 0, unix.ENODEV
	}
	return int(nl.DeserializeIfInfomsg(msgs[0]).Index), nil
}

// addr is one address of a device: what RTM_NEWADDR needs back.
type addr struct {
	family, prefixLen uint8
	local, address    []byte // IFA_LOCAL, IFA_ADDRESS (the peer's on point-to-point)
	broadcast         []byte
}

func (a addr) String() string {
	ip := a.local
	if ip == nil {
		ip = a.address
	}
	return fmt.Sprintf("%s/%d", net.IP(ip), a.prefixLen)
}

// keptAddrs are the addresses of the host's device index that the spec
// says a move preserves: permanent (not from autoconfiguration or a
// lease), of global scope, of any family.
func keptAddrs(index int) ([]addr, error) {
	req := nl.NewNetlinkRequest(unix.RTM_GETADDR, unix.NLM_F_DUMP)
	req.AddData(nl.NewIfAddrmsg(unix.AF_UNSPEC))
	msgs, err := execute(nil, req, unix.RTM_NEWADDR)
	if err != nil {
		return nil, fmt.Errorf("list its addresses: %w", err)
	}
	var kept []addr
	for _, m := range msgs {
		if len(m) < unix.SizeofIfAddrmsg {
			continue
		}
		h := nl.DeserializeIfAddrmsg(m)
		if int(h.Index) != index || h.Scope != unix.RT_SCOPE_UNIVERSE {
			continue
		}
		attrs, err := nl.ParseRouteAttr(m[unix.SizeofIfAddrmsg:])
		if err != nil {
			return nil, fmt.Errorf("list its addresses: %w", err)
		}
		flags := uint32(h.Flags)
		a := addr{family: h.Family, prefixLen: h.Prefixlen}
		for _, at := range attrs {
			switch at.Attr.Type {
			case unix.IFA_LOCAL:
				a.local = at.Value
			case unix.IFA_ADDRESS:
				a.address = at.Value
			case unix.IFA_BROADCAST:
				a.broadcast = at.Value
			case unix.IFA_FLAGS: // the 32-bit flags, when there are more than 8
				if len(at.Value) == 4 {
					flags = nl.NativeEndian().Uint32(at.Value)
				}
			}
		}
		if flags&unix.IFA_F_PERMANENT != 0 {
			kept = append(kept, a)
		}
	}
	return kept, nil
}

// addAddr gives the device index in h's namespace the address a.
func addAddr(h *nl.SocketHandle, index int, a addr) error {
	req := nl.NewNetlinkRequest(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK)
	msg := nl.NewIfAddrmsg(int(a.family))
	msg.Prefixlen, msg.Index = a.prefixLen, uint32(index)
	req.AddData(msg)
	for _, at := range []struct {
		typ int
		val []byte
	}{{unix.IFA_LOCAL, a.local}, {unix.IFA_ADDRESS, a.address}, {unix.IFA_BROADCAST, a.broadcast}} {
		if at.val != nil {
			req.AddData(nl.NewRtAttr(at.typ, at.val))
		}
	}
	_, err := execute(h, req, 0)
	return err
}

// setUp sets the device index in h's namespace up.
func setUp(h *nl.SocketHandle, index int) error {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index, msg.Flags, msg.Change = int32(index), unix.IFF_UP, unix.IFF_UP
	req.AddData(msg)
	_, err := execute(h, req, 0)
	return err
}

// setLink renames the device index of h's namespace (nil: the caller's)
// and, with nsFd >= 0, moves it into that namespace in the same request
// (RTM_SETLINK with IFLA_IFNAME and IFLA_NET_NS_FD).
func setLink(h *nl.SocketHandle, index, nsFd int, name string) error {
	req := nl.NewNetlinkRequest(unix.RTM_SETLINK, unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(index)
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	if nsFd >= 0 {
		req.AddData(nl.NewRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(nsFd))))
	}
	_, err := execute(h, req, 0)
	return err
}

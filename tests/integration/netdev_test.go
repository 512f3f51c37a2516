package integration

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ndNet is the seeds' docker0-style network, made by the test on this
// machine only: a bridge with an address, a veth pair with one end on the
// bridge and the other (with an address in the bridge's subnet) left for
// the container's netDevices. Traffic goes only between these addresses.
type ndNet struct {
	Bridge, HostEnd, CtrEnd string
	BridgeIP, CtrIP         string // without the prefix length
}

// ndIP runs ip(8) and fails the test on error.
func ndIP(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ndLinkExists tells whether the host's network namespace has the link.
func ndLinkExists(name string) bool {
	return exec.Command("ip", "link", "show", "dev", name).Run() == nil
}

// ndMakeNet makes the bridge and the veth pair, named and addressed after
// the test process and n (several may run at once), and removes them at
// the end of the test.
func ndMakeNet(t *testing.T, n int) ndNet {
	t.Helper()
	pid := os.Getpid()
	tag := fmt.Sprintf("%d%d", pid%1000000, n)
	net := ndNet{Bridge: "oib" + tag, HostEnd: "oih" + tag, CtrEnd: "oic" + tag}
	sub := fmt.Sprintf("10.%d.%d", 200+(pid/250)%50, (pid%250)+n)
	net.BridgeIP, net.CtrIP = sub+".1", sub+".2"
	t.Cleanup(func() {
		for _, l := range []string{net.Bridge, net.HostEnd, net.CtrEnd} {
			exec.Command("ip", "link", "del", l).Run()
		}
	})
	ndIP(t, "link", "add", net.Bridge, "type", "bridge", "stp_state", "0")
	ndIP(t, "addr", "add", net.BridgeIP+"/24", "dev", net.Bridge)
	ndIP(t, "link", "set", net.Bridge, "up")
	ndIP(t, "link", "add", net.HostEnd, "type", "veth", "peer", "name", net.CtrEnd)
	ndIP(t, "link", "set", net.HostEnd, "master", net.Bridge)
	ndIP(t, "link", "set", net.HostEnd, "up")
	// a permanent address of global scope: the kernel drops it on the move,
	// the runtime must put it back
	ndIP(t, "addr", "add", net.CtrIP+"/24", "dev", net.CtrEnd)
	return net
}

// ndMoreAddrs gives the container's end an IPv6 address (permanent,
// global: kept) and an IPv4 one with a lifetime (not permanent, as from a
// lease: not kept), and returns them.
func ndMoreAddrs(t *testing.T, net ndNet) (v6, leased string) {
	t.Helper()
	v6 = fmt.Sprintf("fd00:%x::2/64", os.Getpid()%0xffff)
	leased = strings.TrimSuffix(net.CtrIP, ".2") + ".3/24"
	ndIP(t, "addr", "add", v6, "dev", net.CtrEnd, "nodad")
	ndIP(t, "addr", "add", leased, "dev", net.CtrEnd, "valid_lft", "1000", "preferred_lft", "1000")
	return v6, leased
}

// ndAllowPing lets the payload open the raw socket ping uses.
func ndAllowPing(s *specs.Spec) {
	c := s.Process.Capabilities
	c.Bounding = append(c.Bounding, "CAP_NET_RAW")
	c.Effective = append(c.Effective, "CAP_NET_RAW")
	c.Permitted = append(c.Permitted, "CAP_NET_RAW")
}

// TestNetDevicesSeedNetwork moves the container end of a veth pair whose
// other end is on a bridge into the container, renamed eth0. Inside: eth0
// is up with its address and the bridge's address answers a ping. From the
// host: the device is gone from the host's namespace and is in the
// container's, with its address; after delete the pair is gone (a virtual
// device dies with the namespace, as the spec says).
func TestNetDevicesSeedNetwork(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	net := ndMakeNet(t, 0)
	v6, leased := ndMoreAddrs(t, net)
	id := fmt.Sprintf("netdev-%d", os.Getpid())
	b := e.Bundle(nsReport(`echo link $(ip -o link show eth0 | grep -o '<[^>]*>')
echo addr $(ip -o -4 addr show dev eth0 | awk '{print $4}')
echo addr6 $(ip -o -6 addr show dev eth0 scope global | awk '{print $4}')
echo ping $(ping -c 1 -W 5 `+net.BridgeIP+` >/dev/null 2>&1 && echo answered || echo silent)
echo old $(ip link show `+net.CtrEnd+` >/dev/null 2>&1 && echo present || echo absent)`), func(s *specs.Spec) {
		ndAllowPing(s)
		s.Linux.NetDevices = map[string]specs.LinuxNetDevice{net.CtrEnd: {Name: "eth0"}}
	})
	pid := nsMustCreate(e, b, id)
	// from the host, before the payload runs: moved, renamed, addressed, up
	if ndLinkExists(net.CtrEnd) {
		t.Errorf("%s is still in the host's network namespace after create", net.CtrEnd)
	}
	out, err := exec.Command("nsenter", fmt.Sprintf("--net=/proc/%d/ns/net", pid), "ip", "-o", "addr", "show", "dev", "eth0").CombinedOutput()
	if err != nil {
		t.Fatalf("eth0 in the container's network namespace: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "inet "+net.CtrIP+"/24") || !strings.Contains(string(out), "scope global") {
		t.Errorf("eth0 in the container's namespace, seen from the host: %q, want inet %s/24 scope global", out, net.CtrIP)
	}
	e.MustRun("start", id)
	got := nsOutput(e, id)
	if l := nsField(t, got, "link"); !strings.Contains(l, "UP") || !strings.Contains(l, "LOWER_UP") {
		t.Errorf("eth0 inside: flags %q, want UP and LOWER_UP", l)
	}
	if a := nsField(t, got, "addr"); a != net.CtrIP+"/24" {
		t.Errorf("eth0 inside: IPv4 addresses %q, want %s/24 only (not %s, which has a lifetime)", a, net.CtrIP, leased)
	}
	if a := nsField(t, got, "addr6"); a != v6 {
		t.Errorf("eth0 inside: global IPv6 addresses %q, want %s", a, v6)
	}
	if p := nsField(t, got, "ping"); p != "answered" {
		t.Errorf("ping of the bridge's %s from inside: %s", net.BridgeIP, p)
	}
	if o := nsField(t, got, "old"); o != "absent" {
		t.Errorf("the old name %s inside: %s, want absent (renamed eth0)", net.CtrEnd, o)
	}
	// the bridge's side saw the container: its neighbour entry
	if n := ndIP(t, "neigh", "show", "dev", net.Bridge, net.CtrIP); !strings.Contains(n, "lladdr") {
		t.Errorf("the host has no neighbour entry for %s on %s: %q", net.CtrIP, net.Bridge, n)
	}
	e.MustRun("delete", "--force", id)
	deadline := time.Now().Add(10 * time.Second)
	for ndLinkExists(net.HostEnd) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if ndLinkExists(net.HostEnd) {
		t.Errorf("the host end %s is still there 10s after delete: the namespace (and its veth) outlived the container", net.HostEnd)
	}
	if ndLinkExists(net.CtrEnd) {
		t.Errorf("the container's end came back to the host after delete; a veth dies with its namespace")
	}
}

// TestNetDevicesKeepName moves a device without a new name and with a
// user namespace (the network namespace then belongs to it): inside it
// has its host name, its address and is up.
func TestNetDevicesKeepName(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	net := ndMakeNet(t, 1)
	id := fmt.Sprintf("netdev-keep-%d", os.Getpid())
	b := e.Bundle(nsReport(`echo link $(ip -o link show `+net.CtrEnd+` | grep -o '<[^>]*>')
echo addr $(ip -o -4 addr show dev `+net.CtrEnd+` | awk '{print $4}')`), func(s *specs.Spec) {
		nsAddUserns(s)
		s.Linux.NetDevices = map[string]specs.LinuxNetDevice{net.CtrEnd: {}}
	})
	nsPrepareUserns(t, e, b)
	got := nsCreateStartReport(e, b, id)
	if l := nsField(t, got, "link"); !strings.Contains(l, "UP") {
		t.Errorf("%s inside: flags %q, want UP", net.CtrEnd, l)
	}
	if a := nsField(t, got, "addr"); a != net.CtrIP+"/24" {
		t.Errorf("%s inside: address %q, want %s/24", net.CtrEnd, a, net.CtrIP)
	}
	if ndLinkExists(net.CtrEnd) {
		t.Errorf("%s is still on the host", net.CtrEnd)
	}
}

// TestNetDevicesRefused: bad names, a device that is not there, a name
// taken inside and a container without a network namespace of its own are
// refused with one line naming linux.netDevices and the device, leaving
// nothing behind; the host's device stays where it was, with its address.
func TestNetDevicesRefused(t *testing.T) {
	t.Parallel()
	net := ndMakeNet(t, 2)
	missing := fmt.Sprintf("oino%d", os.Getpid()%1000000)
	renamed := fmt.Sprintf("oirn%d", os.Getpid()%1000000)
	// a bridge, sorted after the veth's end: the kernel refuses to move
	// it (netns-local) once the veth's end has moved
	bridge := fmt.Sprintf("oizb%d", os.Getpid()%1000000)
	ndIP(t, "link", "add", bridge, "type", "bridge")
	t.Cleanup(func() { exec.Command("ip", "link", "del", bridge).Run() })
	// a second device on the host, sorted after the veth's end: its
	// new name the kernel refuses only once the veth's end has moved
	second := fmt.Sprintf("oiz%d", os.Getpid()%1000000)
	ndIP(t, "link", "add", second, "type", "veth", "peer", "name", fmt.Sprintf("oiy%d", os.Getpid()%1000000))
	t.Cleanup(func() { exec.Command("ip", "link", "del", second).Run() })
	cases := []struct {
		name string
		devs map[string]specs.LinuxNetDevice
		edit func(*specs.Spec)
		want []string
	}{
		{"slash", map[string]specs.LinuxNetDevice{"bad/name": {}}, nil, []string{`linux.netDevices["bad/name"]`}},
		{"too-long", map[string]specs.LinuxNetDevice{"abcdefghijklmnopq": {}}, nil, []string{`linux.netDevices["abcdefghijklmnopq"]`}},
		{"dotdot", map[string]specs.LinuxNetDevice{"..": {}}, nil, []string{`linux.netDevices[".."]`}},
		{"bad-new-name", map[string]specs.LinuxNetDevice{net.CtrEnd: {Name: "eth 0"}}, nil, []string{`linux.netDevices["` + net.CtrEnd + `"].name`, "eth 0"}},
		{"missing", map[string]specs.LinuxNetDevice{missing: {}}, nil, []string{`linux.netDevices["` + missing + `"]`}},
		// the device that is there is not moved (and lost with the
		// namespace) before the missing one is found missing
		{"one-missing", map[string]specs.LinuxNetDevice{net.CtrEnd: {Name: "eth0"}, missing: {}}, nil, []string{`linux.netDevices["` + missing + `"]`}},
		{"name-taken", map[string]specs.LinuxNetDevice{net.CtrEnd: {Name: "lo"}}, nil, []string{`linux.netDevices["` + net.CtrEnd + `"]`, "lo"}},
		{"host-netns", map[string]specs.LinuxNetDevice{net.CtrEnd: {}}, func(s *specs.Spec) { nsRemove(s, specs.NetworkNamespace) },
			[]string{"linux.netDevices", "network namespace"}},
		// the veth's end, moved first, comes back with its name and
		// address (it would die with the namespace, and its host end)
		{"unmovable", map[string]specs.LinuxNetDevice{net.CtrEnd: {Name: "eth0"}, bridge: {}}, nil,
			[]string{`linux.netDevices["` + bridge + `"]`}},
		{"bad-template", map[string]specs.LinuxNetDevice{net.CtrEnd: {Name: "eth0"}, second: {Name: "e%s"}}, nil,
			[]string{`linux.netDevices["` + second + `"].name`, "e%s"}},
		{"two-templates", map[string]specs.LinuxNetDevice{net.CtrEnd: {Name: "eth0"}, second: {Name: "e%d%d"}}, nil,
			[]string{`linux.netDevices["` + second + `"].name`, "e%d%d"}},
		// a namespace joined by a path that is the runtime's own (the
		// host's): the device would be renamed and set up on the host
		{"host-netns-path", map[string]specs.LinuxNetDevice{net.CtrEnd: {Name: renamed}},
			func(s *specs.Spec) { nsSet(s, specs.NetworkNamespace, "/proc/self/ns/net") },
			[]string{`linux.netDevices["` + net.CtrEnd + `"]`, "network namespace"}},
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			e := NewEnv(t)
			id := fmt.Sprintf("netdev-bad-%s-%d", c.name, os.Getpid())
			b := e.Bundle([]string{"sleep", "100"}, func(s *specs.Spec) {
				s.Linux.NetDevices = c.devs
				if c.edit != nil {
					c.edit(s)
				}
			})
			r := nsCreate(e, b, id)
			lcOneLine(t, "create", r, c.want...)
			nsAssertNothingLeft(t, e, id, b, true)
			if out := ndIP(t, "-o", "-4", "addr", "show", "dev", net.CtrEnd); !strings.Contains(out, net.CtrIP+"/24") {
				t.Errorf("%s on the host after the refusal: %q, want it there with %s/24", net.CtrEnd, out, net.CtrIP)
			}
			if !ndLinkExists(net.HostEnd) {
				t.Errorf("the veth's host end %s is gone", net.HostEnd)
			}
			if ndLinkExists(renamed) {
				t.Errorf("the host's %s was renamed %s on the host", net.CtrEnd, renamed)
			}
			if out := ndIP(t, "-o", "link", "show", "dev", net.CtrEnd); strings.Contains(out, ",UP") {
				t.Errorf("%s was set up on the host: %q", net.CtrEnd, out)
			}
		})
	}
}

// TestNetDevicesJoinedNamespace: with a network namespace joined by path
// (a pod's, made by `ip netns add`), the device moves into that one; after
// delete it stays there with its address, the namespace outliving the
// container (the runtime does not move it out, as the spec says).
func TestNetDevicesJoinedNamespace(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	net := ndMakeNet(t, 3)
	name := fmt.Sprintf("oins%d", os.Getpid())
	ndIP(t, "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	id := fmt.Sprintf("netdev-join-%d", os.Getpid())
	b := e.Bundle(nsReport(`echo addr $(ip -o -4 addr show dev eth0 | awk '{print $4}')
echo ping $(ping -c 1 -W 5 `+net.BridgeIP+` >/dev/null 2>&1 && echo answered || echo silent)`), func(s *specs.Spec) {
		ndAllowPing(s)
		nsSet(s, specs.NetworkNamespace, "/run/netns/"+name)
		s.Linux.NetDevices = map[string]specs.LinuxNetDevice{net.CtrEnd: {Name: "eth0"}}
	})
	got := nsCreateStartReport(e, b, id)
	if a := nsField(t, got, "addr"); a != net.CtrIP+"/24" {
		t.Errorf("eth0 inside: address %q, want %s/24", a, net.CtrIP)
	}
	if p := nsField(t, got, "ping"); p != "answered" {
		t.Errorf("ping of the bridge's %s from inside: %s", net.BridgeIP, p)
	}
	e.MustRun("delete", "--force", id)
	if out := ndIP(t, "-n", name, "-o", "-4", "addr", "show", "dev", "eth0"); !strings.Contains(out, net.CtrIP+"/24") {
		t.Errorf("eth0 in the joined namespace after delete: %q, want it there with %s/24", out, net.CtrIP)
	}
	if ndLinkExists(net.CtrEnd) {
		t.Errorf("the device came back to the host while its namespace lives")
	}
}

// TestNetDevicesNameTemplate: a new name ending in %d lets the kernel
// pick the number; the device is up with its address under that name.
func TestNetDevicesNameTemplate(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	net := ndMakeNet(t, 4)
	id := fmt.Sprintf("netdev-tmpl-%d", os.Getpid())
	b := e.Bundle(nsReport(`echo names $(ls /sys/class/net | sort)
echo link $(ip -o link show net0 | grep -o '<[^>]*>')
echo addr $(ip -o -4 addr show dev net0 | awk '{print $4}')`), func(s *specs.Spec) {
		s.Linux.NetDevices = map[string]specs.LinuxNetDevice{net.CtrEnd: {Name: "net%d"}}
	})
	got := nsCreateStartReport(e, b, id)
	if n := nsField(t, got, "names"); n != "lo net0" {
		t.Errorf("interfaces inside: %q, want lo net0", n)
	}
	if l := nsField(t, got, "link"); !strings.Contains(l, "UP") {
		t.Errorf("net0 inside: flags %q, want UP", l)
	}
	if a := nsField(t, got, "addr"); a != net.CtrIP+"/24" {
		t.Errorf("net0 inside: address %q, want %s/24", a, net.CtrIP)
	}
}

// TestNetDevicesTemplateIndexTaken: a device moved under a name template
// into a joined namespace where its host index is taken gets another
// index there; its addresses and up go to it, not to the device that has
// its old index (which stays down, without them).
func TestNetDevicesTemplateIndexTaken(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	net := ndMakeNet(t, 5)
	name := fmt.Sprintf("oinx%d", os.Getpid())
	ndIP(t, "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	hostIndex := strings.SplitN(ndIP(t, "-o", "link", "show", "dev", net.CtrEnd), ":", 2)[0]
	// the pod's own device, at the index the moved one has on the host
	ndIP(t, "-n", name, "link", "add", "taken", "index", hostIndex, "type", "veth", "peer", "name", "takenpeer")
	id := fmt.Sprintf("netdev-tmplidx-%d", os.Getpid())
	b := e.Bundle(nsReport(`echo addr $(ip -o -4 addr show dev net0 | awk '{print $4}')`), func(s *specs.Spec) {
		nsSet(s, specs.NetworkNamespace, "/run/netns/"+name)
		s.Linux.NetDevices = map[string]specs.LinuxNetDevice{net.CtrEnd: {Name: "net%d"}}
	})
	if a := nsField(t, nsCreateStartReport(e, b, id), "addr"); a != net.CtrIP+"/24" {
		t.Errorf("net0 inside: address %q, want %s/24", a, net.CtrIP)
	}
	if out := ndIP(t, "-n", name, "-o", "addr", "show", "dev", "taken"); strings.Contains(out, net.CtrIP) {
		t.Errorf("the pod's device at index %s got the moved device's address: %q", hostIndex, out)
	}
	if out := ndIP(t, "-n", name, "-o", "link", "show", "dev", "taken"); strings.Contains(out, ",UP") || strings.Contains(out, "<UP") {
		t.Errorf("the pod's device at index %s was set up: %q", hostIndex, out)
	}
}

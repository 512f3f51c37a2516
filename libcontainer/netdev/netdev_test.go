package netdev

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheck(t *testing.T) {
	good := []map[string]specs.LinuxNetDevice{
		nil,
		{"eth1": {}},
		{"veth0": {Name: "eth0"}, "dummy1": {Name: "net%d"}, "dummy2": {Name: "net%d"}},
		{"abcdefghijklmno": {}}, // 15 bytes: the longest name
		{"veth1": {Name: "e%dx"}},
	}
	for _, d := range good {
		if err := Check(d); err != nil {
			t.Errorf("Check(%v): %v", d, err)
		}
	}
	bad := []struct {
		devs map[string]specs.LinuxNetDevice
		want string
	}{
		{map[string]specs.LinuxNetDevice{"": {}}, `linux.netDevices[""]: an interface name cannot be empty`},
		{map[string]specs.LinuxNetDevice{"abcdefghijklmnop": {}}, `linux.netDevices["abcdefghijklmnop"]: an interface name has at most 15 bytes`},
		{map[string]specs.LinuxNetDevice{".": {}}, `linux.netDevices["."]: not an interface name`},
		{map[string]specs.LinuxNetDevice{"a/b": {}}, `linux.netDevices["a/b"]`},
		{map[string]specs.LinuxNetDevice{"a:b": {}}, `linux.netDevices["a:b"]`},
		{map[string]specs.LinuxNetDevice{"a\tb": {}}, `linux.netDevices["a\tb"]`},
		{map[string]specs.LinuxNetDevice{"eth1": {Name: "e%s"}}, `linux.netDevices["eth1"].name "e%s": an interface name holds no % but one %d`},
		{map[string]specs.LinuxNetDevice{"eth1": {Name: "e%d%d"}}, `linux.netDevices["eth1"].name "e%d%d"`},
		{map[string]specs.LinuxNetDevice{"eth1": {Name: "e%"}}, `linux.netDevices["eth1"].name "e%"`},
		{map[string]specs.LinuxNetDevice{"eth1": {Name: ".."}}, `linux.netDevices["eth1"].name "..": not an interface name`},
		{map[string]specs.LinuxNetDevice{"eth1": {Name: strings.Repeat("x", 300)}}, `...(300 bytes)"`},
		{map[string]specs.LinuxNetDevice{"eth1": {Name: "eth0"}, "eth2": {Name: "eth0"}}, `linux.netDevices["eth2"]: named "eth0" in the container, as linux.netDevices["eth1"] is`},
		{map[string]specs.LinuxNetDevice{"eth0": {}, "eth1": {Name: "eth0"}}, `linux.netDevices["eth1"]: named "eth0" in the container, as linux.netDevices["eth0"] is`},
	}
	for _, b := range bad {
		err := Check(b.devs)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("Check(%q): %v, want an error with %q", b.devs, err, b.want)
		}
		if err != nil && len(err.Error()) > 300 {
			t.Errorf("Check(%q): error of %d bytes, not cut", b.devs, len(err.Error()))
		}
	}
}

package integration

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestEscBindSourceSymlinkInRootfs: a bind source inside the rootfs
// ("rootfs/vol") that the image makes a symlink to a host directory is
// resolved in the rootfs, as the container would see it: the host
// directory is neither seen nor written through the mount, whether the
// executor binds it, the runtime opens it for a user namespace that
// cannot reach it (under a 0700 directory), or the runtime clones it into
// an idmapped tree (the mount's own mappings, or the container's): the
// container sees the directory the link names in the rootfs.
// Without the defence each variant showed the container the host's
// sentinel, and those whose root maps to the host's wrote into it.
func TestEscBindSourceSymlinkInRootfs(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name          string
		userns, idmap bool
	}{
		{"plain", false, false},
		{"idmap", false, true},
		{"userns", true, false},
		{"userns-idmap", true, true},
	} {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			// the host directory: under a 0700 one, which a user
			// namespace's root cannot enter
			private := rpMkdir(t, filepath.Join(e.Dir, "private"))
			victim, same := escCanaryDir(t, filepath.Join(private, "victim"))
			defer same()
			id := escID("bindsrc-" + c.name)
			b := e.Bundle(nsReport(`echo seen $(cat /mnt/sentinel 2>/dev/null || echo nothing)
echo wrote $(touch /mnt/pwned 2>/dev/null && echo yes || echo no)`), func(s *specs.Spec) {
				m := specs.Mount{Destination: "/mnt", Type: "bind", Source: "rootfs/vol", Options: []string{"rbind"}}
				if c.userns {
					nsAddUserns(s)
				}
				if c.idmap {
					m.Options = append(m.Options, "idmap")
					if !c.userns {
						m.UIDMappings, m.GIDMappings = imMap(0, 0, 65536), imMap(0, 0, 65536)
					}
				}
				s.Mounts = append(s.Mounts, m)
			})
			if err := os.Symlink(victim, filepath.Join(b, "rootfs", "vol")); err != nil {
				t.Fatal(err)
			}
			// where the link leads in the rootfs: what the container sees
			rpWrite(t, filepath.Join(b, "rootfs", victim, "sentinel"), "in the rootfs\n", 0o644)
			if c.userns {
				nsPrepareUserns(t, e, b)
			}
			if err := os.Chmod(private, 0o700); err != nil {
				t.Fatal(err)
			}
			nsMustCreate(e, b, id)
			e.MustRun("start", id)
			out := nsOutput(e, id)
			if got := nsField(t, out, "seen"); got != "in the rootfs" {
				t.Errorf("/mnt/sentinel inside: %q, want the rootfs's (the link resolved in the rootfs)", got)
			}
			t.Logf("container: %q", out)
		})
	}
}

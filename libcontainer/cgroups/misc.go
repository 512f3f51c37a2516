package cgroups

import (
	"fmt"
	"strings"

	cg "github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func convertHugepages(r *specs.LinuxResources, res *cg.Resources) error {
	for i, l := range r.HugepageLimits {
		// The page size becomes part of a file name (hugetlb.2MB.limit_in_bytes).
		if !validPageSize(l.Pagesize) {
			return fieldErr(fmt.Sprintf("hugepageLimits[%d].pageSize", i), l.Pagesize,
				`must be a size like "2MB" or "1GB"`)
		}
		res.HugetlbLimit = append(res.HugetlbLimit, &cg.HugepageLimit{
			Pagesize: l.Pagesize,
			Limit:    l.Limit,
		})
	}
	return nil
}

// validPageSize accepts "<digits><K|M|G>B".
func validPageSize(s string) bool {
	num, ok := strings.CutSuffix(s, "B")
	if !ok || len(num) < 2 || !strings.ContainsAny(num[len(num)-1:], "KMG") {
		return false
	}
	return strings.Trim(num[:len(num)-1], "0123456789") == ""
}

func convertNetwork(r *specs.LinuxResources, res *cg.Resources) error {
	n := r.Network
	if n == nil {
		return nil
	}
	if n.ClassID != nil {
		res.NetClsClassid = *n.ClassID
	}
	for i, p := range n.Priorities {
		// Written as "<name> <prio>" to net_prio.ifpriomap.
		if p.Name == "" || strings.ContainsAny(p.Name, " \t\n/") {
			return fieldErr(fmt.Sprintf("network.priorities[%d].name", i), p.Name, "must be an interface name")
		}
		res.NetPrioIfpriomap = append(res.NetPrioIfpriomap, &cg.IfPrioMap{
			Interface: p.Name,
			Priority:  int64(p.Priority),
		})
	}
	return nil
}

func convertRdma(r *specs.LinuxResources, res *cg.Resources) error {
	if len(r.Rdma) == 0 {
		return nil
	}
	res.Rdma = make(map[string]cg.LinuxRdma, len(r.Rdma))
	for dev, l := range r.Rdma {
		// Written as "<dev> hca_handle=..." to rdma.max.
		if dev == "" || strings.ContainsAny(dev, " \t\n") {
			return fieldErr("rdma", dev, "key must be an RDMA device name")
		}
		lim := cg.LinuxRdma{}
		if l.HcaHandles != nil {
			lim.HcaHandles = ptr(*l.HcaHandles)
		}
		if l.HcaObjects != nil {
			lim.HcaObjects = ptr(*l.HcaObjects)
		}
		res.Rdma[dev] = lim
	}
	return nil
}

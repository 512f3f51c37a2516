package cgroups

import (
	"fmt"

	cg "github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// maxBlkioWeight is the top of both the CFQ (10-1000) and BFQ (1-1000)
// ranges; 0 means "unset" in the library.
const maxBlkioWeight = 1000

func convertBlockIO(r *specs.LinuxResources, res *cg.Resources) error {
	b := r.BlockIO
	if b == nil {
		return nil
	}
	var err error
	if res.BlkioWeight, err = blkioWeight("blockIO.weight", b.Weight); err != nil {
		return err
	}
	if res.BlkioLeafWeight, err = blkioWeight("blockIO.leafWeight", b.LeafWeight); err != nil {
		return err
	}
	if res.BlkioWeightDevice, err = weightDevices(b.WeightDevice); err != nil {
		return err
	}
	return convertThrottles(b, res)
}

func blkioWeight(field string, w *uint16) (uint16, error) {
	if w == nil {
		return 0, nil
	}
	if *w > maxBlkioWeight {
		return 0, fieldErr(field, *w, "must be at most 1000")
	}
	return *w, nil
}

func weightDevices(in []specs.LinuxWeightDevice) ([]*cg.WeightDevice, error) {
	var out []*cg.WeightDevice
	for i, wd := range in {
		field := fmt.Sprintf("blockIO.weightDevice[%d]", i)
		if err := checkBlockDevice(field, wd.LinuxBlockIODevice); err != nil {
			return nil, err
		}
		weight, err := blkioWeight(field+".weight", wd.Weight)
		if err != nil {
			return nil, err
		}
		leaf, err := blkioWeight(field+".leafWeight", wd.LeafWeight)
		if err != nil {
			return nil, err
		}
		out = append(out, cg.NewWeightDevice(wd.Major, wd.Minor, weight, leaf))
	}
	return out, nil
}

func convertThrottles(b *specs.LinuxBlockIO, res *cg.Resources) error {
	for _, t := range []struct {
		field string
		in    []specs.LinuxThrottleDevice
		out   *[]*cg.ThrottleDevice
	}{
		{"blockIO.throttleReadBpsDevice", b.ThrottleReadBpsDevice, &res.BlkioThrottleReadBpsDevice},
		{"blockIO.throttleWriteBpsDevice", b.ThrottleWriteBpsDevice, &res.BlkioThrottleWriteBpsDevice},
		{"blockIO.throttleReadIOPSDevice", b.ThrottleReadIOPSDevice, &res.BlkioThrottleReadIOPSDevice},
		{"blockIO.throttleWriteIOPSDevice", b.ThrottleWriteIOPSDevice, &res.BlkioThrottleWriteIOPSDevice},
	} {
		for i, td := range t.in {
			if err := checkBlockDevice(fmt.Sprintf("%s[%d]", t.field, i), td.LinuxBlockIODevice); err != nil {
				return err
			}
			*t.out = append(*t.out, cg.NewThrottleDevice(td.Major, td.Minor, td.Rate))
		}
	}
	return nil
}

// checkBlockDevice: blkio files take "major:minor" of a real device; the
// spec's int64s could be negative, which the kernel rejects obscurely.
func checkBlockDevice(field string, d specs.LinuxBlockIODevice) error {
	if d.Major < 0 {
		return fieldErr(field+".major", d.Major, "must be >= 0")
	}
	if d.Minor < 0 {
		return fieldErr(field+".minor", d.Minor, "must be >= 0")
	}
	return nil
}

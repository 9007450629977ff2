package afxdp

// A forward changes settings of its device that outlive the process:
// threaded NAPI, rps_cpus and GRO. Its bpf links do not; the kernel
// removes them when govs dies. So while such settings are changed, the
// values they replaced are also kept in a file in the run directory, and
// a port opened on the device puts them back first: a govs killed while
// forwarding (SIGKILL, a crash) leaves the device as it found it once it
// runs again. The file is written after each change, so a death in the
// microseconds between the two loses the record.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/govs/govs/internal/netdev/linux"
)

// savedState is what a forward has changed on a device and not yet put
// back.
type savedState struct {
	Ifindex  int               `json:"ifindex"`            // the device it was changed on
	Threaded string            `json:"threaded,omitempty"` // the value of threaded before
	RPS      map[string]string `json:"rps,omitempty"`      // rps_cpus file -> value before
	GROOn    bool              `json:"gro_on,omitempty"`   // GRO was turned on
}

func (s savedState) empty() bool { return s.Threaded == "" && len(s.RPS) == 0 && !s.GROOn }

func savedPath(runDir, dev string) string {
	return filepath.Join(runDir, "afxdp-"+dev+".saved")
}

// persist writes what f has changed and not yet put back, or removes the
// file when that is nothing. Without a run directory (tests) it does
// nothing.
func (f *forwarder) persist() error {
	if f.runDir == "" {
		return nil
	}
	path := savedPath(f.runDir, f.dev)
	st := savedState{Ifindex: f.ifindex, Threaded: f.napi.threaded, RPS: f.rps.old, GROOn: f.groOn}
	if st.empty() {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// restoreSaved puts back what an earlier govs left changed on dev, if its
// file says so, and removes the file. A device of that name with another
// index is another device: what was changed went away with the old one.
func restoreSaved(runDir, dev string, ifindex int) error {
	if runDir == "" {
		return nil
	}
	path := savedPath(runDir, dev)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	var st savedState
	if err := json.Unmarshal(b, &st); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", path, err))
	} else if st.Ifindex == ifindex {
		n := napiState{threaded: st.Threaded}
		r := rpsState{old: st.RPS}
		errs = append(errs, n.restore(dev), r.restore())
		if st.GROOn {
			errs = append(errs, linux.SetGRO(dev, false))
		}
	}
	if err := os.Remove(path); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("put back what an earlier forward changed: %w", err)
	}
	return nil
}

package demo

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// tool is a program the demo runs, and the Debian package that has it.
type tool struct {
	name string
	pkg  string
}

// tools are what the demo needs besides govs itself.
var tools = []tool{
	{"ip", "iproute2"},
	{"ethtool", "ethtool"},
	{"sysctl", "procps"},
	{"ping", "iputils-ping"},
	{"iperf3", "iperf3"},
	{"ovs-vsctl", "openvswitch-switch"},
	{"ovs-ofctl", "openvswitch-common"},
	{"ovsdb-server", "openvswitch-common"},
	{"ovsdb-tool", "openvswitch-common"},
}

// sbinDirs are searched after PATH: a user's PATH often lacks /usr/sbin,
// where ovsdb-server lives.
var sbinDirs = []string{"/usr/sbin", "/sbin", "/usr/local/sbin"}

// errNotRoot is returned when the demo does not run as root.
var errNotRoot = errors.New(`govs demo must run as root: it creates network namespaces, veth pairs and XDP programs.
Run it with sudo:  sudo bin/govs demo   (or: sudo make demo)`)

// lookTool finds a tool in PATH or in the sbin directories.
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range sbinDirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// preflight checks that the demo can run: root, and every tool present. It
// returns the tools' paths by name.
func preflight(euid int, look func(string) (string, error)) (map[string]string, error) {
	if euid != 0 {
		return nil, errNotRoot
	}
	paths := map[string]string{}
	var missing, pkgs []string
	for _, t := range tools {
		p, err := look(t.name)
		if err != nil {
			missing = append(missing, fmt.Sprintf("%s (Debian package %s)", t.name, t.pkg))
			if !slices.Contains(pkgs, t.pkg) {
				pkgs = append(pkgs, t.pkg)
			}
			continue
		}
		paths[t.name] = p
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing tools: %s.\nInstall them with:  sudo scripts/install-deps.sh   (from the govs repository)\n                or:  sudo apt-get install %s",
			strings.Join(missing, ", "), strings.Join(pkgs, " "))
	}
	return paths, nil
}

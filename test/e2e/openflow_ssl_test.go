package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ovsPKI is a PKI made with OVS's own ovs-pki: a switch CA and a
// controller CA, and certificates they signed, as `ovs-pki init` and
// `ovs-pki req+sign NAME switch|controller` lay them out.
type ovsPKI struct{ dir string }

func newOVSPKI(t testing.TB) *ovsPKI {
	t.Helper()
	if _, err := exec.LookPath("ovs-pki"); err != nil {
		t.Skip("ovs-pki not installed (openvswitch-common)")
	}
	p := &ovsPKI{dir: t.TempDir()}
	p.run(t, "init")
	return p
}

func (p *ovsPKI) run(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.Command("ovs-pki", append([]string{"--dir=" + filepath.Join(p.dir, "pki"), "--log=" + filepath.Join(p.dir, "log"), "--force"}, args...)...)
	cmd.Dir = p.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ovs-pki %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// issue makes NAME-privkey.pem and NAME-cert.pem, signed by the CA of
// kind ("switch" or "controller").
func (p *ovsPKI) issue(t testing.TB, name, kind string) (key, cert string) {
	t.Helper()
	p.run(t, "req+sign", name, kind)
	return filepath.Join(p.dir, name+"-privkey.pem"), filepath.Join(p.dir, name+"-cert.pem")
}

// caCert is the CA certificate of kind.
func (p *ovsPKI) caCert(kind string) string {
	return filepath.Join(p.dir, "pki", kind+"ca", "cacert.pem")
}

// controllerColumn reads one column of the Controller row with target.
func (s *ofSwitch) controllerColumn(t testing.TB, target, column string) string {
	t.Helper()
	out, err := s.g.VsctlErr("--timeout=5", "--bare", "--columns="+column, "find", "controller", `target="`+target+`"`)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// TestOpenFlowSSL: with `ovs-vsctl set-ssl`, br0 connects to os-ken over
// ssl: (mutual authentication with ovs-pki's certificates) and follows
// the flows it installs; a controller whose certificate another CA signed
// is refused, with the reason in its Controller row, without disturbing
// the first; ovs-ofctl manages the switch over a pssl: target.
func TestOpenFlowSSL(t *testing.T) {
	app := oskenApp(t)
	pki := newOVSPKI(t)
	rogue := newOVSPKI(t)
	swKey, swCert := pki.issue(t, "sw", "switch")
	ctlKey, ctlCert := pki.issue(t, "ctl", "controller")
	evilKey, evilCert := rogue.issue(t, "evil", "controller")

	s := startOFSwitch(t, "fail_mode=secure")
	s.proto = []string{"-O", "OpenFlow13"}
	s.g.Vsctl(t, "set-ssl", swKey, swCert, pki.caCert("controller"))

	// os-ken speaks TLS on 6653 (its plain listener moved out of the way).
	s.l.Start(s.l.SW, "osken-manager", "--ofp-listen-host", "127.0.0.1", "--ofp-tcp-listen-port", "6633",
		"--ofp-ssl-listen-port", "6653", "--ctl-privkey", ctlKey, "--ctl-cert", ctlCert,
		"--ca-certs", pki.caCert("switch"), app)
	// A real TLS server whose certificate the controller CA did not sign.
	s.l.Start(s.l.SW, "openssl", "s_server", "-quiet", "-accept", "127.0.0.1:6655", "-key", evilKey,
		"-cert", evilCert, "-Verify", "1", "-CAfile", pki.caCert("switch"))
	for _, port := range []string{"6653", "6655"} {
		WaitFor(t, 15*time.Second, "controller listening on "+port, func() bool {
			ss, _ := s.l.Run(s.l.SW, "ss", "-Hltn", "sport = :"+port)
			return strings.Contains(ss, port)
		})
	}
	const good, bad, passive = "ssl:127.0.0.1:6653", "ssl:127.0.0.1:6655", "pssl:6656:127.0.0.1"
	s.g.Vsctl(t, "set-controller", "br0", good, bad, passive)

	WaitFor(t, 30*time.Second, good+" is_connected", func() bool {
		return s.controllerColumn(t, good, "is_connected") == "true"
	})
	if r := s.controllerColumn(t, good, "role"); r != "other" && r != "master" {
		t.Errorf("role of %s: %q", good, r)
	}
	WaitFor(t, 15*time.Second, "os-ken's table-miss rule", func() bool {
		return strings.Contains(s.ofctl(t, "dump-flows", "br0"), "priority=0 actions=CONTROLLER:65535")
	})
	s.a.WaitPing(t, s.b.IP, 15*time.Second)
	if out := s.ofctl(t, "dump-flows", "br0"); len(learnedFlowRe.FindAllString(out, -1)) < 2 {
		t.Fatalf("os-ken installed no learned flows over ssl:\n%s", out)
	}

	WaitFor(t, 15*time.Second, bad+" refused with a reason", func() bool {
		return strings.Contains(s.controllerColumn(t, bad, "status"), "not signed by ca_cert")
	})
	if c := s.controllerColumn(t, bad, "is_connected"); c != "false" {
		t.Errorf("%s is_connected=%s", bad, c)
	}
	if c := s.controllerColumn(t, good, "is_connected"); c != "true" {
		t.Errorf("%s lost its connection: is_connected=%s", good, c)
	}

	// ovs-ofctl over SSL, against the passive target.
	sslArgs := func(key, cert string) []string {
		return []string{"ovs-ofctl", "--timeout=10", "-O", "OpenFlow13", "--private-key=" + key,
			"--certificate=" + cert, "--ca-cert=" + pki.caCert("switch"), "dump-flows", "ssl:127.0.0.1:6656"}
	}
	out := s.l.MustRun(s.l.SW, sslArgs(ctlKey, ctlCert)...)
	mustHave(t, out, "priority=0 actions=CONTROLLER:65535")
	if out, err := s.l.Run(s.l.SW, sslArgs(evilKey, evilCert)...); err == nil {
		t.Errorf("ovs-ofctl with a certificate of another CA was served:\n%s", out)
	}
	WaitFor(t, 15*time.Second, passive+" reports the refused client", func() bool {
		return strings.Contains(s.controllerColumn(t, passive, "status"), "not signed by ca_cert")
	})
}

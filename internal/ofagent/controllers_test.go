package ofagent

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/govs/govs/internal/ofp"
)

// testPKI is a CA with certificates it signed, written as PEM files the
// way ovs-pki lays them out.
type testPKI struct {
	dir    string
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	CACert string // file
}

func newTestPKI(t *testing.T, name string) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	p := &testPKI{dir: t.TempDir(), caCert: cert, caKey: key}
	p.CACert = p.write(t, name+"-cacert.pem", "CERTIFICATE", der)
	return p
}

func (p *testPKI) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue signs a certificate for name and returns the key and certificate
// files.
func (p *testPKI) issue(t *testing.T, name string) (keyFile, certFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return p.write(t, name+"-privkey.pem", "PRIVATE KEY", kder), p.write(t, name+"-cert.pem", "CERTIFICATE", der)
}

// sslConfig is the switch side's SSL row for a certificate of p.
func (p *testPKI) sslConfig(t *testing.T, name string) *SSLConfig {
	key, cert := p.issue(t, name)
	return &SSLConfig{PrivateKey: key, Certificate: cert, CACert: p.CACert}
}

// tlsConfig is a controller's TLS configuration: its certificate from
// p, trusting the CA of trust.
func (p *testPKI) tlsConfig(t *testing.T, name string, trust *testPKI) *tls.Config {
	t.Helper()
	key, cert := p.issue(t, name)
	kp, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(trust.caCert)
	return &tls.Config{Certificates: []tls.Certificate{kp}, ClientCAs: pool, RootCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, ServerName: name, MinVersion: tls.VersionTLS12,
		InsecureSkipVerify: true, VerifyPeerCertificate: verifyChain(pool)}
}

// waitStatus waits until target's status satisfies ok.
func waitStatus(t *testing.T, a *Agent, target string, ok func(ControllerStatus) bool) ControllerStatus {
	t.Helper()
	var last ControllerStatus
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, st := range a.ControllerStatus() {
			if st.Target == target {
				last = st
				if ok(st) {
					return st
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("status of %s: %+v", target, last)
	return last
}

// controllerHello finishes a controller's side of HELLO on nc.
func controllerHello(t *testing.T, nc net.Conn) *peer {
	t.Helper()
	p := &peer{t: t, nc: nc, r: ofp.NewReader(nc, 0)}
	p.read()
	p.write(helloMsg([]uint8{ofp.Version13}))
	p.echo(ofp.Version13)
	return p
}

func TestSSLActiveController(t *testing.T) {
	ts := newTestSwitch(t)
	ca, rogue := newTestPKI(t, "ca"), newTestPKI(t, "rogue")
	ssl := ca.sslConfig(t, "switch")
	good, err := tls.Listen("tcp", "127.0.0.1:0", ca.tlsConfig(t, "ctl", ca))
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	// A controller whose certificate the switch's CA did not sign.
	bad, err := tls.Listen("tcp", "127.0.0.1:0", rogue.tlsConfig(t, "evil", ca))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	go func() { // complete handshakes so the switch's refusal is what fails
		for {
			nc, err := bad.Accept()
			if err != nil {
				return
			}
			nc.(*tls.Conn).Handshake()
			nc.Close()
		}
	}()
	goodT, badT := "ssl:"+good.Addr().String(), "ssl:"+bad.Addr().String()
	const noSSL = "ssl:127.0.0.1:1"
	err = ts.a.SetControllers([]Controller{{Target: goodT, SSL: ssl}, {Target: badT, SSL: ssl}, {Target: noSSL}})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := good.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	controllerHello(t, nc)
	waitStatus(t, ts.a, goodT, func(st ControllerStatus) bool { return st.IsConnected })
	st := waitStatus(t, ts.a, badT, func(st ControllerStatus) bool {
		return strings.Contains(st.Status["last_error"], "not signed by ca_cert")
	})
	if st.IsConnected {
		t.Fatalf("controller with a foreign certificate connected: %+v", st)
	}
	waitStatus(t, ts.a, noSSL, func(st ControllerStatus) bool {
		return !st.IsConnected && st.Status["last_error"] == errNoSSL.Error()
	})
	if !ts.a.Connected() {
		t.Fatal("the good controller's connection went away")
	}
}

func TestSSLPassiveController(t *testing.T) {
	ts := newTestSwitch(t)
	ca, rogue := newTestPKI(t, "ca"), newTestPKI(t, "rogue")
	const target = "pssl:0:127.0.0.1"
	if err := ts.a.SetControllers([]Controller{{Target: target, SSL: ca.sslConfig(t, "switch")}}); err != nil {
		t.Fatal(err)
	}
	addr := ts.a.ListenAddr(target).String()
	// Wrong CA: the handshake fails and the listener says why.
	if nc, err := tls.Dial("tcp", addr, rogue.tlsConfig(t, "evil", ca)); err == nil {
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := nc.Read(make([]byte, 1)); err == nil {
			t.Fatal("the switch talked to a controller of another CA")
		}
		nc.Close()
	}
	waitStatus(t, ts.a, target, func(st ControllerStatus) bool {
		return !st.IsConnected && strings.Contains(st.Status["last_error"], "not signed by ca_cert")
	})
	// A controller that trusts another CA refuses the switch.
	if nc, err := tls.Dial("tcp", addr, ca.tlsConfig(t, "ctl", rogue)); err == nil {
		nc.Close()
		t.Fatal("controller accepted the switch's certificate from an untrusted CA")
	}
	nc, err := tls.Dial("tcp", addr, ca.tlsConfig(t, "ctl", ca))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	controllerHello(t, nc)
	waitStatus(t, ts.a, target, func(st ControllerStatus) bool { return st.IsConnected && st.Status["state"] == "ACTIVE" })

	// Unusable files are reported at once; the listener stays.
	if err := ts.a.SetControllers([]Controller{{Target: target, SSL: &SSLConfig{PrivateKey: "/nonexistent", Certificate: "/x", CACert: ca.CACert}}}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, ts.a, target, func(st ControllerStatus) bool { return strings.Contains(st.Status["last_error"], "/nonexistent") })
	if err := ts.a.SetControllers([]Controller{{Target: target, SSL: &SSLConfig{BootstrapCACert: true}}}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, ts.a, target, func(st ControllerStatus) bool { return strings.Contains(st.Status["last_error"], "bootstrap_ca_cert") })
}

// TestProbeInterval: a silent controller gets echo requests every probe
// interval and is dropped after two intervals without an answer.
func TestProbeInterval(t *testing.T) {
	ts := newTestSwitch(t)
	const target = "ptcp:0:127.0.0.1"
	if err := ts.a.SetControllers([]Controller{{Target: target, ProbeInterval: 50 * time.Millisecond}}); err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", ts.a.ListenAddr(target).String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	p := controllerHello(t, nc)
	for i := 0; i < 2; i++ { // answered probes keep the connection
		m := p.read()
		if m[1] != ofp.TypeEchoRequest {
			t.Fatalf("got message type %d, want an echo request", m[1])
		}
		p.write(echoReply(m))
	}
	if m := p.read(); m[1] != ofp.TypeEchoRequest {
		t.Fatalf("got message type %d, want an echo request", m[1])
	}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := p.r.ReadMessage(); !errors.Is(err, io.EOF) {
		t.Fatalf("unanswered probe: read %v, want the switch to hang up", err)
	}
}

// TestBackoffCappedByMaxBackoff: attempts at a target that refuses
// connections wait 1 s, doubling, never more than MaxBackoff, and a new
// MaxBackoff applies to the running target.
func TestBackoffCappedByMaxBackoff(t *testing.T) {
	ts := newTestSwitch(t)
	waits := make(chan time.Duration)
	fired := make(chan time.Time)
	close(fired)
	ts.a.after = func(d time.Duration) <-chan time.Time {
		select { // one attempt per wait the test reads
		case waits <- d:
		case <-ts.a.stop:
		}
		return fired
	}
	l, target := controllerListener(t)
	l.Close() // connections are refused from now on
	next := func() time.Duration {
		t.Helper()
		select {
		case d := <-waits:
			return d
		case <-time.After(10 * time.Second):
			t.Fatal("no reconnect attempt")
		}
		return 0
	}
	if err := ts.a.SetControllers([]Controller{{Target: target, MaxBackoff: 5 * time.Second}}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []time.Duration{1, 2, 4, 5, 5, 5} {
		if d := next(); d != want*time.Second {
			t.Fatalf("wait %d: %v, want %v", i, d, want*time.Second)
		}
	}
	if err := ts.a.SetControllers([]Controller{{Target: target, MaxBackoff: 2 * time.Second}}); err != nil {
		t.Fatal(err)
	}
	next() // the wait computed before the change may use the old cap
	for i := 0; i < 3; i++ {
		if d := next(); d != 2*time.Second {
			t.Fatalf("wait after lowering max_backoff: %v, want 2s", d)
		}
	}
	if st := ts.a.ControllerStatus(); len(st) != 1 || !strings.Contains(st[0].Status["last_error"], "refused") {
		t.Fatalf("status %+v", st)
	}
}

// TestProbeTimeoutLastError: an active controller that stops answering is
// hung up on, and Controller.status last_error says why (not "use of
// closed network connection").
func TestProbeTimeoutLastError(t *testing.T) {
	ts := newTestSwitch(t)
	l, target := controllerListener(t)
	if err := ts.a.SetControllers([]Controller{{Target: target, ProbeInterval: 50 * time.Millisecond}}); err != nil {
		t.Fatal(err)
	}
	nc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	p := controllerHello(t, nc)
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for { // read the probes, answer none, until the switch hangs up
		if _, err := p.r.ReadMessage(); err != nil {
			break
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var last string
		for _, st := range ts.a.ControllerStatus() {
			if st.Target == target {
				last = st.Status["last_error"]
			}
		}
		if strings.Contains(last, "inactivity probe") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("last_error %q, want the inactivity probe named", last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// controllerListener listens for an active controller connection on a
// loopback port (closed when the test ends) and returns its "tcp:" target.
func controllerListener(t *testing.T) (net.Listener, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, "tcp:" + l.Addr().String()
}

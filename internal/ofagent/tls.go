package ofagent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// SSLConfig is the Open_vSwitch table's SSL row: the files ssl: and pssl:
// targets use. As in OVS, both ends authenticate: the switch presents its
// certificate and accepts only a peer whose certificate chains to CACert
// (no host name check: OpenFlow peers are identified by their CA).
type SSLConfig struct {
	PrivateKey  string // PEM private key file
	Certificate string // PEM certificate file for PrivateKey
	CACert      string // PEM CA certificate file peers must chain to
	// BootstrapCACert asks to fetch the CA certificate from the first
	// controller (OVS's --bootstrap-ca-cert). govs does not implement
	// it: such a configuration is refused with a clear error.
	BootstrapCACert bool
}

// errNoSSL is the status of an ssl:/pssl: target when the Open_vSwitch
// row has no SSL configuration.
var errNoSSL = errors.New("no SSL configuration (set one with ovs-vsctl set-ssl)")

// sslHandshakeTimeout bounds a TLS handshake, so a peer that connects
// and says nothing cannot hold a connection slot.
const sslHandshakeTimeout = 10 * time.Second

// load reads the files. They are read again for every connection, as OVS
// rereads them when they change, so replaced certificates take effect at
// the next (re)connection without a configuration change.
func (s *SSLConfig) load() (tls.Certificate, *x509.CertPool, error) {
	if s == nil {
		return tls.Certificate{}, nil, errNoSSL
	}
	if s.BootstrapCACert {
		return tls.Certificate{}, nil, errors.New("SSL bootstrap_ca_cert is not supported: install the CA certificate and set bootstrap_ca_cert=false")
	}
	if s.PrivateKey == "" || s.Certificate == "" || s.CACert == "" {
		return tls.Certificate{}, nil, errors.New("SSL configuration needs private_key, certificate and ca_cert")
	}
	cert, err := tls.LoadX509KeyPair(s.Certificate, s.PrivateKey)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("SSL key %s / certificate %s: %w", s.PrivateKey, s.Certificate, err)
	}
	pem, err := os.ReadFile(s.CACert)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("SSL ca_cert: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return tls.Certificate{}, nil, fmt.Errorf("SSL ca_cert %s: no PEM certificate", s.CACert)
	}
	return cert, pool, nil
}

// tlsConfig is the TLS configuration of an ssl: connection (server
// false) or of a connection a pssl: listener accepted (server true).
func (s *SSLConfig) tlsConfig(server bool) (*tls.Config, error) {
	cert, pool, err := s.load()
	if err != nil {
		return nil, err
	}
	c := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		// The peer's chain is verified against ca_cert below, without
		// the host name check crypto/tls would otherwise make: OVS
		// identifies peers by CA, and targets are usually IP addresses.
		InsecureSkipVerify:    true,
		VerifyPeerCertificate: verifyChain(pool),
	}
	if server {
		c.ClientAuth = tls.RequireAnyClientCert
	}
	return c, nil
}

// verifyChain accepts a peer whose certificate chains to pool, for any
// key usage (OVS does not check it).
func verifyChain(pool *x509.CertPool) func([][]byte, [][]*x509.Certificate) error {
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("peer sent no certificate")
		}
		certs := make([]*x509.Certificate, len(raw))
		for i, r := range raw {
			c, err := x509.ParseCertificate(r)
			if err != nil {
				return fmt.Errorf("peer certificate: %w", err)
			}
			certs[i] = c
		}
		inter := x509.NewCertPool()
		for _, c := range certs[1:] {
			inter.AddCert(c)
		}
		_, err := certs[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err != nil {
			return fmt.Errorf("peer certificate not signed by ca_cert: %w", err)
		}
		return nil
	}
}

// tlsHandshake runs the handshake of c, for at most sslHandshakeTimeout.
func tlsHandshake(ctx context.Context, c *tls.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, sslHandshakeTimeout)
	defer cancel()
	if err := c.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("SSL handshake: %w", err)
	}
	return nil
}

// sslServer runs the server side of the handshake on a connection a
// pssl: listener accepted, with the files as they are now.
func sslServer(ctx context.Context, nc net.Conn, cfg *SSLConfig) (net.Conn, error) {
	tc, err := cfg.tlsConfig(true)
	if err != nil {
		return nil, err
	}
	c := tls.Server(nc, tc)
	if err := tlsHandshake(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

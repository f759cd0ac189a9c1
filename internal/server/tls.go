package server

import (
	"crypto/tls"
	"fmt"
	"sync/atomic"
)

// Certificates is the serving certificate, loaded from a PEM pair and
// swapped by Reload while connections keep being accepted.
type Certificates struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// LoadCertificates reads the PEM certificate chain and key.
func LoadCertificates(certFile, keyFile string) (*Certificates, error) {
	c := &Certificates{certFile: certFile, keyFile: keyFile}
	if err := c.Reload(certFile, keyFile); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads a new pair; on error the current certificate stays.
func (c *Certificates) Reload(certFile, keyFile string) error {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("tls certificate %s / key %s: %w", certFile, keyFile, err)
	}
	c.certFile, c.keyFile = certFile, keyFile
	c.cur.Store(&pair)
	return nil
}

// Check reads a pair without using it (to validate a new configuration).
func Check(certFile, keyFile string) error {
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		return fmt.Errorf("tls certificate %s / key %s: %w", certFile, keyFile, err)
	}
	return nil
}

// TLSConfig serves the current certificate, TLS 1.2 and later.
func (c *Certificates) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load(), nil
		},
	}
}

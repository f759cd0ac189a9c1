package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for 127.0.0.1 with the given
// serial, and returns its pool.
func writeCert(t *testing.T, certFile, keyFile string, serial int64) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "roster test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return pool
}

// tlsServe makes one request on a fresh connection and returns the serial
// of the certificate the server presented.
func tlsServe(t *testing.T, url string, pool *x509.CertPool) int64 {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}, Timeout: 10 * time.Second}
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("%s: %d", url, res.StatusCode)
	}
	return res.TLS.PeerCertificates[0].SerialNumber.Int64()
}

// With tls.cert_file/key_file the binary serves HTTPS; SIGHUP re-reads the
// pair (new connections get the new certificate), and a pair that does not
// load is rejected while the old certificate keeps being served.
func TestServeHTTPSAndReloadTheCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pool1 := writeCert(t, certFile, keyFile, 1)
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\ndatabase: {dsn: "+filepath.Join(dir, "r.db")+"}\ntls: {cert_file: "+certFile+", key_file: "+keyFile+"}\n")
	d := startServe(t, dir, "--config", cfg)
	if !strings.HasPrefix(d.base, "https://") {
		t.Fatalf("base %s is not https", d.base)
	}
	if s := tlsServe(t, d.base+"/readyz", pool1); s != 1 {
		t.Fatalf("serial %d", s)
	}
	// Plain HTTP on the TLS port does not get served.
	if res, err := http.Get(strings.Replace(d.base, "https://", "http://", 1) + "/healthz"); err == nil {
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Fatal("plain HTTP was served on the TLS listener")
		}
	}
	pool2 := writeCert(t, certFile, keyFile, 2)
	at := d.hup(t)
	d.waitLog(t, at, `msg="config reloaded"`)
	if s := tlsServe(t, d.base+"/readyz", pool2); s != 2 {
		t.Fatalf("after reload the serial is %d", s)
	}
	// A broken key: rejected, certificate 2 stays.
	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	at = d.hup(t)
	logs := d.waitLog(t, at, `msg="config reload rejected; the running configuration stays"`)
	if !strings.Contains(logs, "key.pem") {
		t.Errorf("the rejection does not name the key file:\n%s", logs)
	}
	if s := tlsServe(t, d.base+"/healthz", pool2); s != 2 {
		t.Fatalf("after a rejected reload the serial is %d", s)
	}
	d.stop(t)
}

// Package tlsconf builds the tls.Config of every transport's server and
// client from PEM files, the same way for all six: TLS 1.3 by default (1.2
// allowed by option), the server's certificate reloaded when its files are
// renewed (no restart), and, with a client CA, client certificates
// required and verified (mutual TLS). Transports set their own ALPN
// protocols on the config (h2 for gRPC, h2 and http/1.1 for Connect and
// REST). Listener performs the handshakes of a plain TCP server off its
// accept loop, bounded in number and in time.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Option changes a config.
type Option func(*tls.Config)

// WithTLS12 allows TLS 1.2 as well as 1.3 (for peers that have no 1.3).
func WithTLS12() Option { return func(c *tls.Config) { c.MinVersion = tls.VersionTLS12 } }

// WithNextProtos sets the ALPN protocols offered, in order of preference.
func WithNextProtos(protos ...string) Option {
	return func(c *tls.Config) { c.NextProtos = protos }
}

// Server returns the config of a server that presents the certificate in
// certFile and keyFile, and, when clientCAFile is not empty, requires a
// client certificate signed by one of its CAs. The certificate files are
// read again when they change (checked at most once a second, by
// modification time and size), so a renewed certificate is served without
// a restart; if the new files cannot be loaded the old certificate stays.
func Server(certFile, keyFile, clientCAFile string, opts ...Option) (*tls.Config, error) {
	r := &reloader{certFile: certFile, keyFile: keyFile}
	if err := r.load(); err != nil {
		return nil, err
	}
	c := &tls.Config{MinVersion: tls.VersionTLS13, GetCertificate: r.get}
	if clientCAFile != "" {
		pool, err := pool(clientCAFile)
		if err != nil {
			return nil, err
		}
		c.ClientCAs, c.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Client returns the config of a client that trusts the CAs in caFile
// (the system's when empty) and, when certFile and keyFile are given,
// presents that client certificate.
func Client(caFile, certFile, keyFile string, opts ...Option) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS13}
	if caFile != "" {
		pool, err := pool(caFile)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	switch {
	case certFile != "" && keyFile != "":
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{cert}
	case certFile != "" || keyFile != "":
		return nil, errors.New("tlsconf: a client certificate needs both its file and its key's")
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// pool reads the PEM certificates of file into a pool.
func pool(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("tlsconf: %s holds no PEM certificate", file)
	}
	return p, nil
}

// reloader serves a certificate and reloads it when its files change.
type reloader struct {
	certFile, keyFile string

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string    // modification times and sizes of the files loaded
	checked time.Time // when the files were last looked at
}

func stampOf(files ...string) (string, error) {
	s := ""
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		s += fmt.Sprintf("%d/%d;", fi.ModTime().UnixNano(), fi.Size())
	}
	return s, nil
}

func (r *reloader) load() error {
	stamp, err := stampOf(r.certFile, r.keyFile)
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return err
	}
	r.cert, r.stamp = &cert, stamp
	return nil
}

// get is the config's GetCertificate: the current certificate, reloaded
// first if its files changed since they were last loaded.
func (r *reloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checked) >= time.Second {
		r.checked = now
		if stamp, err := stampOf(r.certFile, r.keyFile); err == nil && stamp != r.stamp {
			old := r.cert
			if r.load() != nil {
				r.cert = old // keep serving the old one; try again later
			}
		}
	}
	return r.cert, nil
}

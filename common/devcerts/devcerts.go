// Package devcerts writes a development PKI for IGBank's TLS and
// authentication, with crypto/x509 and nothing else: a CA, a server
// certificate for loopback, a client certificate per principal, and the
// key pair of bearer tokens. Command devcerts writes one into a folder;
// tests write one into a temporary folder. None of it is for production:
// the CA's key is not kept, so a new PKI is a new run.
package devcerts

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// DefaultPrincipals are the client certificates written by default: the
// teller, and the customers of the first two accounts.
var DefaultPrincipals = []string{"teller", "customer-000000001", "customer-000000002"}

// The files of a PKI in its folder.
const (
	CAFile        = "ca.pem"
	ServerCert    = "server.pem"
	ServerKey     = "server-key.pem"
	TokenKeyFile  = "token.key" // signs tokens: keep it with whoever mints them
	TokenPubFile  = "token.pub" // verifies tokens: what a server's -token-key takes
	validity      = 365 * 24 * time.Hour
	clockSkewback = time.Hour
)

// CertFile and KeyFile are the file names of principal p's certificate.
func CertFile(p string) string { return p + ".pem" }

// KeyFile is the file name of principal p's private key.
func KeyFile(p string) string { return p + "-key.pem" }

var principalName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Write writes a new PKI into dir (created if missing): ca.pem,
// server.pem and server-key.pem (valid for 127.0.0.1, ::1 and
// localhost), NAME.pem and NAME-key.pem for each principal (the name in
// the subject's common name), token.key and token.pub. Existing files are
// replaced.
func Write(dir string, principals []string) error {
	for _, p := range principals {
		if !principalName.MatchString(p) {
			return fmt.Errorf("devcerts: principal %q: want letters, digits, '.', '_' or '-', 1 to 64 of them", p)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "IGBank development CA"},
		NotBefore:             now.Add(-clockSkewback),
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, ca, err := sign(caTmpl, nil, caKey, caKey)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, CAFile), "CERTIFICATE", caDER, 0o644); err != nil {
		return err
	}
	server := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if err := leaf(dir, ServerCert, ServerKey, server, ca, caKey, now); err != nil {
		return err
	}
	for _, p := range principals {
		client := &x509.Certificate{
			Subject:     pkix.Name{CommonName: p},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		if err := leaf(dir, CertFile(p), KeyFile(p), client, ca, caKey, now); err != nil {
			return err
		}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, TokenKeyFile), "PRIVATE KEY", privDER, 0o600); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, TokenPubFile), "PUBLIC KEY", pubDER, 0o644)
}

// leaf makes a key and a certificate from tmpl signed by the CA, and
// writes both.
func leaf(dir, certFile, keyFile string, tmpl, ca *x509.Certificate, caKey crypto.Signer, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl.NotBefore, tmpl.NotAfter = now.Add(-clockSkewback), now.Add(validity)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, _, err := sign(tmpl, ca, key, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, certFile), "CERTIFICATE", der, 0o644); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, keyFile), "PRIVATE KEY", keyDER, 0o600)
}

// sign signs tmpl (self-signed when parent is nil) for key's public key.
func sign(tmpl, parent *x509.Certificate, key *ecdsa.PrivateKey, signer crypto.Signer) ([]byte, *x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = serial
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return der, cert, err
}

func writePEM(file, typ string, der []byte, mode os.FileMode) error {
	return os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode)
}

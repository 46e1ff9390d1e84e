package cli

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"strings"

	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/tlsconf"
	"github.com/igbank/igbank/common/transport"
)

// ServerSecurity are the security flags of every server program.
type ServerSecurity struct {
	TLSCert, TLSKey string // -tls-cert, -tls-key: serve TLS with this certificate
	ClientCA        string // -client-ca: require client certificates of this CA
	TokenKey        string // -token-key: check bearer tokens with this public key
	TLS12           bool   // -tls12: allow TLS 1.2 as well as 1.3
	Insecure        bool   // -insecure: allow plaintext on a non-loopback address
}

func (s *ServerSecurity) register(fs *flag.FlagSet, d transport.Descriptor) {
	fs.StringVar(&s.TLSCert, "tls-cert", "", "serve TLS with the certificate in `FILE` (PEM; with -tls-key)")
	fs.StringVar(&s.TLSKey, "tls-key", "", "the private key of -tls-cert (`FILE`, PEM)")
	fs.StringVar(&s.ClientCA, "client-ca", "", "require client certificates signed by the CAs in `FILE` (mutual TLS); the certificate's subject is the caller")
	if d.Tokens {
		fs.StringVar(&s.TokenKey, "token-key", "", "check bearer tokens with the Ed25519 public key in `FILE` (devcerts' token.pub)")
	}
	fs.BoolVar(&s.TLS12, "tls12", false, "allow TLS 1.2 as well as 1.3")
	fs.BoolVar(&s.Insecure, "insecure", false, "serve plaintext on an address that is not loopback")
}

// Args are the flags that say s, for a program that starts a server.
func (s *ServerSecurity) Args() []string {
	var a []string
	for _, f := range []struct{ flag, file string }{{"-tls-cert", s.TLSCert}, {"-tls-key", s.TLSKey},
		{"-client-ca", s.ClientCA}, {"-token-key", s.TokenKey}} {
		if f.file != "" {
			a = append(a, f.flag, f.file)
		}
	}
	if s.TLS12 {
		a = append(a, "-tls12")
	}
	if s.Insecure {
		a = append(a, "-insecure")
	}
	return a
}

// Authenticates reports whether callers must say who they are: a client
// CA or a token key makes the server serve the bank behind
// auth.Authorize.
func (s *ServerSecurity) Authenticates() bool { return s.ClientCA != "" || s.TokenKey != "" }

// Config returns the server settings the flags describe, refusing
// plaintext on a non-loopback addr unless -insecure.
func (s *ServerSecurity) Config(addr string) (transport.ServerConfig, error) {
	var cfg transport.ServerConfig
	switch {
	case (s.TLSCert == "") != (s.TLSKey == ""):
		return cfg, errors.New("-tls-cert and -tls-key go together")
	case s.ClientCA != "" && s.TLSCert == "":
		return cfg, errors.New("-client-ca needs TLS: give -tls-cert and -tls-key")
	case s.TLSCert == "" && !s.Insecure && !loopback(addr):
		return cfg, fmt.Errorf("refusing to serve plaintext on %s, which is not a loopback address: give -tls-cert and -tls-key, or -insecure", addr)
	}
	if s.TLSCert != "" {
		var opts []tlsconf.Option
		if s.TLS12 {
			opts = append(opts, tlsconf.WithTLS12())
		}
		c, err := tlsconf.Server(s.TLSCert, s.TLSKey, s.ClientCA, opts...)
		if err != nil {
			return cfg, err
		}
		cfg.TLS = c
	}
	if s.TokenKey != "" {
		v, err := auth.LoadVerifier(s.TokenKey)
		if err != nil {
			return cfg, err
		}
		cfg.Tokens = v
	}
	return cfg, nil
}

// Describe says what the flags turned on, for the ready line.
func (s *ServerSecurity) Describe() string {
	var on []string
	if s.TLSCert != "" {
		on = append(on, "TLS")
	}
	if s.ClientCA != "" {
		on = append(on, "client certificates")
	}
	if s.TokenKey != "" {
		on = append(on, "bearer tokens")
	}
	if len(on) == 0 {
		return "plaintext"
	}
	return strings.Join(on, ", ")
}

// CheckMetrics refuses to serve metrics, which are plaintext HTTP, at addr
// if it is not a loopback address, unless -insecure.
func (s *ServerSecurity) CheckMetrics(addr string) error {
	if addr != "" && !s.Insecure && !loopback(addr) {
		return fmt.Errorf("-metrics %s: refusing to serve metrics in plaintext on an address that is not loopback without -insecure", addr)
	}
	return nil
}

// loopback reports whether the host of addr is a loopback address (or
// localhost). An empty host, 0.0.0.0 or :: listen on every interface.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ClientSecurity are the security flags of every client program.
type ClientSecurity struct {
	TLSCA, TLSCert, TLSKey string
	Token                  string
}

func (c *ClientSecurity) register(fs *flag.FlagSet, d transport.Descriptor) {
	fs.StringVar(&c.TLSCA, "tls-ca", "", "speak TLS, trusting the CAs in `FILE` (PEM; devcerts' ca.pem)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "present the client certificate in `FILE` (mutual TLS; with -tls-key)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "the private key of -tls-cert (`FILE`)")
	if d.Tokens {
		fs.StringVar(&c.Token, "token", "", "send this bearer `TOKEN` with every call (devcerts token)")
	}
}

// Config returns the client settings the flags describe.
func (c *ClientSecurity) Config() (transport.ClientConfig, error) {
	var cfg transport.ClientConfig
	cfg.Token = c.Token
	if c.TLSCA == "" && c.TLSCert == "" && c.TLSKey == "" {
		return cfg, nil
	}
	t, err := tlsconf.Client(c.TLSCA, c.TLSCert, c.TLSKey)
	if err != nil {
		return cfg, err
	}
	cfg.TLS = t
	return cfg, nil
}

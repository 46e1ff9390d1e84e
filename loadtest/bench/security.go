package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/devcerts"
	"github.com/igbank/igbank/common/tlsconf"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/transports"
)

// The security modes a run can measure (Config.Security): what a call
// costs in plaintext, over TLS, and over TLS with every call authenticated
// and authorized (auth.Authorize on the server) as the teller, by its
// client certificate (mutual TLS) or by a bearer token. A transport that
// carries no tokens (Thrift) authenticates by certificate in the token
// mode too, and the row says so.
const (
	SecurityPlain = "plain"
	SecurityTLS   = "tls"
	SecurityMTLS  = "mtls"
	SecurityToken = "token"
)

// securityModes are the modes, in the order a table lists them.
var securityModes = []string{SecurityPlain, SecurityTLS, SecurityMTLS, SecurityToken}

func validSecurity(m string) bool {
	for _, s := range securityModes {
		if s == m {
			return true
		}
	}
	return false
}

// pki is a run's development PKI: devcerts in a temporary folder, and the
// teller's token.
type pki struct {
	dir   string
	token string
}

// newPKI writes a PKI for a run that needs one.
func newPKI() (*pki, error) {
	dir, err := os.MkdirTemp("", "igbank-loadtest-pki-")
	if err != nil {
		return nil, err
	}
	if err := devcerts.Write(dir, []string{string(auth.Teller)}); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s, err := auth.LoadSigner(filepath.Join(dir, devcerts.TokenKeyFile))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	tok, err := s.Token(auth.Teller, 24*time.Hour)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &pki{dir: dir, token: tok}, nil
}

func (p *pki) close() { os.RemoveAll(p.dir) }

func (p *pki) file(name string) string { return filepath.Join(p.dir, name) }

// tokens reports whether transport variant name carries bearer tokens.
func tokens(name string) bool {
	d, _, ok := transports.Lookup(name)
	return ok && d.Tokens
}

// serverSecurity is the security of variant name's server in mode m.
func (p *pki) serverSecurity(m, name string) cli.ServerSecurity {
	if m == SecurityPlain {
		return cli.ServerSecurity{}
	}
	s := cli.ServerSecurity{TLSCert: p.file(devcerts.ServerCert), TLSKey: p.file(devcerts.ServerKey)}
	switch {
	case m == SecurityMTLS, m == SecurityToken && !tokens(name):
		s.ClientCA = p.file(devcerts.CAFile)
	case m == SecurityToken:
		s.TokenKey = p.file(devcerts.TokenPubFile)
	}
	return s
}

// clientConfig is the shared client settings of variant name in mode m.
func (p *pki) clientConfig(m, name string) (transport.ClientConfig, error) {
	var cfg transport.ClientConfig
	if m == SecurityPlain {
		return cfg, nil
	}
	cert, key := "", ""
	if m == SecurityMTLS || m == SecurityToken && !tokens(name) {
		cert, key = p.file(devcerts.CertFile(string(auth.Teller))), p.file(devcerts.KeyFile(string(auth.Teller)))
	}
	t, err := tlsconf.Client(p.file(devcerts.CAFile), cert, key)
	if err != nil {
		return cfg, err
	}
	cfg.TLS = t
	if m == SecurityToken && tokens(name) {
		cfg.Token = p.token
	}
	return cfg, nil
}

// DescribeSecurity is mode m, with churn or not, for a heading.
func DescribeSecurity(m string, churn bool) string {
	s := map[string]string{SecurityPlain: "plaintext", SecurityTLS: "TLS", SecurityMTLS: "TLS + client certificates (authorized as the teller)",
		SecurityToken: "TLS + bearer tokens (authorized as the teller; Thrift by client certificate)"}[m]
	if churn {
		s += ", a new connection per call"
	}
	return s
}

// churn is a client that makes a connection of its own for every call
// (dial, call, close): what a handshake costs, for a client that does not
// keep its connections.
type churn struct {
	dial transport.DialFunc
	addr string
}

func (c churn) client(ctx context.Context) (transport.Client, error) {
	cl, err := c.dial(ctx, c.addr)
	var be *bank.Error
	if err != nil && !errors.As(err, &be) {
		err = bank.FromContext(ctx, err)
	}
	return cl, err
}

func (c churn) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	cl, err := c.client(ctx)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	return cl.Balance(ctx, acc)
}

func (c churn) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	cl, err := c.client(ctx)
	if err != nil {
		return bank.Statement{}, err
	}
	defer cl.Close()
	return cl.Statement(ctx, req)
}

func (c churn) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	cl, err := c.client(ctx)
	if err != nil {
		return bank.DepositReceipt{}, err
	}
	defer cl.Close()
	return cl.Deposit(ctx, req)
}

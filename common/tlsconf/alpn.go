package tlsconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"

	"github.com/igbank/igbank/common/bank"
)

// The TCP transports (raw sockets, net/rpc, Thrift) each negotiate an ALPN
// protocol of their own in their handshakes, on both sides: a client of
// another transport offers its own and is refused at the handshake
// (no_application_protocol), so it never sends bytes the server cannot
// read. A client that offers no ALPN at all (a foreign client, say) is
// served.

// ForServer returns a copy of config that negotiates alpn, or nil for a
// nil config (plaintext).
func ForServer(config *tls.Config, alpn string) *tls.Config {
	if config == nil {
		return nil
	}
	c := config.Clone()
	c.NextProtos = []string{alpn}
	return c
}

// ForClient returns a copy of config that offers alpn and, when config
// names no server, verifies the server's certificate against addr's host;
// or nil for a nil config (plaintext).
func ForClient(config *tls.Config, addr, alpn string) *tls.Config {
	if config == nil {
		return nil
	}
	c := config.Clone()
	c.NextProtos = []string{alpn}
	if c.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			c.ServerName = host
		}
	}
	return c
}

// Handshake runs a client's TLS handshake over nc within ctx with config
// (from ForClient). On failure it closes nc and returns ctx's error, or a
// bank error (Failure's; else unavailable: a server that hung up, say).
func Handshake(ctx context.Context, nc net.Conn, config *tls.Config) (*tls.Conn, error) {
	tc := tls.Client(nc, config)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		var be *bank.Error
		if err = Failure(err, config.NextProtos...); !errors.As(err, &be) {
			err = &bank.Error{Code: bank.Unavailable, Message: "TLS handshake failed", Err: err}
		}
		return nil, err
	}
	return tc, nil
}

// certificateAlerts are the TLS alerts a server sends when it refuses the
// client's certificate, or its lack of one.
var certificateAlerts = []tls.AlertError{
	42,  // bad_certificate
	43,  // unsupported_certificate
	44,  // certificate_revoked
	45,  // certificate_expired
	46,  // certificate_unknown
	48,  // unknown_ca
	49,  // access_denied
	116, // certificate_required
}

// noApplicationProtocol is the alert of a server that speaks none of the
// ALPN protocols offered: another transport's port.
const noApplicationProtocol tls.AlertError = 120

// Failure classifies an error of a client's TLS connection, during its
// handshake or on its first read (with TLS 1.3 the server checks the
// client's certificate after the client has finished its handshake, so its
// refusal arrives as the answer to the first request): a certificate
// refused on either side is unauthenticated; a server that does not speak
// TLS, or not the client's protocol (alpn), is unavailable. Any other
// error, a bank error included, is returned as it is. Go's alert type is
// unexported, so a remote alert is recognized by its text.
func Failure(err error, alpn ...string) error {
	var (
		be *bank.Error
		rh tls.RecordHeaderError
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		oe *net.OpError
	)
	switch {
	case err == nil || errors.As(err, &be):
		return err
	case errors.As(err, &rh):
		return &bank.Error{Code: bank.Unavailable, Message: "the server does not speak TLS", Err: err}
	case errors.As(err, &cv), errors.As(err, &ua):
		return &bank.Error{Code: bank.Unauthenticated, Message: "the server's certificate is not trusted", Err: err}
	case errors.As(err, &oe) && oe.Op == "remote error" && oe.Err != nil:
		alert := oe.Err.Error()
		for _, a := range certificateAlerts {
			if alert == a.Error() {
				return &bank.Error{Code: bank.Unauthenticated, Message: "the server refused the client's certificate", Err: err}
			}
		}
		if alert == noApplicationProtocol.Error() {
			msg := "the server does not speak this protocol"
			if len(alpn) > 0 {
				msg = "the server does not speak " + alpn[0]
			}
			return &bank.Error{Code: bank.Unavailable, Message: msg, Err: err}
		}
		return &bank.Error{Code: bank.Unavailable, Message: "the server refused the TLS handshake", Err: err}
	}
	return err
}

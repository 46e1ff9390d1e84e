package auth

import (
	"context"
	"crypto/x509"
	"strings"

	"github.com/igbank/igbank/common/bank"
)

// Principal is an authenticated caller.
type Principal string

// Teller may read and deposit into any account.
const Teller Principal = "teller"

const customerPrefix = "customer-"

// Customer is the principal that owns account acc.
func Customer(acc bank.AccountNo) Principal { return Principal(customerPrefix + string(acc)) }

// Account returns the account p owns, if p is a customer.
func (p Principal) Account() (bank.AccountNo, bool) {
	acc, ok := strings.CutPrefix(string(p), customerPrefix)
	if !ok || bank.ValidateAccount(bank.AccountNo(acc)) != nil {
		return "", false
	}
	return bank.AccountNo(acc), true
}

// FromCertificate is the principal a client certificate names: its
// subject's common name. The certificate must have been verified against
// the server's client CA already (the TLS handshake does it).
func FromCertificate(c *x509.Certificate) (Principal, bool) {
	if c == nil || c.Subject.CommonName == "" {
		return "", false
	}
	return Principal(c.Subject.CommonName), true
}

// identity is what Authenticate learned of a call's caller.
type identity struct {
	principal Principal
	err       error // why the credential was refused, if it was
}

type identityKey struct{}

// NewContext returns ctx carrying p as the call's principal.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, identityKey{}, identity{principal: p})
}

// FromContext returns the principal of the call ctx belongs to.
func FromContext(ctx context.Context) (Principal, bool) {
	id, ok := ctx.Value(identityKey{}).(identity)
	return id.principal, ok && id.err == nil && id.principal != ""
}

// Authenticate returns ctx carrying the principal that a call's
// credentials name: the bearer token if the call carries one (checked by
// v; nil v refuses every token), otherwise the verified client
// certificate (certs[0], the leaf), otherwise none. A token that fails
// the check makes the call unauthenticated even if a certificate would
// have named someone: a caller who sent a credential meant it.
func Authenticate(ctx context.Context, v *Verifier, bearer string, certs []*x509.Certificate) context.Context {
	if bearer != "" {
		if v == nil {
			return context.WithValue(ctx, identityKey{}, identity{err: bank.Errorf(bank.Unauthenticated, "this server does not take bearer tokens")})
		}
		p, err := v.Verify(bearer)
		return context.WithValue(ctx, identityKey{}, identity{principal: p, err: err})
	}
	if len(certs) > 0 {
		if p, ok := FromCertificate(certs[0]); ok {
			return NewContext(ctx, p)
		}
		return context.WithValue(ctx, identityKey{}, identity{err: bank.Errorf(bank.Unauthenticated, "the client certificate names no principal")})
	}
	return ctx
}

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header value, or "" if it is not one.
func BearerToken(authorization string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// principalOf returns the call's principal, or the unauthenticated error
// that says why there is none.
func principalOf(ctx context.Context) (Principal, error) {
	id, _ := ctx.Value(identityKey{}).(identity)
	switch {
	case id.err != nil:
		return "", id.err
	case id.principal == "":
		return "", bank.Errorf(bank.Unauthenticated, "no credentials: a client certificate or a bearer token is required")
	}
	return id.principal, nil
}

package auth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/igbank/igbank/common/bank"
)

// Audience is the "aud" of every IGBank token: a token minted for another
// service does not pass here.
const Audience = "igbank"

// maxTokenBytes bounds a token before any parsing: an Ed25519 JWT for
// the longest principal is a few hundred bytes.
const maxTokenBytes = 4 << 10

// Verifier checks bearer tokens with a public key. It remembers the
// tokens it has verified until they expire (up to maxVerified of them),
// so that a client that sends the same token with every call (gRPC,
// Connect, REST) pays for the signature check once, not per call: an
// Ed25519 verification costs tens of µs, more than a whole call on the
// fastest transports. Only tokens that passed every check are
// remembered, and their expiry is checked again on every use.
type Verifier struct {
	key ed25519.PublicKey
	now func() time.Time

	mu       sync.Mutex
	verified map[string]verifiedToken
}

// verifiedToken is what a verified token named, and until when.
type verifiedToken struct {
	principal Principal
	expires   time.Time
}

// maxVerified bounds the tokens a Verifier remembers; when it is full it
// forgets them all and starts again.
const maxVerified = 4096

// leeway is the clock skew allowed on a token's times.
const leeway = 5 * time.Second

// NewVerifier returns a Verifier of tokens signed by pub's private key.
func NewVerifier(pub ed25519.PublicKey) *Verifier {
	return &Verifier{key: pub, now: time.Now, verified: map[string]verifiedToken{}}
}

// LoadVerifier reads a PEM public key (PKIX, as devcerts writes
// token.pub) and returns its Verifier.
func LoadVerifier(file string) (*Verifier, error) {
	k, err := readPEM(file, "PUBLIC KEY", x509.ParsePKIXPublicKey)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 public key", file)
	}
	return NewVerifier(pub), nil
}

// Verify checks token (signature, algorithm, audience, expiry, which is
// required) and returns the principal it names. Every failure is a
// bank.ErrUnauthenticated error saying which check failed, never what
// the token held.
func (v *Verifier) Verify(token string) (Principal, error) {
	if len(token) > maxTokenBytes {
		return "", bank.Errorf(bank.Unauthenticated, "bearer token of %d bytes is too long", len(token))
	}
	v.mu.Lock()
	known, ok := v.verified[token]
	v.mu.Unlock()
	if ok {
		if v.now().Before(known.expires.Add(leeway)) {
			return known.principal, nil
		}
		return "", bank.Errorf(bank.Unauthenticated, "bearer token expired")
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return v.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(v.now),
		jwt.WithLeeway(leeway),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "", bank.Errorf(bank.Unauthenticated, "bearer token expired")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "", bank.Errorf(bank.Unauthenticated, "bearer token signed by another key")
	case err != nil:
		return "", bank.Errorf(bank.Unauthenticated, "bearer token refused: %s", tokenProblem(err))
	case claims.Subject == "":
		return "", bank.Errorf(bank.Unauthenticated, "bearer token names no principal")
	}
	p := Principal(claims.Subject)
	v.mu.Lock()
	if len(v.verified) >= maxVerified {
		clear(v.verified)
	}
	v.verified[token] = verifiedToken{principal: p, expires: claims.ExpiresAt.Time}
	v.mu.Unlock()
	return p, nil
}

// tokenProblem names the check a token failed, in words of jwt's
// sentinel errors, without echoing any of the token.
func tokenProblem(err error) string {
	for _, e := range []error{jwt.ErrTokenMalformed, jwt.ErrTokenUnverifiable, jwt.ErrTokenInvalidAudience,
		jwt.ErrTokenRequiredClaimMissing, jwt.ErrTokenNotValidYet, jwt.ErrTokenUsedBeforeIssued} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "invalid"
}

// Signer makes bearer tokens with a private key.
type Signer struct {
	key ed25519.PrivateKey
	now func() time.Time
}

// NewSigner returns a Signer with key.
func NewSigner(key ed25519.PrivateKey) *Signer { return &Signer{key: key, now: time.Now} }

// LoadSigner reads a PEM private key (PKCS #8, as devcerts writes
// token.key).
func LoadSigner(file string) (*Signer, error) {
	k, err := readPEM(file, "PRIVATE KEY", x509.ParsePKCS8PrivateKey)
	if err != nil {
		return nil, err
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 private key", file)
	}
	return NewSigner(priv), nil
}

// Token returns a token for p, valid for ttl from now.
func (s *Signer) Token(p Principal, ttl time.Duration) (string, error) {
	now := s.now()
	claims := jwt.RegisteredClaims{
		Subject:   string(p),
		Audience:  jwt.ClaimStrings{Audience},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims).SignedString(s.key)
}

// Public returns the public key of s, what its Verifier takes.
func (s *Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// readPEM reads the one PEM block of type typ in file and parses it.
func readPEM[K any](file, typ string, parse func([]byte) (K, error)) (K, error) {
	var zero K
	data, err := os.ReadFile(file)
	if err != nil {
		return zero, err
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != typ {
		return zero, fmt.Errorf("%s: no PEM %s block", file, typ)
	}
	k, err := parse(b.Bytes)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", file, err)
	}
	return k, nil
}

var _ crypto.Signer = ed25519.PrivateKey(nil)

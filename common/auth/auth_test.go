package auth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

func newSigner(t testing.TB) *auth.Signer {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return auth.NewSigner(priv)
}

func token(t testing.TB, s *auth.Signer, p auth.Principal, ttl time.Duration) string {
	tok, err := s.Token(p, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokens(t *testing.T) {
	s := newSigner(t)
	v := auth.NewVerifier(s.Public())
	p, err := v.Verify(token(t, s, auth.Teller, time.Minute))
	if err != nil || p != auth.Teller {
		t.Fatalf("a good token: %q, %v", p, err)
	}
	other := newSigner(t)
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: "teller", Audience: jwt.ClaimStrings{auth.Audience},
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}).SignedString([]byte("secret"))
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.RegisteredClaims{Subject: "teller", Audience: jwt.ClaimStrings{auth.Audience},
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.RegisteredClaims{Subject: "teller", Audience: jwt.ClaimStrings{auth.Audience}}).SignedString(priv)
	wrongAud, _ := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.RegisteredClaims{Subject: "teller", Audience: jwt.ClaimStrings{"other"},
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}).SignedString(priv)
	for name, tok := range map[string]string{
		"expired":         token(t, s, auth.Teller, -time.Minute),
		"another key":     token(t, other, auth.Teller, time.Minute),
		"HS256":           hs,
		"alg none":        none,
		"garbage":         "not.a.token",
		"too long":        strings.Repeat("a", 5000),
		"no expiry":       noExp,
		"other audience":  wrongAud,
		"no principal":    token(t, s, "", time.Minute),
		"tampered":        token(t, s, auth.Teller, time.Minute) + "x",
		"empty":           "",
		"two tokens glue": token(t, s, auth.Teller, time.Minute) + "." + token(t, s, auth.Teller, time.Minute),
	} {
		p, err := v.Verify(tok)
		if !errors.Is(err, bank.ErrUnauthenticated) || p != "" {
			t.Errorf("%s: Verify = %q, %v; want unauthenticated", name, p, err)
		}
		if err != nil && len(tok) > 20 && strings.Contains(err.Error(), tok[:20]) {
			t.Errorf("%s: the error echoes the token: %v", name, err)
		}
	}
}

func TestBearerToken(t *testing.T) {
	for in, want := range map[string]string{
		"Bearer abc":    "abc",
		"bearer  abc ":  "abc",
		"Basic abc":     "",
		"Bearer":        "",
		"":              "",
		" Bearer x.y.z": "x.y.z",
	} {
		if got := auth.BearerToken(in); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func cert(cn string) *x509.Certificate { return &x509.Certificate{Subject: pkix.Name{CommonName: cn}} }

func TestAuthenticate(t *testing.T) {
	s := newSigner(t)
	v := auth.NewVerifier(s.Public())
	ctx := context.Background()
	check := func(name string, ctx context.Context, want auth.Principal) {
		t.Helper()
		if p, ok := auth.FromContext(ctx); p != want || ok != (want != "") {
			t.Errorf("%s: principal %q (%v), want %q", name, p, ok, want)
		}
	}
	check("nothing", auth.Authenticate(ctx, v, "", nil), "")
	check("certificate", auth.Authenticate(ctx, v, "", []*x509.Certificate{cert("customer-000000001")}), "customer-000000001")
	check("token", auth.Authenticate(ctx, v, token(t, s, auth.Teller, time.Minute), nil), auth.Teller)
	check("token over certificate", auth.Authenticate(ctx, v, token(t, s, auth.Teller, time.Minute), []*x509.Certificate{cert("customer-000000001")}), auth.Teller)
	check("bad token over certificate", auth.Authenticate(ctx, v, "garbage", []*x509.Certificate{cert("customer-000000001")}), "")
	check("token without verifier", auth.Authenticate(ctx, nil, token(t, s, auth.Teller, time.Minute), nil), "")
	check("certificate without a name", auth.Authenticate(ctx, v, "", []*x509.Certificate{cert("")}), "")
}

// TestAuthorize: the rules, with the reasons a caller sees.
func TestAuthorize(t *testing.T) {
	svc := bank.NewService(ledger.NewMemory(3))
	b := auth.Authorize(svc)
	s := newSigner(t)
	v := auth.NewVerifier(s.Public())
	acc1, acc2, unknown := ledger.SeedAccount(1), ledger.SeedAccount(2), bank.AccountNo("000000999")
	as := func(p auth.Principal) context.Context { return auth.NewContext(context.Background(), p) }
	dep := func(acc bank.AccountNo, key string) bank.DepositRequest {
		return bank.DepositRequest{Account: acc, Amount: 100, IdempotencyKey: key}
	}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		call func(context.Context) error
		want error
	}{
		{"owner reads", as(auth.Customer(acc1)), func(ctx context.Context) error { _, err := b.Balance(ctx, acc1); return err }, nil},
		{"owner deposits", as(auth.Customer(acc1)), func(ctx context.Context) error { _, err := b.Deposit(ctx, dep(acc1, "a")); return err }, nil},
		{"other account", as(auth.Customer(acc1)), func(ctx context.Context) error { _, err := b.Balance(ctx, acc2); return err }, bank.ErrPermissionDenied},
		{"other deposit", as(auth.Customer(acc1)), func(ctx context.Context) error { _, err := b.Deposit(ctx, dep(acc2, "b")); return err }, bank.ErrPermissionDenied},
		{"unknown account: denied, not not_found", as(auth.Customer(acc1)), func(ctx context.Context) error {
			_, err := b.Statement(ctx, bank.StatementRequest{Account: unknown, Month: "2026-11"})
			return err
		}, bank.ErrPermissionDenied},
		{"teller reads any", as(auth.Teller), func(ctx context.Context) error { _, err := b.Balance(ctx, acc2); return err }, nil},
		{"teller deposits any", as(auth.Teller), func(ctx context.Context) error { _, err := b.Deposit(ctx, dep(acc2, "c")); return err }, nil},
		{"teller sees not_found", as(auth.Teller), func(ctx context.Context) error { _, err := b.Balance(ctx, unknown); return err }, bank.ErrNotFound},
		{"stranger", as("eve"), func(ctx context.Context) error { _, err := b.Balance(ctx, acc1); return err }, bank.ErrPermissionDenied},
		{"customer of a malformed account", as("customer-12"), func(ctx context.Context) error { _, err := b.Balance(ctx, "12"); return err }, bank.ErrPermissionDenied},
		{"no credentials", context.Background(), func(ctx context.Context) error { _, err := b.Balance(ctx, acc1); return err }, bank.ErrUnauthenticated},
		{"expired token", auth.Authenticate(context.Background(), v, token(t, s, auth.Teller, -time.Hour), nil), func(ctx context.Context) error { _, err := b.Balance(ctx, acc1); return err }, bank.ErrUnauthenticated},
		{"bad key as sent", as(auth.Teller), func(ctx context.Context) error { _, err := b.Deposit(ctx, dep(acc1, "has\x1fsep")); return err }, bank.ErrInvalidArgument},
		{"longest key", as(auth.Customer(acc1)), func(ctx context.Context) error {
			_, err := b.Deposit(ctx, dep(acc1, strings.Repeat("k", bank.MaxKeyLen)))
			return err
		}, nil},
	} {
		err := tc.call(tc.ctx)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestKeysAreScoped: the same key from two principals is two deposits; a
// principal replays its own; a statement shows a key only to its owner.
func TestKeysAreScoped(t *testing.T) {
	svc := bank.NewService(ledger.NewMemory(3))
	b := auth.Authorize(svc)
	acc := ledger.SeedAccount(1)
	owner, teller := auth.NewContext(context.Background(), auth.Customer(acc)), auth.NewContext(context.Background(), auth.Teller)
	req := bank.DepositRequest{Account: acc, Amount: 100, IdempotencyKey: "same-key"}
	r1, err := b.Deposit(owner, req)
	if err != nil || r1.Replayed {
		t.Fatalf("owner's deposit: %+v, %v", r1, err)
	}
	r2, err := b.Deposit(teller, req)
	if err != nil || r2.Replayed || r2.TransactionID == r1.TransactionID {
		t.Fatalf("the teller's deposit with the owner's key: %+v, %v; want a deposit of its own", r2, err)
	}
	r3, err := b.Deposit(owner, req)
	if err != nil || !r3.Replayed || r3.TransactionID != r1.TransactionID {
		t.Fatalf("the owner's retry: %+v, %v; want the replay of %d", r3, err, r1.TransactionID)
	}
	month := bank.MonthOf(time.Now())
	for _, v := range []struct {
		ctx  context.Context
		want map[int64]string
	}{
		{owner, map[int64]string{r1.TransactionID: "same-key", r2.TransactionID: ""}},
		{teller, map[int64]string{r1.TransactionID: "", r2.TransactionID: "same-key"}},
	} {
		st, err := b.Statement(v.ctx, bank.StatementRequest{Account: acc, Month: month})
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range st.Transactions {
			if want, ok := v.want[tx.ID]; ok && tx.IdempotencyKey != want {
				t.Errorf("transaction %d shows key %q, want %q", tx.ID, tx.IdempotencyKey, want)
			}
		}
	}
}

func FuzzVerify(f *testing.F) {
	s := newSigner(f)
	v := auth.NewVerifier(s.Public())
	f.Add(token(f, s, auth.Teller, time.Hour))
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZWxsZXIifQ.")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := v.Verify(tok)
		if err == nil && p == "" {
			t.Fatal("accepted with no principal")
		}
		if err != nil && !errors.Is(err, bank.ErrUnauthenticated) {
			t.Fatalf("error %v is not unauthenticated", err)
		}
	})
}

func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer\tabc", "Basic x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok := auth.BearerToken(h)
		if tok != strings.TrimSpace(tok) || (tok != "" && !strings.Contains(h, tok)) {
			t.Fatalf("BearerToken(%q) = %q", h, tok)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s := auth.NewSigner(priv)
	tok := token(b, s, auth.Teller, time.Hour)
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			if _, err := auth.NewVerifier(s.Public()).Verify(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("remembered", func(b *testing.B) {
		v := auth.NewVerifier(s.Public())
		for b.Loop() {
			if _, err := v.Verify(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

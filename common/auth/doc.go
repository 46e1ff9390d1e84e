// Package auth is IGBank's authentication and authorization, written once
// for every transport.
//
// A caller is a Principal: "customer-<account>" owns that account;
// "teller" may read and deposit into any account. A transport only
// authenticates: it hands the call's credentials — the verified client
// certificate of a mutual TLS connection, or a bearer token carried the
// way that stack carries credentials — to Authenticate, which puts the
// principal (or why there is none) in the call's context. Authorize is a
// decorator over bank.Bank that reads it and applies the rules, so the
// rules exist once whatever transport is underneath:
//
//   - no credential, or a malformed, expired or wrongly signed one, is
//     unauthenticated;
//   - a principal may touch only the accounts it may, and an account it may
//     not see answers permission_denied before the ledger is asked, so
//     nothing leaks about other accounts (not even whether they exist);
//   - idempotency keys are scoped to the principal that sent them (as
//     Stripe scopes them to an API key): no principal can claim, replay or
//     probe another's key, and a statement shows a key only to its owner.
//
// Bearer tokens are JWTs signed with Ed25519 (EdDSA) by golang-jwt/jwt:
// the signing key makes tokens (cmd devcerts), the public key only checks
// them, so a server can verify tokens but cannot mint them.
package auth

// Command devcerts writes a development PKI for IGBank's TLS and
// authentication (crypto/x509 only), and makes bearer tokens with it:
//
//	devcerts -dir DIR [-principals teller,customer-000000001,...]
//	devcerts token -dir DIR -principal NAME [-ttl 1h]
//
// The first writes ca.pem, server.pem and server-key.pem (for 127.0.0.1,
// ::1 and localhost), NAME.pem and NAME-key.pem for each principal, and
// the token key pair token.key (signs) and token.pub (verifies: what a
// server's -token-key takes). The second prints a token for NAME signed
// with DIR/token.key.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/devcerts"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "token" {
		return token(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("devcerts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "folder to write the PKI into (required)")
	principals := fs.String("principals", strings.Join(devcerts.DefaultPrincipals, ","), "comma-separated principals to make client certificates for")
	if err := fs.Parse(args); err != nil || *dir == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: devcerts -dir DIR [-principals NAME,...]\n       devcerts token -dir DIR -principal NAME [-ttl 1h]")
		return 2
	}
	var ps []string
	for _, p := range strings.Split(*principals, ",") {
		if p = strings.TrimSpace(p); p != "" {
			ps = append(ps, p)
		}
	}
	if err := devcerts.Write(*dir, ps); err != nil {
		fmt.Fprintf(stderr, "devcerts: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote a development CA, a server certificate and %d client certificates (%s) and the token keys into %s\n",
		len(ps), strings.Join(ps, ", "), *dir)
	return 0
}

func token(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("devcerts token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "folder of the PKI (required)")
	principal := fs.String("principal", "", "principal the token names (required)")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil || *dir == "" || *principal == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: devcerts token -dir DIR -principal NAME [-ttl 1h]")
		return 2
	}
	s, err := auth.LoadSigner(filepath.Join(*dir, devcerts.TokenKeyFile))
	if err != nil {
		fmt.Fprintf(stderr, "devcerts: %v\n", err)
		return 1
	}
	tok, err := s.Token(auth.Principal(*principal), *ttl)
	if err != nil {
		fmt.Fprintf(stderr, "devcerts: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

package faults

import (
	"crypto/tls"
	"os"
	"path/filepath"

	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/devcerts"
	"github.com/igbank/igbank/common/tlsconf"
)

// keys are a cell's TLS: a development PKI in a folder of its own, the
// server's and the client's configs, and the files a server process takes.
type keys struct {
	dir    string
	server *tls.Config
	client *tls.Config
}

// newKeys writes a PKI for a cell run with -tls (no client certificates:
// the lab measures what TLS does to the partial failures, not
// authentication).
func newKeys() (*keys, error) {
	dir, err := os.MkdirTemp("", "igbank-faults-tls-")
	if err != nil {
		return nil, err
	}
	k := &keys{dir: dir}
	if err := devcerts.Write(dir, nil); err != nil {
		k.close()
		return nil, err
	}
	if k.server, err = tlsconf.Server(k.file(devcerts.ServerCert), k.file(devcerts.ServerKey), ""); err != nil {
		k.close()
		return nil, err
	}
	if k.client, err = tlsconf.Client(k.file(devcerts.CAFile), "", ""); err != nil {
		k.close()
		return nil, err
	}
	return k, nil
}

func (k *keys) file(name string) string { return filepath.Join(k.dir, name) }

// security is what a server process of the cell is started with.
func (k *keys) security() cli.ServerSecurity {
	return cli.ServerSecurity{TLSCert: k.file(devcerts.ServerCert), TLSKey: k.file(devcerts.ServerKey)}
}

func (k *keys) close() { os.RemoveAll(k.dir) }

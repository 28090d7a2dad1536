package postgres

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/pgtest"
)

// tlsCluster is a throwaway cluster with ssl=on and a self-signed
// certificate, its key readable by the server's user only.
func tlsCluster(t *testing.T) *pgtest.Cluster {
	t.Helper()
	// The server runs as postgres when we are root: a dir it can reach
	// (t.TempDir's parent is private).
	dir, err := os.MkdirTemp("", "pgtls-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	crt, kf := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	os.WriteFile(crt, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(kf, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		os.Chown(kf, uid, gid)
	}
	return pgtest.NewWith(t, pgtest.Options{Settings: map[string]string{"ssl": "on", "ssl_cert_file": crt, "ssl_key_file": kf}})
}

// Against a server with TLS, the login goes on over layer 2's connection
// too (the server said S: pq's TLS handshake follows on it), and a client
// that disables TLS gets a connection of its own.
func TestCheckTLSServer(t *testing.T) {
	c := tlsCluster(t)
	ctx := context.Background()
	db, err := c.CreateDatabase(ctx, "tls")
	if err != nil {
		t.Fatal(err)
	}
	role, pw, err := c.CreateRole(ctx, "tls")
	if err != nil {
		t.Fatal(err)
	}
	for mode, wantConns := range map[string]int32{"sslmode=require": 1, "sslmode=prefer": 1, "": 1, "sslmode=disable": 2, "sslmode=allow": 2} {
		t.Run(mode, func(t *testing.T) {
			addr, conns := countingProxy(t, net.JoinHostPort(c.Host, fmt.Sprint(c.Port)))
			host, port, _ := net.SplitHostPort(addr)
			o := Options{DSN: fmt.Sprintf("host=%s port=%s user=%s password=%s dbname=%s %s", host, port, role, pw, db, mode), TimeoutState: checks.Critical}
			r, out := checkPG(t, o, 20*time.Second)
			if r.State != checks.OK {
				t.Fatalf("check: %s", out)
			}
			if n := conns.Load(); n != wantConns {
				t.Errorf("%d connections, want %d", n, wantConns)
			}
		})
	}
}

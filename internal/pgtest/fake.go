package pgtest

import (
	"net"
	"testing"
)

// FakeServer listens on loopback and, for each connection, reads the
// client's first packet (an SSLRequest), writes reply ("N" answers it as a
// PostgreSQL server would; "" writes nothing) and then holds the connection
// open without answering, until the test ends: a server whose login hangs.
// Each connection is reported on the returned channel once answered, and
// again once the client has sent its login (the startup packet) on it.
func FakeServer(t testing.TB, reply string) (port int, answered <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 64)
	done := make(chan struct{})
	t.Cleanup(func() { close(done); l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if reply != "" {
					buf := make([]byte, 8)
					_, _ = c.Read(buf)
					_, _ = c.Write([]byte(reply))
				}
				report := func() {
					select {
					case ch <- struct{}{}:
					default:
					}
				}
				report()
				if reply != "" {
					// The login, which the server never answers.
					if n, _ := c.Read(make([]byte, 512)); n > 0 {
						report()
					}
				}
				<-done
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port, ch
}

// ClosedPort returns a loopback port nothing listens on.
func ClosedPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

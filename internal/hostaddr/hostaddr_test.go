package hostaddr

import (
	"errors"
	"net"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		err      error
	}{
		{"10.0.0.5", "10.0.0.5", nil},
		{"::1", "::1", nil},
		{"[2001:db8::1]", "2001:db8::1", nil},
		{"node7.internal", "node7.internal", nil},
		{"lb-node-2", "lb-node-2", nil},
		{"node7.example.com.", "node7.example.com.", nil},
		{"https://10.0.0.5/", "", ErrURL},
		{"a b", "", ErrURL},
		{"10.0.0.5:8443", "", ErrPort},
		{"10.0.0.256", "", ErrInvalid},
		{"127.0.0.1,127.0.0.2", "", ErrInvalid},
		{"-5", "", ErrInvalid},
		{"fe80::1%eth0", "", ErrInvalid},
		{"node_7", "", ErrInvalid},
		{"", "", ErrInvalid},
	} {
		got, err := Check(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("Check(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"10.0.0.5", "::1", "[::1]", "a.b", "a:1", "x/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Check(s)
		if err == nil && !HostName(got) && net.ParseIP(got) == nil {
			t.Errorf("Check(%q) = %q, accepted", s, got)
		}
	})
}

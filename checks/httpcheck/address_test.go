package httpcheck

import (
	"errors"
	"net"
	"testing"
)

func TestCheckAddress(t *testing.T) {
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
		{"https://10.0.0.5/", "", ErrAddressURL},
		{"a b", "", ErrAddressURL},
		{"10.0.0.5:8443", "", ErrAddressPort},
		{"10.0.0.256", "", ErrAddressInvalid},
		{"127.0.0.1,127.0.0.2", "", ErrAddressInvalid},
		{"-5", "", ErrAddressInvalid},
		{"fe80::1%eth0", "", ErrAddressInvalid},
		{"node_7", "", ErrAddressInvalid},
		{"", "", ErrAddressInvalid},
	} {
		got, err := CheckAddress(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("CheckAddress(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzCheckAddress(f *testing.F) {
	for _, s := range []string{"10.0.0.5", "::1", "[::1]", "a.b", "a:1", "x/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := CheckAddress(s)
		if err == nil && !HostName(got) && net.ParseIP(got) == nil {
			t.Errorf("CheckAddress(%q) = %q, accepted", s, got)
		}
	})
}

package httpcheck

// What an address flag (check http's -I, and run's) names: one IP address
// or one DNS host name, without a port.

import (
	"errors"
	"net"
	"strings"
)

// The reasons CheckAddress gives; callers put their flag's name in front.
var (
	ErrAddressURL     = errors.New("give an IP address or a host name, no URL")
	ErrAddressPort    = errors.New("give an address without a port")
	ErrAddressInvalid = errors.New("give one IP address (10.0.0.5, 2001:db8::5) or one host name")
)

// CheckAddress returns a (an IPv6 address may be bracketed) without brackets, or
// one of ErrAddressURL, ErrAddressPort and ErrAddressInvalid.
func CheckAddress(a string) (string, error) {
	a = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(a), "["), "]")
	switch {
	case strings.ContainsAny(a, "/@?# ") || strings.Contains(a, "://"):
		return "", ErrAddressURL
	case net.ParseIP(a) != nil:
		return a, nil
	case strings.Count(a, ":") == 1:
		return "", ErrAddressPort
	case !HostName(a):
		return "", ErrAddressInvalid
	}
	return a, nil
}

// HostName reports whether s is a DNS host name: dot-separated labels of
// letters, digits and inner hyphens, the last not all digits (so that a
// mistyped IPv4 address such as 10.0.0.256 is not taken for a name).
func HostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}

package httpcheck

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

var inf = math.Inf(1)

// certError is a certificate the client must not trust, in plain words.
type certError struct{ msg string }

func (e *certError) Error() string { return e.msg }

func certFail(format string, args ...any) error {
	return &certError{msg: fmt.Sprintf(format, args...)}
}

// verifier checks a server's certificate as a browser or Go's default
// client would — a chain to a trusted root, each certificate within its
// validity, the leaf valid for the name — and says what is wrong in plain
// words, one line. It also finds the days until the certificate (or the
// chain's first certificate to expire) runs out.
type verifier struct {
	name   string
	roots  *x509.CertPool // nil: the system's
	now    time.Time
	caFile string // how messages name Options.CAFile

	days    *int   // until the first expiry of the best chain, or of the leaf when none verifies
	summary string // what a good certificate is: for the layer's detail
	expiry  string // "certificate for … expires in 12 days (2026-12-24)"
}

const day = 24 * time.Hour

func daysUntil(t, now time.Time) int { return int(math.Floor(t.Sub(now).Hours() / 24)) }

func date(t time.Time) string { return t.UTC().Format("2006-01-02") }

// verify is tls.Config.VerifyConnection.
func (v *verifier) verify(cs tls.ConnectionState) error {
	certs := cs.PeerCertificates
	if len(certs) == 0 {
		return certFail("the server sent no certificate")
	}
	leaf := certs[0]
	d := daysUntil(leaf.NotAfter, v.now)
	v.days = &d
	who := certName(leaf)
	switch {
	case v.now.After(leaf.NotAfter):
		ago := int(v.now.Sub(leaf.NotAfter) / day)
		when := fmt.Sprintf("%d days ago", ago)
		switch ago {
		case 0:
			when = "today"
		case 1:
			when = "yesterday"
		}
		return certFail("certificate %s expired on %s (%s)", who, date(leaf.NotAfter), when)
	case v.now.Before(leaf.NotBefore):
		return certFail("certificate %s is not valid before %s (a clock out of step, or a certificate issued for later)", who, date(leaf.NotBefore))
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: v.roots, Intermediates: inter, CurrentTime: v.now})
	if err != nil {
		return v.chainError(leaf, err)
	}
	if err := leaf.VerifyHostname(v.name); err != nil {
		return certFail("certificate %s is not valid for %s", names(leaf), v.name)
	}
	// The best chain is the one that lasts longest: a server may send an
	// old cross-signed intermediate that a newer root makes moot.
	var first time.Time
	var firstCert *x509.Certificate
	for _, chain := range chains {
		var soonest *x509.Certificate
		for _, c := range chain {
			if soonest == nil || c.NotAfter.Before(soonest.NotAfter) {
				soonest = c
			}
		}
		if firstCert == nil || soonest.NotAfter.After(first) {
			first, firstCert = soonest.NotAfter, soonest
		}
	}
	d = daysUntil(first, v.now)
	v.days = &d
	issuer := chains[0][min(1, len(chains[0])-1)]
	what := "certificate for " + v.name
	if firstCert != leaf {
		what = fmt.Sprintf("certificate chain for %s (%s)", v.name, certName(firstCert))
	}
	v.expiry = fmt.Sprintf("%s expires in %d day%s (%s)", what, d, plural(d), date(first))
	v.summary = fmt.Sprintf("certificate for %s until %s (%d day%s), issued by %s", v.name, date(first), d, plural(d), subject(issuer))
	return nil
}

// chainError names what is wrong with the chain.
func (v *verifier) chainError(leaf *x509.Certificate, err error) error {
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		if selfSigned(leaf) {
			return certFail("certificate %s is self-signed, and not trusted (%s trusts it)", certName(leaf), v.caFile)
		}
		return certFail("certificate %s is issued by %s, which is not trusted: an unknown or private CA (%s trusts it), or the server does not send the intermediate certificate",
			certName(leaf), subjectOf(leaf.Issuer), v.caFile)
	case errors.As(err, &ci):
		c := "certificate " + certName(ci.Cert)
		if ci.Cert != leaf {
			c = "the chain's certificate " + subject(ci.Cert)
		}
		switch ci.Reason {
		case x509.Expired:
			if v.now.After(ci.Cert.NotAfter) {
				return certFail("%s expired on %s", c, date(ci.Cert.NotAfter))
			}
			return certFail("%s is not valid before %s", c, date(ci.Cert.NotBefore))
		case x509.NotAuthorizedToSign:
			return certFail("%s signed another but is not a CA", c)
		case x509.IncompatibleUsage:
			return certFail("%s is not for TLS servers (its extended key usage)", c)
		case x509.CANotAuthorizedForThisName, x509.CANotAuthorizedForExtKeyUsage:
			return certFail("%s is outside what its CA may sign (name constraints)", c)
		case x509.TooManyIntermediates:
			return certFail("the chain of certificate %s is too long", certName(leaf))
		}
		return certFail("%s is not valid (reason %d)", c, ci.Reason)
	}
	var se x509.SystemRootsError
	if errors.As(err, &se) {
		return certFail("no system CA certificates to verify against: install ca-certificates, or give %s", v.caFile)
	}
	return certFail("certificate %s is not valid: %s", certName(leaf), oneLine(err.Error()))
}

// selfSigned reports whether c signed itself.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

// certName names a leaf for a message: "for app.example.com", or its
// subject when it names no host.
func certName(c *x509.Certificate) string {
	if len(c.DNSNames) > 0 {
		return "for " + c.DNSNames[0]
	}
	if len(c.IPAddresses) > 0 {
		return "for " + c.IPAddresses[0].String()
	}
	return subject(c)
}

// names lists the names a certificate is valid for, at most five.
func names(c *x509.Certificate) string {
	var all []string
	all = append(all, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		all = append(all, ip.String())
	}
	switch {
	case len(all) == 0 && c.Subject.CommonName != "":
		return fmt.Sprintf("has no names but its common name %s (which clients ignore)", c.Subject.CommonName)
	case len(all) == 0:
		return "names no host"
	case len(all) > 5:
		all = append(all[:5], fmt.Sprintf("%d more", len(all)-5))
	}
	return "for " + strings.Join(all, ", ")
}

// subject is a certificate's subject for people: its common name, else
// its organisation, else the whole, quoted.
func subject(c *x509.Certificate) string { return subjectOf(c.Subject) }

func subjectOf(n pkix.Name) string {
	switch {
	case n.CommonName != "":
		return quoteName(n.CommonName)
	case len(n.Organization) > 0:
		return quoteName(n.Organization[0])
	}
	return quoteName(n.String())
}

func quoteName(s string) string {
	if s == "" {
		return `""`
	}
	return `"` + oneLine(s) + `"`
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

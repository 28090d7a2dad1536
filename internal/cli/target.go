package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/suitecheck/suitecheck/checks/httpcheck"
	"github.com/suitecheck/suitecheck/internal/regfile"
	"github.com/suitecheck/suitecheck/suites"
)

// targetFlags are the flags that point a check at a host, as a monitoring
// host's check definition passes it: --base-url, or -H and --port as
// check_http users write them, and --var / --secret-var.
type targetFlags struct {
	t          suites.Target
	vars       []string
	secretVars []string
}

func (tf *targetFlags) register(f *pflag.FlagSet) {
	f.StringVar(&tf.t.BaseURL, "base-url", "", "the app's base URL, over the environment's base_url (e.g. https://$HOSTADDRESS$)")
	f.StringVarP(&tf.t.Host, "host", "H", "", "the host to check: the environment's base_url with this host ($HOSTADDRESS$, host.address)")
	f.IntVar(&tf.t.Port, "port", 0, "with -H or alone: the environment's base_url with this port")
	f.StringVarP(&tf.t.Address, "address", "I", "", "connect to this address (or name) for the base URL's host, which stays the name of every request and page (Host header, TLS name and certificate, cookies): one node behind a load balancer ($HOSTADDRESS$ with the service's --base-url)")
	f.StringArrayVar(&tf.vars, "var", nil, "NAME=VALUE: a var over the environment's, {{.Vars.NAME}} (repeatable)")
	f.StringArrayVar(&tf.secretVars, "secret-var", nil, "NAME=@FILE: a secret var read from FILE (its first line), masked everywhere (repeatable)")
}

// secretVarMax bounds a --secret-var file: a token, a password, a DSN.
const secretVarMax = 64 << 10

// resolve checks the flags and reads the secret files.
func (tf *targetFlags) resolve() (suites.Target, error) {
	t := tf.t
	if t.BaseURL != "" && (t.Host != "" || t.Port != 0) {
		return t, &UsageError{Err: fmt.Errorf("--base-url and -H/--port: give one or the other")}
	}
	if t.Port < 0 || t.Port > 65535 {
		return t, &UsageError{Err: fmt.Errorf("--port %d: give 1 to 65535", t.Port)}
	}
	if t.Address != "" {
		a, err := httpcheck.CheckAddress(t.Address)
		if errors.Is(err, httpcheck.ErrAddressPort) {
			return t, &UsageError{Err: fmt.Errorf("-I/--address %q: %w (the port is the base URL's; --port changes it)", t.Address, err)}
		}
		if err != nil {
			return t, &UsageError{Err: fmt.Errorf("-I/--address %q: %w", t.Address, err)}
		}
		t.Address = a
	}
	var err error
	if t.Vars, err = nameValues("--var", tf.vars, func(v string) (string, error) { return v, nil }); err != nil {
		return t, err
	}
	t.Secrets, err = nameValues("--secret-var", tf.secretVars, func(v string) (string, error) {
		path, ok := strings.CutPrefix(v, "@")
		if !ok {
			return "", fmt.Errorf("give @FILE, so that the secret stays off the command line and out of the process list")
		}
		return regfile.FirstLine(path, secretVarMax)
	})
	return t, err
}

// nameValues reads NAME=VALUE flags.
func nameValues(flag string, list []string, value func(string) (string, error)) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, nv := range list {
		name, v, ok := strings.Cut(nv, "=")
		if !ok || name == "" || strings.ContainsAny(name, " .{}") {
			return nil, &UsageError{Err: fmt.Errorf("%s %q: give NAME=VALUE, e.g. %s admin_user=monitor", flag, nv, flag)}
		}
		val, err := value(v)
		if err != nil {
			return nil, &UsageError{Err: fmt.Errorf("%s %s: %w", flag, name, err)}
		}
		out[name] = val
	}
	return out, nil
}

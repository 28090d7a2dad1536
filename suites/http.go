package suites

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/suitecheck/suitecheck/internal/httpstep"
)

func decodeHTTP(st *StepConfig) (httpstep.Step, error) {
	var s httpstep.Step
	if err := decodeStrict(st, st.Node, &s); err != nil {
		return s, err
	}
	if err := s.Validate(); err != nil {
		return s, &LineError{Line: st.Line, Msg: "step http: " + strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	return s, nil
}

func runHTTP(ctx context.Context, env stepEnv, _ *StepConfig, s httpstep.Step) error {
	env.masker().Add(s.Secrets()...)
	c, err := env.httpClient()
	if err != nil {
		return &configError{fmt.Errorf("http: %w", err)}
	}
	out, err := c.Do(ctx, s)
	if err != nil {
		if errors.Is(err, httpstep.ErrInvalidStep) {
			return &configError{fmt.Errorf("http: %w", err)}
		}
		return &stepError{"http", err}
	}
	for k, v := range out.Vars {
		env.setVar(k, v)
	}
	for _, k := range out.SecretVars {
		env.masker().Add(out.Vars[k])
	}
	return nil
}

// httpOptions are the options of the run's HTTP clients (the steps', the
// tenant's): the environment's CA and TLS choice, -I's address, tracing.
func (r *runEnv) httpOptions(trace func(int, string), level int) httpstep.Options {
	return httpstep.Options{CAFile: r.env.CAFile, Insecure: r.env.Insecure, ConnectTo: r.pins, Trace: trace, TraceLevel: level}
}

// httpClient returns the run's HTTP client, made on first use: one cookie
// jar for the whole run.
func (r *runState) httpClient() (*httpstep.Client, error) {
	if r.http == nil {
		trace, level := r.httpTrace()
		c, err := httpstep.NewClient(r.httpOptions(trace, level))
		if err != nil {
			return nil, err
		}
		r.http = c
		r.ext = append(r.ext, closerFunc(func() error { c.Close(); return nil }))
	}
	r.http.AddSecrets(r.mask.Secrets()...)
	return r.http, nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

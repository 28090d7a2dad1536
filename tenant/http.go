package tenant

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"syscall"
	"time"

	"github.com/theory/jsonpath"

	"github.com/suitecheck/suitecheck/internal/httpstep"
)

// HTTP provisions tenants through the app's admin API. Its requests are
// http steps, built (their templates rendered) for each call by the
// caller: the create step extracts the tenant's fields from the reply.
type HTTP struct {
	Client    *httpstep.Client
	CreateReq func(name string) (httpstep.Step, error)
	DeleteReq func(t Tenant) (httpstep.Step, error)
	// CreateSteps and DeleteSteps, when set, are a create and a delete of
	// several requests (CreateReq and DeleteReq are then unused), each
	// built from the tenant as far as it is known: the fields the earlier
	// create steps extracted.
	CreateSteps []func(t Tenant) (httpstep.Step, error)
	DeleteSteps []func(t Tenant) (httpstep.Step, error)
	// Confirm holds, per tenant field other than the id, the request that
	// asks the app what the field names (a user id: the user), for sweeps
	// (see FieldGetter).
	Confirm map[string]HTTPGet
	// ListReq is nil when no list request is configured. Items selects the
	// tenants in its JSON reply ($[*], $.tenants[*]); NameAt, IDAt and
	// CreatedAt select a tenant's fields within an item ($.name).
	ListReq                        func() (httpstep.Step, error)
	Items, NameAt, IDAt, CreatedAt string
	// GetReq is nil when no get request is configured; GetName selects
	// the tenant's name in its JSON reply ($.name). 404 and 410 say there
	// is no such tenant.
	GetReq      func(t Tenant) (httpstep.Step, error)
	GetName     string
	SecretField func(name string) bool
}

// HTTPGet is a request that asks the app for a thing's name: Name selects
// it in the JSON reply (default $.name); 404 and 410 say there is none.
type HTTPGet struct {
	Req  func(t Tenant) (httpstep.Step, error)
	Name string
}

func (h *HTTP) do(ctx context.Context, build func() (httpstep.Step, error)) (httpstep.Outcome, error) {
	st, err := build()
	if err != nil {
		return httpstep.Outcome{}, &ConfigError{err}
	}
	out, err := h.Client.Do(ctx, st)
	if errors.Is(err, httpstep.ErrInvalidStep) {
		return out, &ConfigError{err}
	}
	return out, err
}

// Create sends the create request (every create step, in order).
func (h *HTTP) Create(ctx context.Context, name string) (Tenant, error) {
	if h.CreateSteps != nil {
		return createAll(ctx, h, name)
	}
	return h.create(ctx, func() (httpstep.Step, error) { return h.CreateReq(name) }, true)
}

// Steps says how many requests create and delete have.
func (h *HTTP) Steps() (int, int) {
	return max(1, len(h.CreateSteps)), max(1, len(h.DeleteSteps))
}

// CreateStep sends create request i.
func (h *HTTP) CreateStep(ctx context.Context, i int, t Tenant) (Tenant, error) {
	if h.CreateSteps == nil {
		return h.Create(ctx, t.Name)
	}
	return h.create(ctx, func() (httpstep.Step, error) { return h.CreateSteps[i](t) }, false)
}

// create sends a create request and returns the fields it extracted. A
// step that extracts the id fails without one; needID: every reply must
// give it (the one create request).
func (h *HTTP) create(ctx context.Context, build func() (httpstep.Step, error), needID bool) (Tenant, error) {
	extractsID := needID
	out, err := h.do(ctx, func() (httpstep.Step, error) {
		st, err := build()
		if _, ok := st.Extract["id"]; ok {
			extractsID = true
		}
		return st, err
	})
	switch {
	case err == nil:
	case IsConfigError(err), refused(out.Status), out.Status == 0 && neverSent(err):
		return Tenant{}, NotCreated(err)
	default:
		// Cut short, a 5xx or gateway error, a 408 or 429, or a reply we
		// could not use: the app may have made it before it answered.
		return Tenant{}, err
	}
	t := Tenant{ID: out.Vars["id"], Fields: out.Vars, Secret: out.SecretVars}
	if t.Fields == nil {
		t.Fields = map[string]string{}
	}
	for k := range out.Vars {
		if h.SecretField != nil && h.SecretField(k) && !slices.Contains(t.Secret, k) {
			t.Secret = append(t.Secret, k)
		}
	}
	if t.ID == "" && extractsID {
		return t, errors.New("the create reply gave no id")
	}
	return t, nil
}

// refused reports a status by which the app refused the request: a 4xx,
// except 408 (timeout) and 429 (too many requests), which a proxy or the
// app may send after it has done the work. A 5xx proves nothing: an app
// that committed and then failed to answer says 500, a gateway whose
// upstream was slow says 502, 503 or 504.
func refused(status int) bool {
	return status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests
}

// neverSent reports a request that never reached the app: the connection
// was refused or the name did not resolve.
func neverSent(err error) bool {
	var dns *net.DNSError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &dns)
}

// Delete sends the delete request (every delete step, in order); 404
// and 410 mean already deleted.
func (h *HTTP) Delete(ctx context.Context, t Tenant) error {
	if h.DeleteSteps != nil {
		return deleteAll(ctx, h, t)
	}
	return h.delete(ctx, func() (httpstep.Step, error) { return h.DeleteReq(t) })
}

// DeleteStep sends delete request i; 404 and 410 mean already deleted.
func (h *HTTP) DeleteStep(ctx context.Context, i int, t Tenant) error {
	if h.DeleteSteps == nil {
		return h.Delete(ctx, t)
	}
	return h.delete(ctx, func() (httpstep.Step, error) { return h.DeleteSteps[i](t) })
}

func (h *HTTP) delete(ctx context.Context, build func() (httpstep.Step, error)) error {
	out, err := h.do(ctx, build)
	if err != nil && (out.Status == http.StatusNotFound || out.Status == http.StatusGone) && !IsConfigError(err) {
		return nil
	}
	return err
}

// ConfirmsField reports whether a confirm request is configured for field.
func (h *HTTP) ConfirmsField(field string) bool {
	_, ok := h.Confirm[field]
	return ok
}

// GetField sends field's confirm request and reads the name in its reply.
func (h *HTTP) GetField(ctx context.Context, field string, t Tenant) (Found, error) {
	g, ok := h.Confirm[field]
	if !ok {
		return Found{}, ErrNoGet
	}
	return h.get(ctx, func() (httpstep.Step, error) { return g.Req(t) }, g.Name, t)
}

// List sends the list request and picks the tenants out of its reply.
func (h *HTTP) List(ctx context.Context) ([]Found, error) {
	if h.ListReq == nil {
		return nil, ErrNoList
	}
	out, err := h.do(ctx, h.ListReq)
	if err != nil {
		return nil, err
	}
	return pickTenants(out.Body, h.Items, h.NameAt, h.IDAt, h.CreatedAt)
}

// Get sends the get request and reads the tenant's name from its reply.
func (h *HTTP) Get(ctx context.Context, t Tenant) (Found, error) {
	if h.GetReq == nil {
		return Found{}, ErrNoGet
	}
	return h.get(ctx, func() (httpstep.Step, error) { return h.GetReq(t) }, h.GetName, t)
}

func (h *HTTP) get(ctx context.Context, build func() (httpstep.Step, error), nameAt string, t Tenant) (Found, error) {
	out, err := h.do(ctx, build)
	if err != nil {
		if (out.Status == http.StatusNotFound || out.Status == http.StatusGone) && !IsConfigError(err) {
			return Found{}, ErrNotFound
		}
		return Found{}, err
	}
	nameAt = cmp.Or(nameAt, "$.name")
	found, err := pickTenants(out.Body, "$", nameAt, "", "")
	if err != nil {
		return Found{}, fmt.Errorf("get reply: %w", err)
	}
	if len(found) != 1 {
		return Found{}, fmt.Errorf("get reply: no name at %s", nameAt)
	}
	return Found{Name: found[0].Name, ID: t.ID}, nil
}

// pickTenants reads a JSON list reply. An empty idAt takes items without
// an id (a get reply).
func pickTenants(body []byte, items, nameAt, idAt, createdAt string) ([]Found, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("list reply: not JSON: %w", err)
	}
	paths := map[string]*jsonpath.Path{}
	for _, p := range []string{items, nameAt, idAt, createdAt} {
		if p == "" {
			continue
		}
		jp, err := jsonpath.Parse(p)
		if err != nil {
			return nil, &ConfigError{fmt.Errorf("list: JSONPath %q: %w", p, err)}
		}
		paths[p] = jp
	}
	one := func(item any, p string) string {
		if p == "" {
			return ""
		}
		nodes := paths[p].Select(item)
		if len(nodes) != 1 || nodes[0] == nil {
			return ""
		}
		switch v := nodes[0].(type) {
		case string:
			return v
		case json.Number:
			return v.String()
		}
		return fmt.Sprint(nodes[0])
	}
	var out []Found
	for _, item := range paths[items].Select(doc) {
		f := Found{Name: one(item, nameAt), ID: one(item, idAt)}
		if f.Name == "" || (f.ID == "" && idAt != "") {
			continue
		}
		if c := one(item, createdAt); c != "" {
			f.Created = parseTime(c)
		}
		out = append(out, f)
	}
	return out, nil
}

// parseTime reads the creation times apps write: RFC 3339 (with or
// without fractions), PostgreSQL's text form, or Unix seconds.
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z07", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	var n json.Number = json.Number(s)
	if secs, err := n.Int64(); err == nil && secs > 0 {
		return time.Unix(secs, 0)
	}
	return time.Time{}
}

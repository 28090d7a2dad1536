package tenant

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/suitecheck/suitecheck/internal/proc"
)

// Command provisions tenants with programs: create prints the tenant as a
// JSON object (its fields; "id" required), delete exits 0 once the tenant
// is gone, list prints a JSON array of objects with name, id and,
// optionally, created (RFC 3339 or Unix seconds).
type Command struct {
	CreateCmd   func(name string) (proc.Cmd, error)
	DeleteCmd   func(t Tenant) (proc.Cmd, error)
	ListCmd     func() (proc.Cmd, error)         // nil: no list
	GetCmd      func(t Tenant) (proc.Cmd, error) // nil: no get; prints {"name": …}, or null when there is no such tenant
	SecretField func(name string) bool
}

func (c *Command) run(ctx context.Context, what string, build func() (proc.Cmd, error)) ([]byte, error) {
	cmd, err := build()
	if err != nil {
		return nil, NotCreated(&ConfigError{err})
	}
	res, err := proc.Run(ctx, cmd)
	var xe *proc.ExitError
	switch {
	case errors.Is(err, proc.ErrNotFound):
		return nil, NotCreated(&ConfigError{fmt.Errorf("tenant %s command: %w", what, err)})
	case errors.As(err, &xe) && xe.Signal == "":
		// It said it failed: trust it.
		return nil, NotCreated(fmt.Errorf("%s command %s: %w", what, cmd.Argv[0], err))
	case err != nil:
		return nil, fmt.Errorf("%s command %s: %w", what, cmd.Argv[0], err)
	}
	return res.Stdout, nil
}

// Create runs the create command.
func (c *Command) Create(ctx context.Context, name string) (Tenant, error) {
	out, err := c.run(ctx, "create", func() (proc.Cmd, error) { return c.CreateCmd(name) })
	if err != nil {
		return Tenant{}, err
	}
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return Tenant{}, fmt.Errorf("create command: its output is not a JSON object (%q)", proc.LastLine(out))
	}
	t := Tenant{Fields: map[string]string{}}
	for k, v := range obj {
		switch v := v.(type) {
		case string:
			t.Fields[k] = v
		case json.Number:
			t.Fields[k] = v.String()
		case bool:
			t.Fields[k] = fmt.Sprint(v)
		}
		if c.SecretField != nil && c.SecretField(k) {
			t.Secret = append(t.Secret, k)
		}
	}
	t.ID = t.Fields["id"]
	if t.ID == "" {
		return Tenant{}, errors.New(`create command: its JSON has no "id"`)
	}
	return t, nil
}

// Delete runs the delete command.
func (c *Command) Delete(ctx context.Context, t Tenant) error {
	_, err := c.run(ctx, "delete", func() (proc.Cmd, error) { return c.DeleteCmd(t) })
	return err
}

// List runs the list command.
func (c *Command) List(ctx context.Context) ([]Found, error) {
	if c.ListCmd == nil {
		return nil, ErrNoList
	}
	out, err := c.run(ctx, "list", c.ListCmd)
	if err != nil {
		return nil, err
	}
	return pickTenants(out, "$[*]", "$.name", "$.id", "$.created")
}

// Get runs the get command: it prints the tenant as a JSON object with its
// name, or null (or nothing) when the app has no such tenant.
func (c *Command) Get(ctx context.Context, t Tenant) (Found, error) {
	if c.GetCmd == nil {
		return Found{}, ErrNoGet
	}
	out, err := c.run(ctx, "get", func() (proc.Cmd, error) { return c.GetCmd(t) })
	if err != nil {
		return Found{}, err
	}
	if s := bytes.TrimSpace(out); len(s) == 0 || string(s) == "null" {
		return Found{}, ErrNotFound
	}
	found, err := pickTenants(out, "$", "$.name", "", "")
	if err != nil || len(found) != 1 {
		return Found{}, fmt.Errorf("get command: its output is not a JSON object with a name (%q)", proc.LastLine(out))
	}
	return Found{Name: found[0].Name, ID: t.ID}, nil
}

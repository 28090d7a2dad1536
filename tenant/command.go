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
//
// CreateCmds and DeleteCmds, when set, are a create and a delete of
// several commands (CreateCmd and DeleteCmd are then unused), each built
// from the tenant as far as it is known: a create command prints a JSON
// object of the fields it adds (or nothing), and one of them the id.
type Command struct {
	CreateCmd   func(name string) (proc.Cmd, error)
	DeleteCmd   func(t Tenant) (proc.Cmd, error)
	CreateCmds  []func(t Tenant) (proc.Cmd, error)
	DeleteCmds  []func(t Tenant) (proc.Cmd, error)
	ConfirmCmds map[string]func(t Tenant) (proc.Cmd, error) // per field: prints {"name": …} for what it names, or null
	ListCmd     func() (proc.Cmd, error)                    // nil: no list
	GetCmd      func(t Tenant) (proc.Cmd, error)            // nil: no get; prints {"name": …}, or null when there is no such tenant
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

// Create runs the create command (every create command, in order).
func (c *Command) Create(ctx context.Context, name string) (Tenant, error) {
	if c.CreateCmds != nil {
		return createAll(ctx, c, name)
	}
	t, err := c.create(ctx, func() (proc.Cmd, error) { return c.CreateCmd(name) }, false)
	if err == nil && t.ID == "" {
		return Tenant{}, errors.New(`create command: its JSON has no "id"`)
	}
	return t, err
}

// Steps says how many commands create and delete have.
func (c *Command) Steps() (int, int) {
	return max(1, len(c.CreateCmds)), max(1, len(c.DeleteCmds))
}

// CreateStep runs create command i.
func (c *Command) CreateStep(ctx context.Context, i int, t Tenant) (Tenant, error) {
	if c.CreateCmds == nil {
		return c.Create(ctx, t.Name)
	}
	return c.create(ctx, func() (proc.Cmd, error) { return c.CreateCmds[i](t) }, true)
}

// create runs a create command and reads the fields it prints; quiet: it
// may print nothing.
func (c *Command) create(ctx context.Context, build func() (proc.Cmd, error), quiet bool) (Tenant, error) {
	out, err := c.run(ctx, "create", build)
	if err != nil {
		return Tenant{}, err
	}
	t := Tenant{Fields: map[string]string{}}
	if quiet && len(bytes.TrimSpace(out)) == 0 {
		return t, nil
	}
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return Tenant{}, fmt.Errorf("create command: its output is not a JSON object (%q)", proc.LastLine(out))
	}
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
	return t, nil
}

// Delete runs the delete command (every delete command, in order).
func (c *Command) Delete(ctx context.Context, t Tenant) error {
	if c.DeleteCmds != nil {
		return deleteAll(ctx, c, t)
	}
	_, err := c.run(ctx, "delete", func() (proc.Cmd, error) { return c.DeleteCmd(t) })
	return err
}

// DeleteStep runs delete command i.
func (c *Command) DeleteStep(ctx context.Context, i int, t Tenant) error {
	if c.DeleteCmds == nil {
		return c.Delete(ctx, t)
	}
	_, err := c.run(ctx, "delete", func() (proc.Cmd, error) { return c.DeleteCmds[i](t) })
	return err
}

// ConfirmsField reports whether a confirm command is configured for field.
func (c *Command) ConfirmsField(field string) bool {
	_, ok := c.ConfirmCmds[field]
	return ok
}

// GetField runs field's confirm command: it prints {"name": …} for what
// the field names, or null (or nothing) when the app has none.
func (c *Command) GetField(ctx context.Context, field string, t Tenant) (Found, error) {
	build, ok := c.ConfirmCmds[field]
	if !ok {
		return Found{}, ErrNoGet
	}
	return c.get(ctx, "confirm "+field, func() (proc.Cmd, error) { return build(t) }, t)
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
	return c.get(ctx, "get", func() (proc.Cmd, error) { return c.GetCmd(t) }, t)
}

func (c *Command) get(ctx context.Context, what string, build func() (proc.Cmd, error), t Tenant) (Found, error) {
	out, err := c.run(ctx, what, build)
	if err != nil {
		return Found{}, err
	}
	if s := bytes.TrimSpace(out); len(s) == 0 || string(s) == "null" {
		return Found{}, ErrNotFound
	}
	found, err := pickTenants(out, "$", "$.name", "", "")
	if err != nil || len(found) != 1 {
		return Found{}, fmt.Errorf("%s command: its output is not a JSON object with a name (%q)", what, proc.LastLine(out))
	}
	return Found{Name: found[0].Name, ID: t.ID}, nil
}

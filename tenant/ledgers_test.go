package tenant

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/suitecheck/suitecheck/internal/pgtest"
)

// ledgerKinds are the ledgers that every contract test runs against.
var ledgerKinds = []struct {
	name string
	open func(t *testing.T) Ledger
}{
	{"file", func(t *testing.T) Ledger { return newLedger(t) }},
	{"postgres", func(t *testing.T) Ledger { return newPGLedger(t, pgLedgerDB(t)) }},
}

// forEachLedger runs test once per ledger kind, as a subtest; open makes
// a new handle on that subtest's ledger (another node's, for the
// PostgreSQL ledger; the same directory, for the file ledger).
func forEachLedger(t *testing.T, test func(t *testing.T, l Ledger, open func() Ledger)) {
	for _, k := range ledgerKinds {
		t.Run(k.name, func(t *testing.T) {
			l := k.open(t)
			open := func() Ledger { return reopen(t, l) }
			test(t, l, open)
		})
	}
}

// reopen is another handle on l's ledger.
func reopen(t *testing.T, l Ledger) Ledger {
	t.Helper()
	switch l := l.(type) {
	case *FileLedger:
		o, err := OpenLedger(filepath.Dir(l.Dir()))
		if err != nil {
			t.Fatal(err)
		}
		return o
	case *PGLedger:
		dsn, _ := pgDSNs.Load(l)
		return newPGLedger(t, dsn)
	}
	t.Fatalf("no such ledger kind: %T", l)
	return nil
}

// pgDSNs are the DSNs the test's PostgreSQL ledgers were opened with
// (*PGLedger to string).
var pgDSNs sync.Map

// pgLedgerDB is a database of its own for a ledger, whose role may create
// the tables in it.
func pgLedgerDB(t *testing.T) pgtest.App {
	t.Helper()
	return pgtest.NewApp(t, "ledger", "GRANT CREATE ON SCHEMA public TO %[1]s")
}

func newPGLedger(t *testing.T, app any) *PGLedger {
	t.Helper()
	dsn, ok := app.(string)
	if a, isApp := app.(pgtest.App); isApp {
		dsn, ok = a.DSN(), true
	}
	if !ok {
		t.Fatalf("newPGLedger(%T)", app)
	}
	l, err := OpenPGLedger(PGOptions{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	pgDSNs.Store(l, dsn)
	t.Cleanup(func() { l.Close() })
	return l
}

// leftovers is what the ledger holds: its files, or its rows' run ids.
func leftovers(t *testing.T, l Ledger) []string {
	t.Helper()
	switch l := l.(type) {
	case *FileLedger:
		return files(t, l.Dir())
	case *PGLedger:
		rows, err := l.db.Query(`SELECT run FROM suitecheck_ledger ORDER BY run`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var runs []string
		for rows.Next() {
			var r string
			if err := rows.Scan(&r); err != nil {
				t.Fatal(err)
			}
			runs = append(runs, r)
		}
		return runs
	}
	t.Fatalf("no such ledger kind: %T", l)
	return nil
}

// entryFile is everything the ledger stores of its entries, as it stores
// it: for assertions on what it holds (no secret).
func entryFile(t *testing.T, l Ledger) []byte {
	t.Helper()
	switch l := l.(type) {
	case *FileLedger:
		var all []byte
		for _, n := range files(t, l.Dir()) {
			if strings.HasSuffix(n, ".json") {
				b, _ := os.ReadFile(filepath.Join(l.Dir(), n))
				all = append(all, b...)
			}
		}
		return bytes.TrimSpace(all)
	case *PGLedger:
		var s string
		if err := l.db.QueryRow(`SELECT coalesce(string_agg(row_to_json(l)::text, E'\n'), '') FROM suitecheck_ledger l`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return []byte(s)
	}
	t.Fatalf("no such ledger kind: %T", l)
	return nil
}

// ledgerEntry reads the one entry in the ledger.
func ledgerEntry(t *testing.T, l Ledger) Entry {
	t.Helper()
	list, probs, err := l.List(context.Background())
	if err != nil || len(probs) > 0 || len(list) != 1 {
		t.Fatalf("ledger holds %+v, %v, %v; want one entry", list, probs, err)
	}
	return list[0].Entry
}

// runsOf lists the run ids of entries, sorted.
func runsOf(hs []*Held) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Entry.Run)
	}
	sort.Strings(out)
	return out
}

//go:build linux

package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// tenant is one made through the sample app's admin API (BENCH_APP_URL,
// BENCH_ADMIN_TOKEN), the same API suitecheck's http provisioner uses.
type tenant struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Login    string `json:"login"`
	Password string `json:"password"`
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

func adminRequest(method, path string, body []byte) (*http.Response, []byte, error) {
	base, token := os.Getenv("BENCH_APP_URL"), os.Getenv("BENCH_ADMIN_TOKEN")
	if base == "" || token == "" {
		return nil, nil, fmt.Errorf("BENCH_APP_URL and BENCH_ADMIN_TOKEN must be set")
	}
	req, err := http.NewRequest(method, strings.TrimRight(base, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, b, err
}

func createTenant() (tenant, error) {
	var t tenant
	name := "sc-bench" + strings.ToLower(rand.Text()[:8])
	body, _ := json.Marshal(map[string]string{"name": name})
	resp, b, err := adminRequest("POST", "/api/tenants", body)
	if err != nil {
		return t, err
	}
	if resp.StatusCode != http.StatusCreated {
		return t, fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(b))
	}
	if err := json.Unmarshal(b, &t); err != nil || t.ID == "" || t.Login == "" {
		return t, fmt.Errorf("reply without id or login: %s", bytes.TrimSpace(b))
	}
	return t, nil
}

func deleteTenant(t tenant) error {
	resp, b, err := adminRequest("DELETE", "/api/tenants/"+t.ID, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(b))
	}
	return nil
}

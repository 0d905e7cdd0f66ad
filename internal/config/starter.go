package config

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

const starterTemplate = `# Klaxon configuration written on first start, with fresh random tokens.
# Keep it private (mode 0600). In production, move the tokens to the
# environment and reference them as ${NAME}; see klaxon.example.yaml.
listen: %[1]s
database: %[2]s

api_tokens:
  - name: cli                 # the CLI: export KLAXON_TOKEN=$(klaxon config token cli)
    token: %[3]s

integrations:
  - name: alertmanager        # POST /api/v1/ingest/alertmanager
    type: alertmanager
    token: %[4]s
  - name: events-v2           # POST /v2/enqueue, PagerDuty Events API v2 (token = routing_key)
    type: events-v2
    token: %[5]s
  - name: generic             # POST /api/v1/ingest/generic
    type: generic
    token: %[6]s
`

// WriteStarter writes a first-look configuration to path, with a random
// token for the CLI and for each integration type, unless path exists. It
// reports whether it wrote the file.
func WriteStarter(path, listen, dbPath string) (bool, error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("write starter config: %w", err)
	}
	body := fmt.Sprintf(starterTemplate, quote(listen), quote("sqlite://"+dbPath), newToken(), newToken(), newToken(), newToken())
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, fmt.Errorf("write starter config: %w", err)
	}
	if _, err := f.WriteString(body); err != nil {
		f.Close()
		return false, fmt.Errorf("write starter config: %w", err)
	}
	return true, f.Close()
}

// quote renders s as a YAML double-quoted scalar, whatever it holds.
func quote(s string) string {
	b, _ := json.Marshal(s) // a JSON string is a valid YAML double-quoted scalar
	return string(b)
}

func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Token returns the token of the API token or integration called name.
func (c *Config) Token(name string) (string, bool) {
	for _, t := range c.APITokens {
		if t.Name == name {
			return string(t.Token), true
		}
	}
	for _, in := range c.Integrations {
		if in.Name == name {
			return string(in.Token), true
		}
	}
	return "", false
}

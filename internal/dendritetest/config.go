package dendritetest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// configure adjusts the configuration generate-config wrote (with -ci)
// for a throwaway test server: everything stored under dir, nothing
// reaching out, registration only through the shared secret, no rate
// limits.
func configure(generated []byte, dir, secret string) ([]byte, error) {
	var cfg map[string]any
	if err := yaml.Unmarshal(generated, &cfg); err != nil {
		return nil, err
	}
	db := func(name string) map[string]any {
		return map[string]any{"connection_string": "file:" + filepath.Join(dir, name+".db")}
	}
	settings := []struct {
		key   string
		value any
	}{
		{"global.server_name", ServerName},
		{"global.private_key", filepath.Join(dir, "matrix_key.pem")},
		// Every component has its own SQLite file below; no shared pool.
		{"global.database.connection_string", ""},
		// A test server talks to no other server.
		{"global.disable_federation", true},
		{"global.trusted_third_party_id_servers", []string{}},
		{"federation_api.key_perspectives", []any{}},
		{"global.presence.enable_inbound", false},
		{"global.presence.enable_outbound", false},
		{"global.report_stats.enabled", false},
		{"global.server_notices.enabled", false},
		{"global.metrics.enabled", false},
		// NATS JetStream inside the process, in memory.
		{"global.jetstream.in_memory", true},
		{"global.jetstream.storage_path", filepath.Join(dir, "jetstream")},
		{"global.jetstream.addresses", []string{}},
		{"global.cache.max_size_estimated", "64mb"},
		// Accounts come from the shared-secret admin API only.
		{"client_api.registration_disabled", true},
		{"client_api.registration_shared_secret", secret},
		{"client_api.guests_disabled", true},
		{"client_api.enable_registration_captcha", false},
		{"client_api.rate_limiting.enabled", false},
		{"federation_api.database", db("federationapi")},
		{"key_server.database", db("keyserver")},
		{"media_api.database", db("mediaapi")},
		{"media_api.base_path", filepath.Join(dir, "media")},
		{"room_server.database", db("roomserver")},
		{"sync_api.database", db("syncapi")},
		{"sync_api.search.enabled", false},
		{"user_api.account_database", db("userapi")},
		{"user_api.bcrypt_cost", 4},
		{"relay_api.database", db("relayapi")},
		{"mscs.database", db("mscs")},
		{"mscs.mscs", []string{}},
		{"logging", []any{map[string]any{"type": "std", "level": "info"}}},
	}
	for _, s := range settings {
		if err := set(cfg, s.key, s.value); err != nil {
			return nil, err
		}
	}
	return yaml.Marshal(cfg)
}

// set sets a dotted key in a decoded YAML mapping, creating mappings on
// the way.
func set(m map[string]any, key string, value any) error {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p]
		if !ok || next == nil {
			next = map[string]any{}
			m[p] = next
		}
		nm, ok := next.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %s is not a mapping", key, p)
		}
		m = nm
	}
	m[parts[len(parts)-1]] = value
	return nil
}

// registrationMAC signs a shared-secret registration as Synapse's admin
// API (which Dendrite implements) defines it: HMAC-SHA1 over nonce,
// username, password and "admin" or "notadmin", NUL-separated.
func registrationMAC(secret, nonce, user, password string, admin bool) string {
	kind := "notadmin"
	if admin {
		kind = "admin"
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(nonce + "\x00" + user + "\x00" + password + "\x00" + kind))
	return hex.EncodeToString(mac.Sum(nil))
}

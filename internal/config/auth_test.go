package config_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/config"
)

const oidcConfig = `url: https://klaxon.example.org
api_tokens:
  - name: dashboard
    token: dashboard-0123456789
    role: viewer
  - name: ops-cli
    token: ops-cli-0123456789ab
auth:
  session_ttl: 8h
  oidc:
    issuer: https://id.example.org/realms/ops
    client_id: klaxon
    client_secret: ${OIDC_SECRET}
    admin_groups: [sre-leads]
    responder_groups: [sre, oncall]
    default_role: viewer
`

func TestParseAuth(t *testing.T) {
	cfg := mustParse(t, oidcConfig, map[string]string{"OIDC_SECRET": "oidc-client-s3cret"})
	if got := []klaxon.Role{cfg.APITokens[0].Role, cfg.APITokens[1].Role}; !slices.Equal(got, []klaxon.Role{klaxon.RoleViewer, klaxon.RoleAdmin}) {
		t.Errorf("api token roles: got %v, want viewer and admin (the default)", got)
	}
	if cfg.Auth.SessionTTL != 8*time.Hour {
		t.Errorf("session_ttl: got %s, want 8h", cfg.Auth.SessionTTL)
	}
	o := cfg.Auth.OIDC
	want := config.OIDC{
		Issuer:          "https://id.example.org/realms/ops",
		ClientID:        "klaxon",
		ClientSecret:    "oidc-client-s3cret",
		Scopes:          []string{"openid", "profile", "email"},
		GroupsClaim:     "groups",
		AdminGroups:     []string{"sre-leads"},
		ResponderGroups: []string{"sre", "oncall"},
		DefaultRole:     klaxon.RoleViewer,
	}
	if o == nil || o.Issuer != want.Issuer || o.ClientID != want.ClientID || o.ClientSecret != want.ClientSecret ||
		!slices.Equal(o.Scopes, want.Scopes) || o.GroupsClaim != want.GroupsClaim || o.UsernameClaim != "" ||
		!slices.Equal(o.AdminGroups, want.AdminGroups) || !slices.Equal(o.ResponderGroups, want.ResponderGroups) || o.DefaultRole != want.DefaultRole {
		t.Errorf("auth.oidc: got %+v, want %+v", o, want)
	}
	if s := cfg.String(); strings.Contains(s, "oidc-client-s3cret") || !strings.Contains(s, "role: viewer") {
		t.Errorf("String: got\n%s\nwant the client secret redacted and roles by name", s)
	}
	if !slices.Contains(cfg.Secrets(), "oidc-client-s3cret") {
		t.Errorf("Secrets: %q lacks the OIDC client secret", cfg.Secrets())
	}

	def := mustParse(t, "listen: 127.0.0.1:8080\n", nil)
	if def.Auth.SessionTTL != config.DefaultSessionTTL || def.Auth.OIDC != nil {
		t.Errorf("defaults: got %+v, want a 12h session and no single sign-on", def.Auth)
	}
}

func TestValidateAuth(t *testing.T) {
	const oidc = "url: https://klaxon.example.org\nauth:\n  oidc:\n"
	tests := []struct{ name, yaml, want string }{
		{"unknown api token role", "api_tokens:\n  - name: cli\n    token: aaaaaaaaaaaaaaaa\n    role: boss\n",
			`test.yaml:4: api_tokens[0].role: "boss": want viewer, responder or admin`},
		{"session too short", "auth:\n  session_ttl: 1m\n",
			`test.yaml:2: auth.session_ttl: must be at least 5m0s (got 1m0s)`},
		{"bad trusted proxy", "auth:\n  trusted_proxies: [10.0.0.0/8, proxy.internal]\n",
			`test.yaml:2: auth.trusted_proxies[1]: "proxy.internal": want an address or a CIDR range like 10.0.0.0/8`},
		{"unknown auth key", "auth:\n  sessions: 1h\n",
			`test.yaml:2: auth.sessions: unknown key`},
		{"oidc without url", "auth:\n  oidc:\n    issuer: https://id.example.org\n    client_id: k\n    client_secret: s\n    default_role: viewer\n",
			`test.yaml:3: auth.oidc: set url too: the identity provider sends people back to <url>/login/oidc/callback`},
		{"issuer missing", oidc + "    client_id: k\n    client_secret: s\n    default_role: viewer\n",
			`test.yaml:4: auth.oidc.issuer: missing (the provider's URL, e.g. https://accounts.example.org/realms/ops)`},
		{"issuer over http", oidc + "    issuer: http://id.example.org\n    client_id: k\n    client_secret: s\n    default_role: viewer\n",
			`test.yaml:4: auth.oidc.issuer: "http://id.example.org": want an https URL`},
		{"client id missing", oidc + "    issuer: https://id.example.org\n    client_secret: s\n    default_role: viewer\n",
			`test.yaml:4: auth.oidc.client_id: missing`},
		{"client secret missing", oidc + "    issuer: https://id.example.org\n    client_id: k\n    default_role: viewer\n",
			`test.yaml:4: auth.oidc.client_secret: missing (Klaxon signs in as a confidential client)`},
		{"nobody could sign in", oidc + "    issuer: https://id.example.org\n    client_id: k\n    client_secret: s\n",
			`test.yaml:4: auth.oidc: nobody could sign in: set admin_groups, responder_groups or default_role`},
		{"unknown default role", oidc + "    issuer: https://id.example.org\n    client_id: k\n    client_secret: s\n    default_role: none\n",
			`test.yaml:7: auth.oidc.default_role: "none": want viewer, responder or admin`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse("test.yaml", []byte(tt.yaml), env(nil, nil))
			if err == nil {
				t.Fatalf("Parse: got nil error (config %v), want\n%s", cfg, tt.want)
			}
			if lines := strings.Split(err.Error(), "\n"); !slices.Contains(lines, tt.want) {
				t.Errorf("error:\ngot  %s\nwant a line %s", err, tt.want)
			}
		})
	}
	// A provider on this machine may speak http (a test or a dev setup).
	mustParse(t, "url: http://127.0.0.1:8080\nauth:\n  oidc:\n    issuer: http://127.0.0.1:5556/dex\n    client_id: k\n    client_secret: s\n    admin_groups: [ops]\n", nil)
}

package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// DefaultSessionTTL is how long a browser stays signed in.
const DefaultSessionTTL = 12 * time.Hour

// Auth configures how people sign in: accounts with passwords always,
// single sign-on when OIDC is set.
type Auth struct {
	// SessionTTL is how long a browser stays signed in (12h by default).
	SessionTTL time.Duration `yaml:"session_ttl"`
	OIDC       *OIDC         `yaml:"oidc,omitempty"`
	// TrustedProxies are the addresses or CIDR ranges of reverse proxies
	// in front of Klaxon. Failed sign-ins are counted per client address:
	// from these, the client is read from X-Forwarded-For instead, so one
	// guesser cannot lock everyone behind the proxy out.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Prefixes returns TrustedProxies parsed; Validate has checked them.
func (a Auth) Prefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range a.TrustedProxies {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// parsePrefix reads a CIDR range or a single address.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// OIDC is single sign-on through an OpenID Connect identity provider.
// Klaxon is a confidential client: the provider redirects back to
// <url>/login/oidc/callback.
type OIDC struct {
	Issuer       string   `yaml:"issuer"`
	ClientID     string   `yaml:"client_id"`
	ClientSecret Secret   `yaml:"client_secret"`
	Scopes       []string `yaml:"scopes"` // default openid, profile, email
	// UsernameClaim names the ID token claim that becomes the username;
	// empty: preferred_username, else email.
	UsernameClaim string `yaml:"username_claim"`
	GroupsClaim   string `yaml:"groups_claim"` // default groups
	// AdminGroups and ResponderGroups give their members that role at
	// each sign-in; anyone else gets DefaultRole, or is refused without it.
	AdminGroups     []string    `yaml:"admin_groups"`
	ResponderGroups []string    `yaml:"responder_groups"`
	DefaultRole     klaxon.Role `yaml:"default_role,omitempty"`
}

// minSessionTTL keeps a typo ("12" for 12h) from signing everyone out at
// once.
const minSessionTTL = 5 * time.Minute

func (c *Config) setAuthDefaults() {
	for i := range c.APITokens {
		if c.APITokens[i].Role == 0 {
			// Before roles, every API token could do everything.
			c.APITokens[i].Role = klaxon.RoleAdmin
		}
	}
	if c.Auth.SessionTTL == 0 {
		c.Auth.SessionTTL = DefaultSessionTTL
	}
	if o := c.Auth.OIDC; o != nil {
		if len(o.Scopes) == 0 {
			o.Scopes = []string{"openid", "profile", "email"}
		}
		if o.GroupsClaim == "" {
			o.GroupsClaim = "groups"
		}
	}
}

func (c *Config) validateAuth(d *doc) {
	if c.Auth.SessionTTL < minSessionTTL {
		d.addf("auth.session_ttl", "must be at least %s (got %s)", minSessionTTL, c.Auth.SessionTTL)
	}
	for i, s := range c.Auth.TrustedProxies {
		if _, err := parsePrefix(s); err != nil {
			d.addf(fmt.Sprintf("auth.trusted_proxies[%d]", i), "%q: want an address or a CIDR range like 10.0.0.0/8", s)
		}
	}
	o := c.Auth.OIDC
	if o == nil {
		return
	}
	if _, ok := d.lines["url"]; !ok {
		d.addf("auth.oidc", "set url too: the identity provider sends people back to <url>/login/oidc/callback")
	}
	if u, err := url.Parse(o.Issuer); o.Issuer == "" {
		d.addf("auth.oidc.issuer", "missing (the provider's URL, e.g. https://accounts.example.org/realms/ops)")
	} else if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
		d.addf("auth.oidc.issuer", "%q: want an https URL", o.Issuer)
	}
	if o.ClientID == "" {
		d.addf("auth.oidc.client_id", "missing")
	}
	if o.ClientSecret == "" {
		d.addf("auth.oidc.client_secret", "missing (Klaxon signs in as a confidential client)")
	}
	if len(o.AdminGroups) == 0 && len(o.ResponderGroups) == 0 && o.DefaultRole == 0 {
		d.addf("auth.oidc", "nobody could sign in: set admin_groups, responder_groups or default_role")
	}
}

// loopback reports whether host is this machine: a test provider may
// speak plain http there.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

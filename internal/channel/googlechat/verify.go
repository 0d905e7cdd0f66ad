package googlechat

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer signs the bearer tokens Chat sends a Chat app.
const Issuer = "chat@system.gserviceaccount.com"

const (
	// certsTTL is how long certificates are kept when the answer does not
	// say (Cache-Control: max-age).
	certsTTL = time.Hour
	// certsRefetch bounds refetches for an unknown key ID: a stream of
	// forged tokens must not become a stream of requests to Google.
	certsRefetch = time.Minute
	// clockSkew is the leeway on exp and iat.
	clockSkew = 30 * time.Second
)

var errNoBearer = errors.New("no bearer token")

// verifyBearer checks the request's Authorization bearer token: an RS256
// JWT issued by Chat for audience, current, signed by a published key.
func (c *Channel) verifyBearer(r *http.Request) error {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return errNoBearer
	}
	_, err := jwt.Parse(tok, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token names no key")
		}
		return c.certs.key(r.Context(), kid)
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(c.audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(clockSkew),
		jwt.WithTimeFunc(c.now),
	)
	return err
}

// certCache holds the public keys of Chat's signing certificates by key ID.
type certCache struct {
	url    string
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex // held while fetching: concurrent requests wait for one fetch
	keys    map[string]*rsa.PublicKey
	expires time.Time
	tried   time.Time // last fetch attempt, successful or not
}

// key returns the public key for kid, fetching the certificates when they
// have expired, or when kid is unknown and the last fetch is a minute old.
func (cc *certCache) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	now := cc.now()
	k, known := cc.keys[kid]
	stale := !now.Before(cc.expires)
	if known && !stale {
		return k, nil
	}
	if cc.tried.IsZero() || now.Sub(cc.tried) >= certsRefetch {
		cc.tried = now
		keys, ttl, err := cc.fetch(ctx)
		if err == nil {
			cc.keys, cc.expires = keys, now.Add(ttl)
			k, known = cc.keys[kid]
		} else if !known {
			return nil, err
		}
		// A failed refetch keeps the keys we had: Google being briefly
		// unreachable must not lock everyone out.
	}
	if !known {
		return nil, fmt.Errorf("unknown signing key %q", kid)
	}
	return k, nil
}

// fetch reads the certificates: a JSON object of key ID → PEM certificate.
func (cc *certCache) fetch(ctx context.Context) (map[string]*rsa.PublicKey, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cc.url, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("chat certificates: %w", err)
	}
	resp, err := cc.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("chat certificates: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("chat certificates: HTTP %d", resp.StatusCode)
	}
	var pems map[string]string
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&pems); err != nil {
		return nil, 0, fmt.Errorf("chat certificates: %w", err)
	}
	keys := make(map[string]*rsa.PublicKey, len(pems))
	for kid, p := range pems {
		k, err := jwt.ParseRSAPublicKeyFromPEM([]byte(p))
		if err != nil {
			continue // one odd entry must not hide the others
		}
		keys[kid] = k
	}
	if len(keys) == 0 {
		return nil, 0, errors.New("chat certificates: no RSA certificate in the answer")
	}
	return keys, maxAge(resp.Header.Get("Cache-Control")), nil
}

// maxAge reads Cache-Control's max-age, bounded to [1m, 24h]; certsTTL when
// absent.
func maxAge(cacheControl string) time.Duration {
	for _, d := range strings.Split(cacheControl, ",") {
		v, ok := strings.CutPrefix(strings.TrimSpace(strings.ToLower(d)), "max-age=")
		if !ok {
			continue
		}
		secs, err := strconv.Atoi(strings.Trim(v, `"`))
		if err != nil {
			break
		}
		return min(max(time.Duration(secs)*time.Second, time.Minute), 24*time.Hour)
	}
	return certsTTL
}

package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
)

// credentials are the tokens `klaxon login` saved, by server URL.
type credentials struct {
	Servers map[string]savedToken `json:"servers"`
}

type savedToken struct {
	Token    string `json:"token"`
	Username string `json:"username"`
	// TokenID is what `klaxon logout` revokes; 0 if unknown.
	TokenID int64 `json:"token_id,omitempty"`
}

// credentialsPath is $XDG_CONFIG_HOME/klaxon/credentials.json, by default
// under ~/.config.
func credentialsPath() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("where to keep credentials: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "klaxon", "credentials.json"), nil
}

// serverKey is how a server URL is written in the credentials file.
func serverKey(server string) string { return strings.TrimRight(server, "/") }

// loadCredentials reads the credentials file; none is no credentials.
func loadCredentials() (*credentials, error) {
	c := &credentials{Servers: map[string]savedToken{}}
	path, err := credentialsPath()
	if err != nil {
		return c, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read credentials: %w", err)
	}
	if err := json.Unmarshal(data, c); err != nil {
		return &credentials{Servers: map[string]savedToken{}}, fmt.Errorf("read credentials %s: %w", path, err)
	}
	if c.Servers == nil {
		c.Servers = map[string]savedToken{}
	}
	return c, nil
}

// save writes the credentials file readable by its owner only, replacing
// it whole so a crash cannot leave half a file.
func (c *credentials) save() (string, error) {
	path, err := credentialsPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("save credentials: %w", err)
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".credentials-*")
	if err != nil {
		return "", fmt.Errorf("save credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600 already; Chmod says so for readers.
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.Write(append(data, '\n'))
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return "", fmt.Errorf("save credentials: %w", err)
	}
	return path, nil
}

func newLogin(g *globals) *cobra.Command {
	var (
		username, tokenName, expiresIn string
		passwordStdin, withToken       bool
	)
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in and save a personal API token for --server",
		Long: `Sign in with your username and password: the server makes a personal API
token, saved in $XDG_CONFIG_HOME/klaxon/credentials.json (~/.config/klaxon
by default, readable by you only) and used by every command against this
--server unless --token or KLAXON_TOKEN says otherwise.

With single sign-on, make a token on your account page in the web UI and
pipe it in: klaxon login --with-token < token.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := bufio.NewReader(g.stdin)
			var (
				saved *savedToken
				role  klaxon.Role
				err   error
			)
			if withToken {
				saved, role, err = g.checkToken(cmd.Context(), in)
			} else {
				saved, role, err = g.signIn(cmd, in, httpapi.LoginRequest{Username: username, TokenName: tokenName, ExpiresIn: expiresIn}, passwordStdin)
			}
			if err != nil {
				return err
			}
			creds, err := loadCredentials()
			if err != nil {
				return err
			}
			key := serverKey(g.server)
			if old, ok := creds.Servers[key]; ok && old.TokenID != 0 && old.Token != saved.Token {
				// Replaced, the old token would only linger on the server.
				(&httpapi.Client{BaseURL: g.server, Token: old.Token}).RevokeToken(cmd.Context(), old.TokenID)
			}
			creds.Servers[key] = *saved
			path, err := creds.save()
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "Signed in to %s as %s (%s). Token %s saved in %s.\n", key, saved.Username, role, hint(saved.Token), path)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&username, "username", "", "your username (asked for if not given)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from stdin (for scripts; a terminal is asked without echo)")
	f.StringVar(&tokenName, "token-name", "", "what to call the token in `klaxon token list` (default: klaxon CLI on <this host>)")
	f.StringVar(&expiresIn, "expires-in", "", "how long the token lasts, e.g. 90d or 720h (default: until revoked)")
	f.BoolVar(&withToken, "with-token", false, "read an existing token from stdin instead of signing in with a password")
	return cmd
}

// signIn asks for what req lacks (username, password) and makes a token.
func (g *globals) signIn(cmd *cobra.Command, in *bufio.Reader, req httpapi.LoginRequest, passwordStdin bool) (*savedToken, klaxon.Role, error) {
	var err error
	if req.Username == "" {
		if req.Username, err = g.prompt(in, "Username: "); err != nil {
			return nil, 0, err
		}
	}
	if req.Password, err = g.readPassword(cmd, in, "Password: ", passwordStdin); err != nil {
		return nil, 0, err
	}
	if req.TokenName == "" {
		req.TokenName = defaultTokenName()
	}
	t, err := (&httpapi.Client{BaseURL: g.server}).Login(cmd.Context(), req)
	if err != nil {
		return nil, 0, err
	}
	return &savedToken{Token: t.Token, Username: t.Username, TokenID: t.ID}, t.Role, nil
}

// checkToken reads a token from stdin and asks the server whose it is.
func (g *globals) checkToken(ctx context.Context, in *bufio.Reader) (*savedToken, klaxon.Role, error) {
	token, err := in.ReadString('\n')
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, 0, fmt.Errorf("--with-token: no token on stdin (%v)", err)
	}
	c := &httpapi.Client{BaseURL: g.server, Token: token}
	me, err := c.Me(ctx)
	if err != nil {
		return nil, 0, err
	}
	return &savedToken{Token: token, Username: me.Name, TokenID: tokenID(ctx, c, token)}, me.Role, nil
}

// hint is how much of a token is shown: what the server keeps of it.
func hint(token string) string { return token[:min(8, len(token))] }

func defaultTokenName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "klaxon CLI"
	}
	return "klaxon CLI on " + host
}

// tokenID finds the ID of a token made elsewhere by its hint, so logout
// can revoke it; 0 if it is not one token of the caller's.
func tokenID(ctx context.Context, c *httpapi.Client, token string) int64 {
	list, err := c.Tokens(ctx, false)
	if err != nil {
		return 0 // a configured token: nothing to revoke
	}
	var id int64
	for _, t := range list.Tokens {
		if strings.HasPrefix(token, t.Hint) {
			if id != 0 {
				return 0
			}
			id = t.ID
		}
	}
	return id
}

// prompt asks for one line on stderr and reads it.
func (g *globals) prompt(in *bufio.Reader, question string) (string, error) {
	fmt.Fprint(g.stderr, question)
	line, err := in.ReadString('\n')
	line = strings.TrimSpace(line)
	if line == "" {
		return "", fmt.Errorf("no answer to %q (%v)", strings.TrimSuffix(question, ": "), err)
	}
	return line, nil
}

// readPassword asks a terminal for a password without echo, or reads it
// from stdin when fromStdin (a script piping it in).
func (g *globals) readPassword(cmd *cobra.Command, in *bufio.Reader, question string, fromStdin bool) (string, error) {
	if f, ok := g.stdin.(*os.File); ok && isTerminal(f) {
		fmt.Fprint(g.stderr, question)
		password, err := readHidden(cmd.Context(), f, in)
		fmt.Fprintln(g.stderr)
		return password, err
	}
	if !fromStdin {
		return "", errors.New("stdin is not a terminal to ask for the password on: pipe it in with --password-stdin")
	}
	b, err := io.ReadAll(in)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func newLogout(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Revoke and forget the token `klaxon login` saved for --server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			creds, err := loadCredentials()
			if err != nil {
				return err
			}
			key := serverKey(g.server)
			saved, ok := creds.Servers[key]
			if !ok {
				fmt.Fprintf(g.stdout, "Not signed in to %s.\n", key)
				return nil
			}
			revoked := "revoked"
			if saved.TokenID == 0 {
				revoked = "not revoked (its ID is unknown; see `klaxon token list`)"
			} else {
				err := (&httpapi.Client{BaseURL: g.server, Token: saved.Token}).RevokeToken(cmd.Context(), saved.TokenID)
				switch code := klaxon.ErrorCode(err); {
				case code == klaxon.EUNAUTHORIZED || code == klaxon.ENOTFOUND:
					revoked = "already invalid"
				case err != nil:
					return fmt.Errorf("revoke the token (still saved; try again, or forget it by editing the credentials file): %w", err)
				}
			}
			delete(creds.Servers, key)
			if _, err := creds.save(); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "Signed out of %s; token %s %s.\n", key, hint(saved.Token), revoked)
			return nil
		},
	}
}

func newWhoami(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Show whom your token belongs to, and their role",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			me, err := g.client().Me(cmd.Context())
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(me)
			}
			how := "a personal token"
			if me.Account == nil {
				how = "a configured API token"
			}
			fmt.Fprintf(g.stdout, "%s (%s) on %s, with %s\n", me.Name, me.Role, serverKey(g.server), how)
			return nil
		},
	}
}

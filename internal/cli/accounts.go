package cli

import (
	"bufio"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
)

func newUser(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage the accounts people sign in with (admins)",
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List accounts",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				list, err := g.client().Users(cmd.Context())
				if err != nil {
					return err
				}
				if g.json() {
					return g.printJSON(list)
				}
				return printUsers(g, list.Users, time.Now())
			},
		},
		newUserAdd(g),
		newUserSet(g),
	)
	return cmd
}

func printUsers(g *globals, users []httpapi.User, now time.Time) error {
	if len(users) == 0 {
		fmt.Fprintln(g.stdout, "No accounts.")
		return nil
	}
	w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "USERNAME\tNAME\tEMAIL\tROLE\tSIGNS IN WITH\tLAST SIGN-IN")
	for _, u := range users {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, dash(u.Name), dash(u.Email), u.Role, signsInWith(u), ago(u.LastLoginAt, now))
	}
	return w.Flush()
}

// signsInWith says how an account signs in: password, single sign-on,
// both, or not at all.
func signsInWith(u httpapi.User) string {
	switch {
	case u.Disabled():
		return "disabled"
	case u.Password && u.SingleSignOn:
		return "password, SSO"
	case u.Password:
		return "password"
	}
	// Without a password, single sign-on links the account on first use.
	return "SSO"
}

// ago is how long before now t was, or "never".
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return age(now.Sub(t)) + " ago"
}

func newUserAdd(g *globals) *cobra.Command {
	var (
		req           httpapi.UserRequest
		role          string
		passwordStdin bool
	)
	cmd := &cobra.Command{
		Use:   "add USERNAME --role ROLE",
		Short: "Add an account",
		Long: `Add an account. Its username is its name in history (acks, timelines)
and, for someone on call, their users[].id in the configuration.

With --password-stdin the account signs in with a password (asked without
echo on a terminal, or piped in); without it, only through single sign-on.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := klaxon.ParseRole(role)
			if err != nil {
				return fmt.Errorf("--role: %w", err)
			}
			req.Username, req.Role = args[0], r
			if passwordStdin {
				if req.Password, err = g.readPassword(cmd, bufio.NewReader(g.stdin), "Password for "+args[0]+": ", true); err != nil {
					return err
				}
			}
			a, err := g.client().AddUser(cmd.Context(), req)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(a)
			}
			fmt.Fprintf(g.stdout, "Added %s (%s).\n", a.Username, a.Role)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&role, "role", "", "viewer, responder or admin")
	f.StringVar(&req.Name, "name", "", "display name")
	f.StringVar(&req.Email, "email", "", "email address")
	f.BoolVar(&passwordStdin, "password-stdin", false, "set a password, read from stdin")
	cmd.MarkFlagRequired("role")
	return cmd
}

func newUserSet(g *globals) *cobra.Command {
	var (
		role, name                     string
		passwordStdin, disable, enable bool
	)
	cmd := &cobra.Command{
		Use:   "set USERNAME [--role ROLE] [--name NAME] [--password-stdin] [--disable|--enable]",
		Short: "Change an account; a new password or --disable signs it out everywhere",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var change httpapi.UserChange
			if cmd.Flags().Changed("role") {
				r, err := klaxon.ParseRole(role)
				if err != nil {
					return fmt.Errorf("--role: %w", err)
				}
				change.Role = &r
			}
			if cmd.Flags().Changed("name") {
				change.Name = &name
			}
			if passwordStdin {
				password, err := g.readPassword(cmd, bufio.NewReader(g.stdin), "New password for "+args[0]+": ", true)
				if err != nil {
					return err
				}
				change.Password = &password
			}
			if disable || enable {
				change.Disabled = &disable
			}
			if change == (httpapi.UserChange{}) {
				return fmt.Errorf("nothing to change: give --role, --name, --password-stdin, --disable or --enable")
			}
			a, err := g.client().ChangeUser(cmd.Context(), args[0], change)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(a)
			}
			state := ""
			if a.Disabled() {
				state = ", disabled"
			}
			fmt.Fprintf(g.stdout, "Changed %s (%s%s).\n", a.Username, a.Role, state)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&role, "role", "", "viewer, responder or admin")
	f.StringVar(&name, "name", "", "display name")
	f.BoolVar(&passwordStdin, "password-stdin", false, "set a new password, read from stdin")
	f.BoolVar(&disable, "disable", false, "refuse its sign-ins and tokens")
	f.BoolVar(&enable, "enable", false, "let it sign in again")
	cmd.MarkFlagsMutuallyExclusive("disable", "enable")
	return cmd
}

func newToken(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage your personal API tokens (admins: everyone's)",
	}
	var all bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List your tokens (never the tokens themselves)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := g.client().Tokens(cmd.Context(), all)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(out)
			}
			return printTokens(g, out.Tokens, all, time.Now())
		},
	}
	list.Flags().BoolVar(&all, "all", false, "everyone's tokens (admins)")
	var expiresIn string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Make a token for scripts; it is shown once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := g.client().CreateToken(cmd.Context(), httpapi.TokenRequest{Name: args[0], ExpiresIn: expiresIn})
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(t)
			}
			// The token alone on stdout, so scripts can capture it.
			fmt.Fprintln(g.stdout, t.Token)
			until := "until revoked"
			if !t.ExpiresAt.IsZero() {
				until = "until " + t.ExpiresAt.Local().Format(shownTime)
			}
			fmt.Fprintf(g.stderr, "Token %d (%s) of %s, valid %s. Keep it now: it is not shown again.\n", t.ID, t.Name, t.Username, until)
			return nil
		},
	}
	create.Flags().StringVar(&expiresIn, "expires-in", "", "how long the token lasts, e.g. 90d or 720h (default: until revoked)")
	revoke := &cobra.Command{
		Use:   "revoke ID...",
		Short: "Revoke tokens: yours, or anyone's (admins)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := g.client()
			for _, arg := range args {
				id, err := parseTokenID(arg)
				if err != nil {
					return err
				}
				if err := c.RevokeToken(cmd.Context(), id); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Revoked token %d.\n", id)
			}
			return nil
		},
	}
	cmd.AddCommand(list, create, revoke)
	return cmd
}

func parseTokenID(s string) (int64, error) {
	id, err := parseID(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a token ID (the number `klaxon token list` shows)", s)
	}
	return id, nil
}

func printTokens(g *globals, tokens []httpapi.Token, withOwner bool, now time.Time) error {
	if len(tokens) == 0 {
		fmt.Fprintln(g.stdout, "No tokens.")
		return nil
	}
	w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	header := "ID\tNAME\tTOKEN\tCREATED\tLAST USED\tEXPIRES"
	if withOwner {
		header = "ID\tOWNER\tNAME\tTOKEN\tCREATED\tLAST USED\tEXPIRES"
	}
	fmt.Fprintln(w, header)
	for _, t := range tokens {
		if withOwner {
			fmt.Fprintf(w, "%d\t%s\t", t.ID, t.Username)
		} else {
			fmt.Fprintf(w, "%d\t", t.ID)
		}
		expires := "never"
		switch {
		case t.ExpiresAt.IsZero():
		case !t.ExpiresAt.After(now):
			expires = "expired"
		default:
			expires = "in " + age(t.ExpiresAt.Sub(now))
		}
		fmt.Fprintf(w, "%s\t%s…\t%s\t%s\t%s\n", t.Name, t.Hint, ago(t.CreatedAt, now), ago(t.LastUsedAt, now), expires)
	}
	return w.Flush()
}

package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/config"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
	"github.com/klaxon-oss/klaxon/internal/incident"
)

// utcTime is how incidents' times print: in UTC, so everyone's timeline
// reads the same.
const utcTime = "2006-01-02 15:04:05 UTC"

func utc(t time.Time) string { return t.UTC().Format(utcTime) }

func parseIncidentID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id < 1 {
		return 0, fmt.Errorf("%q is not an incident ID (a number, as in `klaxon incident show 7`)", s)
	}
	return id, nil
}

// text joins the words of a TEXT argument, so it need not be quoted.
func text(args []string) string { return strings.Join(args, " ") }

// optionalBool is a pair of flags such as --room and --no-room: nil when
// neither is given, so the server's default applies.
func optionalBool(cmd *cobra.Command, yes, no string) (*bool, error) {
	y, n := cmd.Flags().Changed(yes), cmd.Flags().Changed(no)
	switch {
	case y && n:
		return nil, fmt.Errorf("--%s and --%s: give one, not both", yes, no)
	case y:
		v := true
		return &v, nil
	case n:
		v := false
		return &v, nil
	}
	return nil, nil
}

func newIncident(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "incident",
		Short: "Declare and run incidents: roles, status updates, checklist, timeline, resolution",
	}
	cmd.AddCommand(
		newIncidentDeclare(g),
		newIncidentSeverity(g),
		newIncidentList(g),
		newIncidentShow(g),
		newIncidentUpdate(g),
		newIncidentStatus(g),
		newIncidentRole(g),
		newIncidentCheck(g),
		newIncidentNote(g),
		newIncidentLink(g),
		newIncidentResolve(g),
	)
	return cmd
}

func newIncidentDeclare(g *globals) *cobra.Command {
	var (
		req     httpapi.DeclareRequest
		alertID int64
	)
	cmd := &cobra.Command{
		Use:   "declare --service SERVICE [--sev SEVERITY | --failing N% | --down] SUMMARY",
		Short: "Declare an incident; without --sev, the severity is suggested from --failing and --down",
		Long: `Declare an incident on SERVICE with SUMMARY saying what is happening.
--sev takes sev1, SEV1, 1 or an alert name (P0). Without it, the severity
is suggested from --failing (the share of requests failing) and --down
(users cannot reach the service at all). With both, --sev wins and the
suggestion is shown as a note.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Summary = text(args)
			req.AlertID = alertID
			if req.Failing != "" {
				if _, err := incident.ParseFailing(req.Failing); err != nil {
					return fmt.Errorf("--failing: %s", klaxon.ErrorMessage(err))
				}
			}
			var err error
			if req.Room, err = optionalBool(cmd, "room", "no-room"); err != nil {
				return err
			}
			if req.Public, err = optionalBool(cmd, "public", "private"); err != nil {
				return err
			}
			d, err := g.client().DeclareIncident(cmd.Context(), req)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(d)
			}
			printDeclared(g.stdout, d, req.Severity != "")
			return nil
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&req.Service, "service", "", "what is affected, e.g. api (required)")
	flags.StringVar(&req.Severity, "sev", "", "severity: sev1, 1 or P0 (default: the suggestion)")
	flags.StringVar(&req.Failing, "failing", "", "share of requests failing, e.g. 35%, for the suggestion")
	flags.BoolVar(&req.Down, "down", false, "users cannot reach the service at all")
	flags.StringVar(&req.Commander, "commander", "", "who runs it (default: you)")
	flags.Int64Var(&alertID, "alert", 0, "promote this alert: link it and date the incident from its start")
	flags.Bool("room", false, "open a chat room for the incident")
	flags.Bool("no-room", false, "open no chat room, whatever the configuration says")
	flags.Bool("public", false, "show it on the status page")
	flags.Bool("private", false, "keep it off the status page")
	cmd.MarkFlagRequired("service")
	return cmd
}

// printDeclared says what was declared, with the severity suggestion: as
// the choice when no severity was given, as a note when another was.
func printDeclared(out io.Writer, d *httpapi.Declared, sevGiven bool) {
	inc := d.Incident
	if s := d.Suggested; s != nil {
		switch {
		case !sevGiven:
			fmt.Fprintf(out, "Suggested %s: %s\n", s.Severity, s.Why)
		case s.Level != inc.Level:
			fmt.Fprintf(out, "Note: suggested %s (%s); declared %s as you said.\n", s.Severity, s.Why, inc.Severity)
		}
	}
	fmt.Fprintf(out, "Declared incident %d (%s): %s\n", inc.ID, inc.Severity, inc.Title)
	if inc.Commander != "" {
		fmt.Fprintf(out, "Commander: %s\n", inc.Commander)
	}
}

// defaultIncidentNames name levels offline, as a configuration without
// incidents.names does.
var defaultIncidentNames = config.DefaultIncidentNames(len(config.DefaultLevelNames))

func newIncidentSeverity(g *globals) *cobra.Command {
	var (
		failing string
		down    bool
	)
	cmd := &cobra.Command{
		Use:   "severity (--failing N% | --down) | severity ID SEVERITY",
		Short: "Suggest a severity from the impact (offline), or change an incident's",
		Long: `With --failing and --down, suggest a severity from the impact without
asking the server: no user can reach the service → SEV1; else by the share
of requests failing: over 50% → SEV1, 10–50% → SEV2, 5–10% → SEV3, below 5%
→ SEV4. Levels are named as by default. It suggests; people decide.

With ID and SEVERITY (sev1, 1 or P0), change incident ID's severity.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 && len(args) != 2 {
				return errors.New("give --failing/--down for a suggestion, or ID and SEVERITY to change an incident's")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 2 {
				id, err := parseIncidentID(args[0])
				if err != nil {
					return err
				}
				inc, err := g.client().SetIncidentSeverity(cmd.Context(), id, args[1])
				if err != nil {
					return err
				}
				if g.json() {
					return g.printJSON(inc)
				}
				fmt.Fprintf(g.stdout, "Incident %d is now %s.\n", inc.ID, inc.Severity)
				return nil
			}
			a := incident.Assessment{Unreachable: down, Failing: -1}
			if failing != "" {
				v, err := incident.ParseFailing(failing)
				if err != nil {
					return fmt.Errorf("--failing: %s", klaxon.ErrorMessage(err))
				}
				a.Failing = v
			}
			l, why := incident.Suggest(a)
			s := httpapi.Suggestion{Severity: defaultIncidentNames[l], Level: l, Why: why}
			if g.json() {
				return g.printJSON(s)
			}
			fmt.Fprintf(g.stdout, "Suggested %s: %s\n", s.Severity, s.Why)
			return nil
		},
	}
	cmd.Flags().StringVar(&failing, "failing", "", "share of requests failing, e.g. 35%")
	cmd.Flags().BoolVar(&down, "down", false, "users cannot reach the service at all")
	return cmd
}

func newIncidentList(g *globals) *cobra.Command {
	var (
		all   bool
		limit int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List open incidents (with --all, resolved ones too), newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list, err := g.client().Incidents(cmd.Context(), !all, limit)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(list)
			}
			return printIncidents(g.stdout, list.Incidents, all)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "resolved incidents too")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many incidents")
	return cmd
}

func printIncidents(out io.Writer, list []httpapi.Incident, all bool) error {
	if len(list) == 0 {
		if all {
			fmt.Fprintln(out, "No incidents.")
		} else {
			fmt.Fprintln(out, "No open incidents.")
		}
		return nil
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSEV\tSTATUS\tSERVICE\tSUMMARY\tCOMMANDER\tDECLARED")
	for _, inc := range list {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", inc.ID, inc.Severity, inc.Status, inc.Service,
			clip(inc.Summary, summaryWidth), dash(inc.Commander), utc(inc.DeclaredAt))
	}
	return w.Flush()
}

func newIncidentShow(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show an incident: roles, checklist, timeline and action items",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseIncidentID(args[0])
			if err != nil {
				return err
			}
			d, err := g.client().Incident(cmd.Context(), id)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(d)
			}
			return printIncident(g.stdout, d)
		},
	}
}

func printIncident(out io.Writer, d *httpapi.IncidentDetail) error {
	inc := d.Incident
	fmt.Fprintf(out, "Incident %d  %s  %s\n%s\n\n", inc.ID, inc.Severity, inc.Status, inc.Title)
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	field := func(name, value string) { fmt.Fprintf(w, "  %s\t%s\n", name, value) }
	field("Service:", inc.Service)
	field("Summary:", inc.Summary)
	public := "no"
	if inc.Public {
		public = "yes, on the status page"
	}
	field("Public:", public)
	field("Reporter:", dash(inc.Reporter))
	field("Detected:", utc(inc.DetectedAt))
	field("Declared:", utc(inc.DeclaredAt))
	if !inc.ResolvedAt.IsZero() {
		field("Resolved:", utc(inc.ResolvedAt))
	}
	field("Commander:", dash(inc.Commander))
	field("Comms lead:", dash(inc.CommsLead))
	field("Responders:", dash(strings.Join(inc.Responders, ", ")))
	if r := inc.Room; r.Channel != "" {
		room := "opening"
		if r.Ref != "" {
			room = dash(r.Name)
		}
		field("Room:", r.Channel+": "+room)
	}
	if !inc.NextUpdateAt.IsZero() {
		next := utc(inc.NextUpdateAt)
		if inc.MissedUpdates > 0 {
			next += fmt.Sprintf(" (%d missed)", inc.MissedUpdates)
		}
		field("Next update:", next)
	}
	if len(inc.Alerts) > 0 {
		ids := make([]string, len(inc.Alerts))
		for i, a := range inc.Alerts {
			ids[i] = strconv.FormatInt(a, 10)
		}
		field("Alerts:", strings.Join(ids, ", "))
	}
	if !inc.Open() {
		field("Root cause:", dash(inc.RootCause))
		field("Fix:", dash(inc.Fix))
		field("Impact:", dash(inc.Impact))
	}
	switch {
	case !inc.PostmortemDone.IsZero():
		field("Postmortem:", "done "+utc(inc.PostmortemDone))
	case !inc.PostmortemDue.IsZero():
		field("Postmortem:", "due "+utc(inc.PostmortemDue))
	}
	if err := w.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(out, "\nChecklist:")
	for i, c := range inc.Checklist {
		tick, by := "[ ]", ""
		if c.Done() {
			tick, by = "[x]", fmt.Sprintf("  (%s, %s)", c.DoneBy, utc(c.DoneAt))
		}
		fmt.Fprintf(out, "  %s %d. %s%s\n", tick, i+1, c.Text, by)
	}

	fmt.Fprintln(out, "\nTimeline:")
	w = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, e := range d.Timeline {
		what := e.Text
		if e.Public {
			what += " (public)"
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", utc(e.At), dash(e.Actor), e.Kind, what)
	}
	if err := w.Flush(); err != nil {
		return err
	}

	if len(d.Actions) > 0 {
		fmt.Fprintln(out, "\nAction items:")
		return printActionRows(out, d.Actions, "  ")
	}
	return nil
}

// printActionRows writes action items as a table, each line after indent.
func printActionRows(out io.Writer, list []klaxon.ActionItem, indent string) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "%sID\tINCIDENT\tSTATE\tOWNER\tTEXT\n", indent)
	for _, a := range list {
		state := "open"
		if !a.DoneAt.IsZero() {
			state = "done by " + a.DoneBy
		}
		fmt.Fprintf(w, "%s%d\t%d\t%s\t%s\t%s\n", indent, a.ID, a.IncidentID, state, dash(a.Owner), a.Text)
	}
	return w.Flush()
}

// incidentCommand makes a command that changes one incident: ID is its
// first argument, change calls the API, done says what happened.
func incidentCommand(g *globals, cmd *cobra.Command, change func(cmd *cobra.Command, id int64, args []string) (*httpapi.Incident, error), done func(*httpapi.Incident) string) *cobra.Command {
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		id, err := parseIncidentID(args[0])
		if err != nil {
			return err
		}
		inc, err := change(cmd, id, args[1:])
		if err != nil {
			return err
		}
		if g.json() {
			return g.printJSON(inc)
		}
		fmt.Fprintln(g.stdout, done(inc))
		return nil
	}
	return cmd
}

func newIncidentUpdate(g *globals) *cobra.Command {
	var req httpapi.UpdateRequest
	cmd := incidentCommand(g, &cobra.Command{
		Use:   "update ID [--public] [--status STATUS] TEXT",
		Short: "Post a status update (resets the update reminder)",
		Args:  cobra.MinimumNArgs(2),
	}, func(cmd *cobra.Command, id int64, args []string) (*httpapi.Incident, error) {
		req.Text = text(args)
		return g.client().PostIncidentUpdate(cmd.Context(), id, req)
	}, func(inc *httpapi.Incident) string {
		s := fmt.Sprintf("Posted an update to incident %d (%s).", inc.ID, inc.Status)
		if !inc.NextUpdateAt.IsZero() {
			s += " Next update due " + utc(inc.NextUpdateAt) + "."
		}
		return s
	})
	cmd.Flags().BoolVar(&req.Public, "public", false, "also show it on the status page")
	cmd.Flags().StringVar(&req.Status, "status", "", "change the status too: investigating, identified or monitoring")
	return cmd
}

func newIncidentStatus(g *globals) *cobra.Command {
	return incidentCommand(g, &cobra.Command{
		Use:   "status ID STATUS",
		Short: "Change an incident's status: investigating, identified or monitoring",
		Args:  cobra.ExactArgs(2),
	}, func(cmd *cobra.Command, id int64, args []string) (*httpapi.Incident, error) {
		return g.client().SetIncidentStatus(cmd.Context(), id, args[0])
	}, func(inc *httpapi.Incident) string {
		return fmt.Sprintf("Incident %d is now %s.", inc.ID, inc.Status)
	})
}

func newIncidentRole(g *globals) *cobra.Command {
	var role incident.Role
	return incidentCommand(g, &cobra.Command{
		Use:   "role ID ROLE PERSON",
		Short: "Give PERSON (a user, or me) a role: commander, comms or responder",
		Args:  cobra.ExactArgs(3),
	}, func(cmd *cobra.Command, id int64, args []string) (*httpapi.Incident, error) {
		var err error
		if role, err = incident.ParseRole(args[0]); err != nil {
			return nil, err
		}
		return g.client().SetIncidentRole(cmd.Context(), id, string(role), args[1])
	}, func(inc *httpapi.Incident) string {
		// The server resolves "me" and chat identities: show whom it chose.
		switch role {
		case incident.RoleCommander:
			return fmt.Sprintf("%s is commander of incident %d.", inc.Commander, inc.ID)
		case incident.RoleComms:
			return fmt.Sprintf("%s is comms lead of incident %d.", inc.CommsLead, inc.ID)
		}
		return fmt.Sprintf("Responders of incident %d: %s.", inc.ID, strings.Join(inc.Responders, ", "))
	})
}

func newIncidentCheck(g *globals) *cobra.Command {
	var (
		undo bool
		n    int
	)
	cmd := incidentCommand(g, &cobra.Command{
		Use:   "check ID N [--undo]",
		Short: "Tick checklist item N (with --undo, untick it)",
		Args:  cobra.ExactArgs(2),
	}, func(cmd *cobra.Command, id int64, args []string) (*httpapi.Incident, error) {
		var err error
		if n, err = strconv.Atoi(args[0]); err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a checklist item (its number, as `klaxon incident show` lists them)", args[0])
		}
		return g.client().CheckIncidentItem(cmd.Context(), id, n, !undo)
	}, func(inc *httpapi.Incident) string {
		verb := "Ticked"
		if undo {
			verb = "Unticked"
		}
		item := ""
		if n <= len(inc.Checklist) {
			item = " " + inc.Checklist[n-1].Text
		}
		return fmt.Sprintf("%s %d.%s (incident %d)", verb, n, item, inc.ID)
	})
	cmd.Flags().BoolVar(&undo, "undo", false, "untick the item")
	return cmd
}

func newIncidentNote(g *globals) *cobra.Command {
	return incidentCommand(g, &cobra.Command{
		Use:   "note ID TEXT",
		Short: "Add a note to an incident's timeline",
		Args:  cobra.MinimumNArgs(2),
	}, func(cmd *cobra.Command, id int64, args []string) (*httpapi.Incident, error) {
		return g.client().AddIncidentNote(cmd.Context(), id, text(args))
	}, func(inc *httpapi.Incident) string {
		return fmt.Sprintf("Noted on incident %d.", inc.ID)
	})
}

func newIncidentLink(g *globals) *cobra.Command {
	var alertID int64
	return incidentCommand(g, &cobra.Command{
		Use:   "link ID ALERT-ID",
		Short: "Link an alert to an incident",
		Args:  cobra.ExactArgs(2),
	}, func(cmd *cobra.Command, id int64, args []string) (*httpapi.Incident, error) {
		var err error
		if alertID, err = parseID(args[0]); err != nil {
			return nil, err
		}
		return g.client().LinkIncidentAlert(cmd.Context(), id, alertID)
	}, func(inc *httpapi.Incident) string {
		return fmt.Sprintf("Linked alert %d to incident %d.", alertID, inc.ID)
	})
}

func newIncidentResolve(g *globals) *cobra.Command {
	var req httpapi.ResolveRequest
	cmd := incidentCommand(g, &cobra.Command{
		Use:   "resolve ID --cause TEXT --fix TEXT --impact TEXT",
		Short: "Resolve an incident with its root cause, fix and impact",
		Args:  cobra.ExactArgs(1),
	}, func(cmd *cobra.Command, id int64, _ []string) (*httpapi.Incident, error) {
		return g.client().ResolveIncident(cmd.Context(), id, req)
	}, func(inc *httpapi.Incident) string {
		s := fmt.Sprintf("Resolved incident %d.", inc.ID)
		if !inc.PostmortemDue.IsZero() {
			s += fmt.Sprintf(" Postmortem due %s: klaxon postmortem %d -o incident-%d.md", utc(inc.PostmortemDue), inc.ID, inc.ID)
		}
		return s
	})
	cmd.Flags().StringVar(&req.RootCause, "cause", "", "the root cause")
	cmd.Flags().StringVar(&req.Fix, "fix", "", "what fixed it")
	cmd.Flags().StringVar(&req.Impact, "impact", "", "who was affected, how, for how long")
	return cmd
}

// postmortemResult is `postmortem --json`'s answer.
type postmortemResult struct {
	IncidentID int64  `json:"incident_id"`
	File       string `json:"file,omitempty"`
	Markdown   string `json:"markdown,omitempty"`
	Done       bool   `json:"done,omitempty"` // marked done just now
}

func newPostmortem(g *globals) *cobra.Command {
	var (
		file        string
		force, done bool
	)
	cmd := &cobra.Command{
		Use:   "postmortem ID [-o FILE [--force]] [--done]",
		Short: "Print an incident's postmortem draft as Markdown, or write it to FILE; --done marks it written",
		Long: `Print the postmortem draft of incident ID (Markdown: summary, impact,
timeline, root cause, action items) or write it to FILE, which must not
exist unless --force. On this command -o is the file, not the output
format; --json still works.

--done marks the postmortem written, which stops its reminders; alone it
prints no draft.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseIncidentID(args[0])
			if err != nil {
				return err
			}
			res := postmortemResult{IncidentID: id, File: file}
			if !done || file != "" {
				md, err := g.client().Postmortem(cmd.Context(), id)
				if err != nil {
					return err
				}
				switch {
				case file != "":
					if err := writeNew(file, md, force); err != nil {
						return err
					}
					if !g.json() {
						fmt.Fprintf(g.stdout, "Wrote the postmortem draft of incident %d to %s.\n", id, file)
					}
				case g.json():
					res.Markdown = string(md)
				default:
					g.stdout.Write(md)
				}
			}
			if done {
				if _, err := g.client().PostmortemDone(cmd.Context(), id); err != nil {
					return err
				}
				res.Done = true
				if !g.json() {
					fmt.Fprintf(g.stdout, "Marked the postmortem of incident %d done: its reminders stop.\n", id)
				}
			}
			if g.json() {
				return g.printJSON(res)
			}
			return nil
		},
	}
	// -o shadows the global --output here: a file is what people mean.
	cmd.Flags().StringVarP(&file, "output", "o", "", "write the draft to `FILE` instead of printing it")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite FILE if it exists")
	cmd.Flags().BoolVar(&done, "done", false, "mark the postmortem written (stops its reminders)")
	return cmd
}

// writeNew writes data to name, refusing to replace a file unless force:
// a postmortem being edited must not be lost to a fresh draft.
func writeNew(name string, data []byte, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if !force {
		flags |= os.O_EXCL
	}
	f, err := os.OpenFile(name, flags, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists: choose another file, or --force to overwrite it", name)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func newActions(g *globals) *cobra.Command {
	var f klaxon.ActionFilter
	var incidentID string
	cmd := &cobra.Command{
		Use:   "actions [--open] [--incident ID]",
		Short: "List incidents' follow-up action items",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if incidentID != "" {
				id, err := parseIncidentID(incidentID)
				if err != nil {
					return fmt.Errorf("--incident: %w", err)
				}
				f.IncidentID = id
			}
			list, err := g.client().Actions(cmd.Context(), f)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(list)
			}
			if len(list.Actions) == 0 {
				fmt.Fprintln(g.stdout, "No action items.")
				return nil
			}
			return printActionRows(g.stdout, list.Actions, "")
		},
	}
	cmd.Flags().BoolVar(&f.Open, "open", false, "only those not done")
	cmd.Flags().StringVar(&incidentID, "incident", "", "only this incident's")
	return cmd
}

func newAction(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "action",
		Short: "Add follow-up action items to incidents and mark them done",
	}
	var owner string
	add := &cobra.Command{
		Use:   "add ID [--owner PERSON] TEXT",
		Short: "Add an action item to incident ID",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseIncidentID(args[0])
			if err != nil {
				return err
			}
			a, err := g.client().AddAction(cmd.Context(), id, text(args[1:]), owner)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(a)
			}
			fmt.Fprintf(g.stdout, "Action item %d on incident %d: %s", a.ID, a.IncidentID, a.Text)
			if a.Owner != "" {
				fmt.Fprintf(g.stdout, " (owner: %s)", a.Owner)
			}
			fmt.Fprintln(g.stdout)
			return nil
		},
	}
	add.Flags().StringVar(&owner, "owner", "", "who will do it (a user, or me)")
	done := &cobra.Command{
		Use:   "done ACTION-ID",
		Short: "Mark an action item done (IDs as `klaxon actions` lists them)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
			if err != nil || id < 1 {
				return fmt.Errorf("%q is not an action item ID (a number, as `klaxon actions` lists them)", args[0])
			}
			a, err := g.client().CompleteAction(cmd.Context(), id)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(a)
			}
			fmt.Fprintf(g.stdout, "Action item %d done: %s\n", a.ID, a.Text)
			return nil
		},
	}
	cmd.AddCommand(add, done)
	return cmd
}

func newStatus(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Set a status-page component's status by hand, or clear it",
	}
	set := &cobra.Command{
		Use:   "set COMPONENT STATUS",
		Short: "Set COMPONENT's status: operational, degraded_performance, partial_outage, major_outage or under_maintenance",
		Long: `Set COMPONENT's status on the status page by hand. It wins over what
the component's incidents say until cleared with ` + "`klaxon status clear`.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return setComponent(g, cmd, args[0], args[1])
		},
	}
	clearCmd := &cobra.Command{
		Use:   "clear COMPONENT",
		Short: "Clear COMPONENT's hand-set status, so its incidents decide it again",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return setComponent(g, cmd, args[0], "")
		},
	}
	cmd.AddCommand(set, clearCmd)
	return cmd
}

func setComponent(g *globals, cmd *cobra.Command, component, status string) error {
	c, err := g.client().SetComponentStatus(cmd.Context(), component, status)
	if err != nil {
		return err
	}
	switch {
	case g.json():
		return g.printJSON(c)
	case c.Status == "":
		fmt.Fprintf(g.stdout, "Cleared %s's status: its incidents decide it again.\n", c.Component)
	default:
		fmt.Fprintf(g.stdout, "%s is %s on the status page until `klaxon status clear %s`.\n", c.Component, c.Status, c.Component)
	}
	return nil
}

package notify

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/oncall"
	"github.com/klaxon-oss/klaxon/internal/runbook"
)

// statusLimit bounds the alerts `status` lists.
const statusLimit = 15

// HelpText is the command grammar, the same on every platform.
const HelpText = `Klaxon commands:
  ack 12 [13 …]    acknowledge: you are on it
  unack 12         put an acknowledged alert back to firing
  resolve 12       resolve: it is fixed
  status           what is firing and unacknowledged
  runbook 12       the alert's runbook, its steps filled in (or: runbook KubeNodeNotReady)
  diagnose 12      run the runbook's diagnostics again; the output goes to the alert's thread
  oncall [NAME]    who is on call now and next, for every schedule or one
  override NAME PERSON 8h
                   PERSON (or me) takes schedule NAME's shifts for 8 hours from now
  help             this text`

// Commands runs the chat command grammar against the alert service. It is
// the Commander every platform package gets.
type Commands struct {
	Alerts   Alerts
	Severity klaxon.SeverityPolicy
	BaseURL  string
	Runbooks *runbook.Catalog // nil: no runbooks
	Diagnose Diagnoser        // nil: diagnostics are off
	OnCall   *oncall.Service  // nil: no schedules
	// Incidents runs the incident verbs (incident declare, update, role…);
	// nil: incidents are off.
	Incidents IncidentCommands
	Now       func() time.Time
}

// IncidentCommands runs the incident part of the grammar.
type IncidentCommands interface {
	// IncidentCommand runs words (the verb first) for actor, the
	// configured person's name where known, and reports whether they were
	// an incident command; false leaves them to the alert commands.
	IncidentCommand(ctx context.Context, cmd Command, actor string, words []string, addressed bool) (Reply, bool)
	// Ran records on an incident's timeline a command typed in its room
	// that was not an incident command (ack 12, diagnose 12…).
	Ran(ctx context.Context, cmd Command, actor string, reply Reply)
	// Help is the incident part of the help text.
	Help() string
}

func (s *Commands) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Diagnoser runs an alert's runbook diagnostics on request, later: it
// queues them and says how many commands will run.
type Diagnoser interface {
	Request(ctx context.Context, alertID int64, actor string) (commands int, err error)
}

// Command runs one chat command: the grammar is case-insensitive and
// tolerates the bot's mention in front ("@klaxon ack 12"). Text that is not
// a command gets an empty reply (people talk in alert rooms too) unless it
// was addressed to Klaxon by a mention or cmd.Addressed.
func (s *Commands) Command(ctx context.Context, cmd Command) Reply {
	words, mentioned := commandWords(cmd.Text)
	addressed := mentioned || cmd.Addressed
	if len(words) == 0 {
		if addressed {
			return Reply{Text: s.help()}
		}
		return Reply{}
	}
	verb, args := strings.ToLower(words[0]), words[1:]
	actor := cmd.Actor
	if u, ok := s.person(actor); ok {
		actor = u.Name // history names the person, not their chat account
	}
	if s.Incidents != nil {
		if r, ok := s.Incidents.IncidentCommand(ctx, cmd, actor, words, addressed); ok {
			return r
		}
	}
	if !addressed && (isAction(verb) || verb == "diagnose") && !anyNumber(args) {
		return Reply{} // "resolve it later": talk, not a command
	}
	r := s.alertCommand(ctx, cmd, actor, verb, args, words, addressed)
	if s.Incidents != nil && r.Text != "" {
		s.Incidents.Ran(ctx, cmd, actor, r)
	}
	return r
}

// alertCommand runs the alert and on-call part of the grammar.
func (s *Commands) alertCommand(ctx context.Context, cmd Command, actor, verb string, args, words []string, addressed bool) Reply {
	switch verb {
	case "ack", "acknowledge":
		return s.act(ctx, actor, args, "acknowledged", s.Alerts.Ack)
	case "unack", "unacknowledge":
		return s.act(ctx, actor, args, "unacknowledged", s.Alerts.Unack)
	case "resolve":
		return s.act(ctx, actor, args, "resolved", s.Alerts.Resolve)
	case "status":
		return s.status(ctx)
	case "runbook", "runbooks":
		return s.runbook(ctx, args, addressed)
	case "diagnose":
		return s.diagnose(ctx, actor, args)
	case "oncall", "on-call":
		return s.oncallReply(ctx, args, addressed || len(args) == 0)
	case "override":
		return s.override(ctx, cmd.Actor, args, addressed)
	case "help":
		return Reply{Text: s.help()}
	}
	if addressed {
		return Reply{Text: fmt.Sprintf("I don't know %q.\n%s", words[0], s.help())}
	}
	return Reply{}
}

// help is the whole grammar: alerts and on call, then incidents if on.
func (s *Commands) help() string {
	if s.Incidents == nil {
		return HelpText
	}
	return HelpText + "\n" + s.Incidents.Help()
}

// person is the configured user behind a chat actor ("@alice:example.org",
// "slack:U0123", "gchat:alice@example.org").
func (s *Commands) person(actor string) (klaxon.User, bool) {
	if s.OnCall == nil {
		return klaxon.User{}, false
	}
	id := actor
	if platform, rest, ok := strings.Cut(actor, ":"); ok && (platform == "slack" || platform == "gchat") {
		id = rest
	}
	return s.OnCall.UserByIdentity(id)
}

func isAction(verb string) bool {
	switch verb {
	case "ack", "acknowledge", "unack", "unacknowledge", "resolve":
		return true
	}
	return false
}

func anyNumber(args []string) bool {
	for _, a := range args {
		if _, err := strconv.ParseInt(strings.TrimPrefix(a, "#"), 10, 64); err == nil {
			return true
		}
	}
	return len(args) == 0
}

// commandWords splits a line into words, dropping a leading mention of the
// bot (@klaxon, klaxon:, <@U123>, a Matrix ID) and reporting whether there
// was one.
func commandWords(text string) ([]string, bool) {
	words := strings.Fields(text)
	mentioned := false
	for len(words) > 0 && isMention(words[0]) {
		words, mentioned = words[1:], true
	}
	return words, mentioned
}

func isMention(w string) bool {
	return strings.HasPrefix(w, "@") || strings.HasPrefix(w, "<@") ||
		(strings.HasSuffix(w, ":") && len(w) > 1) || strings.EqualFold(w, "klaxon") || w == "/klaxon"
}

// act applies one action to each ID and says what happened to each.
func (s *Commands) act(ctx context.Context, actor string, args []string, done string, fn func(context.Context, int64, string) (*klaxon.Alert, error)) Reply {
	if len(args) == 0 {
		return Reply{Text: "Which alert? Say it with its number, e.g. `ack 12`.\n" + s.firingHint(ctx)}
	}
	var lines []string
	missing := false
	for _, arg := range args {
		id, err := strconv.ParseInt(strings.TrimPrefix(arg, "#"), 10, 64)
		if err != nil || id <= 0 {
			lines = append(lines, fmt.Sprintf("%q is not an alert number.", arg))
			missing = true
			continue
		}
		a, err := fn(ctx, id, actor)
		switch klaxon.ErrorCode(err) {
		case "":
			lines = append(lines, fmt.Sprintf("%s %s %d: %s", actor, done, id, describe(a)))
		case klaxon.ENOTFOUND:
			lines = append(lines, fmt.Sprintf("No alert %d.", id))
			missing = true
		case klaxon.EINTERNAL:
			lines = append(lines, fmt.Sprintf("Could not change alert %d: internal error; try again.", id))
		default:
			lines = append(lines, klaxon.ErrorMessage(err)+".")
		}
	}
	if missing {
		lines = append(lines, s.firingHint(ctx))
	}
	return Reply{Text: strings.Join(lines, "\n")}
}

// describe is an alert in a few words: "KubePodCrashLooping prod/api-7d9".
func describe(a *klaxon.Alert) string {
	d := a.Name()
	if d == "" {
		d = a.Summary
	}
	if w := a.Where(); w != "" {
		d += " " + w
	}
	return d
}

// firingHint lists what is firing now, for a reply to a wrong ID.
func (s *Commands) firingHint(ctx context.Context) string {
	firing, err := s.Alerts.Alerts(ctx, klaxon.AlertFilter{States: []klaxon.State{klaxon.StateFiring}, Limit: statusLimit + 1})
	if err != nil {
		return ""
	}
	if len(firing) == 0 {
		return "Nothing is firing now."
	}
	ids := make([]string, 0, len(firing))
	for i, a := range firing {
		if i == statusLimit {
			ids = append(ids, "…")
			break
		}
		ids = append(ids, strconv.FormatInt(a.ID, 10))
	}
	return "Firing now: " + strings.Join(ids, ", ") + "."
}

func (s *Commands) status(ctx context.Context) Reply {
	firing, err := s.Alerts.Alerts(ctx, klaxon.AlertFilter{States: []klaxon.State{klaxon.StateFiring}, Limit: statusLimit + 1})
	if err != nil {
		return Reply{Text: "Could not list alerts: internal error; try again."}
	}
	if len(firing) == 0 {
		return Reply{Text: "Nothing is firing unacknowledged."}
	}
	lines := []string{"Firing and unacknowledged:"}
	for i, a := range firing {
		if i == statusLimit {
			lines = append(lines, "… and more: "+s.BaseURL+"/alerts?state=firing")
			break
		}
		lines = append(lines, fmt.Sprintf("%d [%s] %s — %s", a.ID, s.Severity.Name(a.Level), describe(a), a.Summary))
	}
	lines = append(lines, "Say `ack <number>` to take one.")
	return Reply{Text: strings.Join(lines, "\n")}
}

// maxListed bounds the runbooks `runbook` lists.
const maxListed = 20

// runbook answers "runbook 12" with the alert's runbook and its diagnose
// steps filled from the alert, and "runbook NAME" with a runbook by slug
// or alert name. Unaddressed, it answers only what it can find: "runbook
// is out of date" is talk.
func (s *Commands) runbook(ctx context.Context, args []string, addressed bool) Reply {
	set := runbook.NewSet()
	if s.Runbooks != nil {
		set = s.Runbooks.Current()
	}
	if len(args) != 1 {
		if !addressed {
			return Reply{}
		}
		return Reply{Text: "Which runbook? Say `runbook 12` for an alert's, or `runbook NAME`.\n" + listRunbooks(set, s.BaseURL)}
	}
	arg := strings.TrimPrefix(args[0], "#")
	if id, err := strconv.ParseInt(arg, 10, 64); err == nil {
		a, _, err := s.Alerts.Alert(ctx, id)
		switch klaxon.ErrorCode(err) {
		case "":
		case klaxon.ENOTFOUND:
			return Reply{Text: fmt.Sprintf("No alert %d.\n%s", id, s.firingHint(ctx))}
		default:
			return Reply{Text: fmt.Sprintf("Could not read alert %d: internal error; try again.", id)}
		}
		rb := set.Match(a.Labels)
		if rb == nil {
			text := fmt.Sprintf("No runbook matches alert %d (%s).", id, describe(a))
			if u := RunbookURL(a); u != "" {
				text += " Its runbook_url: " + u
			}
			return Reply{Text: text}
		}
		l := LinkRunbook(rb, a, s.BaseURL, len(rb.Steps))
		return Reply{
			Text: fmt.Sprintf("Runbook for alert %d (%s): %s\n%s", id, describe(a), l.Title, l.URL),
			Code: strings.Join(l.Steps, "\n\n"),
		}
	}
	rb := set.Find(arg)
	if rb == nil {
		if !addressed {
			return Reply{}
		}
		return Reply{Text: fmt.Sprintf("No runbook %q.\n%s", arg, listRunbooks(set, s.BaseURL))}
	}
	steps := make([]string, len(rb.Steps))
	for i, st := range rb.Steps {
		steps[i] = st.Text
	}
	return Reply{
		Text: fmt.Sprintf("%s: %s/runbooks/%s", rb.Title, s.BaseURL, rb.Slug),
		Code: strings.Join(steps, "\n\n"),
	}
}

// listRunbooks names the runbooks there are, for a reply that found none.
func listRunbooks(set *runbook.Set, baseURL string) string {
	all := set.All()
	if len(all) == 0 {
		return "There are no runbooks (runbooks.dir in Klaxon's config)."
	}
	names := make([]string, 0, min(len(all), maxListed))
	for i, rb := range all {
		if i == maxListed {
			names = append(names, "…")
			break
		}
		names = append(names, rb.Slug)
	}
	return "Runbooks: " + strings.Join(names, ", ") + " (" + baseURL + "/runbooks)."
}

// diagnose queues an alert's runbook diagnostics again.
func (s *Commands) diagnose(ctx context.Context, actor string, args []string) Reply {
	if s.Diagnose == nil {
		return Reply{Text: "Diagnostics are off: set diagnostics.enabled in Klaxon's config to run runbook steps."}
	}
	if len(args) != 1 {
		return Reply{Text: "Which alert? Say it with its number, e.g. `diagnose 12`."}
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
	if err != nil || id <= 0 {
		return Reply{Text: fmt.Sprintf("%q is not an alert number.", args[0])}
	}
	n, err := s.Diagnose.Request(ctx, id, actor)
	switch klaxon.ErrorCode(err) {
	case "":
		return Reply{Text: fmt.Sprintf("Running %d diagnostic command(s) for alert %d; the output will be posted in its thread and at %s/alerts/%d.", n, id, s.BaseURL, id)}
	case klaxon.ENOTFOUND:
		return Reply{Text: fmt.Sprintf("No alert %d.\n%s", id, s.firingHint(ctx))}
	case klaxon.EINTERNAL:
		return Reply{Text: fmt.Sprintf("Could not queue diagnostics for alert %d: internal error; try again.", id)}
	}
	return Reply{Text: klaxon.ErrorMessage(err) + "."}
}

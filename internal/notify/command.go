package notify

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/klaxon-oss/klaxon"
)

// statusLimit bounds the alerts `status` lists.
const statusLimit = 15

// HelpText is the command grammar, the same on every platform.
const HelpText = `Klaxon commands:
  ack 12 [13 …]    acknowledge: you are on it
  unack 12         put an acknowledged alert back to firing
  resolve 12       resolve: it is fixed
  status           what is firing and unacknowledged
  help             this text`

// Commands runs the chat command grammar against the alert service. It is
// the Commander every platform package gets.
type Commands struct {
	Alerts   Alerts
	Severity klaxon.SeverityPolicy
	BaseURL  string
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
			return Reply{Text: HelpText}
		}
		return Reply{}
	}
	verb, args := strings.ToLower(words[0]), words[1:]
	if !addressed && isAction(verb) && !anyNumber(args) {
		return Reply{} // "resolve it later": talk, not a command
	}
	switch verb {
	case "ack", "acknowledge":
		return s.act(ctx, cmd.Actor, args, "acknowledged", s.Alerts.Ack)
	case "unack", "unacknowledge":
		return s.act(ctx, cmd.Actor, args, "unacknowledged", s.Alerts.Unack)
	case "resolve":
		return s.act(ctx, cmd.Actor, args, "resolved", s.Alerts.Resolve)
	case "status":
		return s.status(ctx)
	case "help":
		return Reply{Text: HelpText}
	}
	if addressed {
		return Reply{Text: fmt.Sprintf("I don't know %q.\n%s", words[0], HelpText)}
	}
	return Reply{}
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

package incident

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/notify"
)

// HelpText is the incident part of the chat grammar.
const HelpText = `Incident commands:
  incident declare [SEV1] SERVICE WHAT   declare, e.g. incident declare sev1 api 50% of requests failing
      --failing 35% / --down             let Klaxon suggest the severity; --no-room, --private
  incident from 12 [SEV2] [WHAT]         promote alert 12 to an incident
  incidents                              what is open
In an incident's room (elsewhere: incident 7 …, or @klaxon …):
  update [--public] [--status identified] TEXT
  status identified|monitoring|investigating     severity SEV2
  role commander|comms|responder @alice|me
  checklist        check 3        uncheck 3        note TEXT        link 12
  resolve cause: …; fix: …; impact: …
  action add [@owner] TEXT        action done 4        actions
  postmortem       postmortem done`

// Help is the incident part of the chat grammar's help.
func (s *Service) Help() string { return HelpText }

// incidentVerbs are the verbs that only ever mean an incident.
var incidentVerbs = map[string]bool{
	"update": true, "role": true, "check": true, "uncheck": true, "checklist": true,
	"note": true, "link": true, "action": true, "actions": true, "postmortem": true,
	"severity": true, "sev": true,
}

// IncidentCommand runs the incident part of the grammar (see HelpText).
func (s *Service) IncidentCommand(ctx context.Context, cmd notify.Command, actor string, words []string, addressed bool) (notify.Reply, bool) {
	verb, args := strings.ToLower(words[0]), words[1:]
	room := s.roomIncident(ctx, cmd)
	switch verb {
	case "incident", "incidents":
		return s.incidentVerb(ctx, actor, room, verb, args), true
	case "status":
		if len(args) == 0 || !isStatus(args[0]) || (room == nil && !addressed) {
			return notify.Reply{}, false // the alerts' status
		}
	case "resolve":
		if room == nil || (len(args) > 0 && isAlertNumber(args[0])) {
			return notify.Reply{}, false // resolve alerts
		}
	default:
		if !incidentVerbs[verb] || (room == nil && !addressed) {
			return notify.Reply{}, false
		}
	}
	if room == nil {
		inc, reply := s.onlyOpen(ctx)
		if inc == nil {
			return reply, true
		}
		room = inc
	}
	return s.run(ctx, actor, room, verb, args), true
}

// roomIncident is the incident whose room the command was typed in, or nil.
func (s *Service) roomIncident(ctx context.Context, cmd notify.Command) *klaxon.Incident {
	if cmd.Room == "" {
		return nil
	}
	inc, err := s.store.IncidentByRoom(ctx, cmd.Channel, cmd.Room)
	if err != nil {
		s.log.Warn("looking up an incident room failed", "channel", cmd.Channel, "err", err)
		return nil
	}
	return inc
}

// onlyOpen is the incident a command names by not naming one: the only
// open one. Otherwise the reply says which are open.
func (s *Service) onlyOpen(ctx context.Context) (*klaxon.Incident, notify.Reply) {
	open, err := s.store.Incidents(ctx, klaxon.IncidentFilter{Open: true, Limit: 2})
	switch {
	case err != nil:
		return nil, notify.Reply{Text: "Could not list incidents: internal error; try again."}
	case len(open) == 1:
		return open[0], notify.Reply{}
	case len(open) == 0:
		return nil, notify.Reply{Text: "No incident is open. Declare one with `incident declare sev2 SERVICE WHAT`."}
	}
	return nil, notify.Reply{Text: "Which incident? Say `incident 7 …` with its number. " + s.openList(ctx)}
}

func isStatus(w string) bool {
	switch klaxon.IncidentStatus(strings.ToLower(w)) {
	case klaxon.IncidentInvestigating, klaxon.IncidentIdentified, klaxon.IncidentMonitoring, klaxon.IncidentResolved:
		return true
	}
	return false
}

// number reads an alert, incident or item number as typed: "7" or "#7".
func number(w string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimPrefix(w, "#"), 10, 64)
	return n, err == nil && n > 0
}

func isAlertNumber(w string) bool {
	_, ok := number(w)
	return ok
}

// incidentVerb runs "incident …" and "incidents".
func (s *Service) incidentVerb(ctx context.Context, actor string, room *klaxon.Incident, verb string, args []string) notify.Reply {
	if verb == "incidents" || len(args) == 0 {
		if room != nil && verb == "incident" {
			return s.show(room)
		}
		return s.list(ctx)
	}
	sub, rest := strings.ToLower(args[0]), args[1:]
	if id, ok := number(args[0]); ok {
		inc, err := s.Incident(ctx, id)
		if err != nil {
			return errorReply(err)
		}
		if len(rest) == 0 {
			return s.show(inc)
		}
		return s.run(ctx, actor, inc, strings.ToLower(rest[0]), rest[1:])
	}
	switch sub {
	case "declare", "new", "open":
		return s.declareCommand(ctx, actor, rest, 0)
	case "from", "promote":
		if len(rest) == 0 || !isAlertNumber(rest[0]) {
			return notify.Reply{Text: "Which alert? `incident from 12 [SEV2] [WHAT]`."}
		}
		id, _ := number(rest[0])
		return s.declareCommand(ctx, actor, rest[1:], id)
	case "list":
		return s.list(ctx)
	case "help":
		return notify.Reply{Text: HelpText}
	case "severity", "sev", "assess":
		if f := parseFlags(rest); f.assessment != nil {
			l, why := Suggest(*f.assessment)
			return notify.Reply{Text: fmt.Sprintf("Suggested severity: %s (%s). You decide: `incident declare %s SERVICE WHAT`.", s.levelName(l), why, strings.ToLower(s.levelName(l)))}
		}
	}
	inc := room
	if inc == nil {
		var reply notify.Reply
		if inc, reply = s.onlyOpen(ctx); inc == nil {
			return reply
		}
	}
	return s.run(ctx, actor, inc, sub, rest)
}

// flags are the --options a chat command may carry, and its other words.
type flags struct {
	words      []string
	assessment *Assessment
	room       *bool
	public     *bool
	status     klaxon.IncidentStatus
	level      string
	bad        string // a flag that is not known or lacks its value
}

func parseFlags(args []string) flags {
	var f flags
	yes, no := true, false
	assess := func() *Assessment {
		if f.assessment == nil {
			f.assessment = &Assessment{Failing: -1}
		}
		return f.assessment
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-—"), "=")
		if !strings.HasPrefix(a, "--") && !strings.HasPrefix(a, "—") {
			f.words = append(f.words, a)
			continue
		}
		needValue := func() string {
			if hasValue {
				return value
			}
			if i+1 < len(args) {
				i++
				return args[i]
			}
			f.bad = a + " needs a value"
			return ""
		}
		switch strings.ToLower(name) {
		case "failing":
			v, err := ParseFailing(needValue())
			if err != nil {
				f.bad = klaxon.ErrorMessage(err)
				continue
			}
			assess().Failing = v
		case "down", "unreachable":
			assess().Unreachable = true
		case "room":
			f.room = &yes
		case "no-room":
			f.room = &no
		case "public":
			f.public = &yes
		case "private":
			f.public = &no
		case "status":
			f.status = klaxon.IncidentStatus(strings.ToLower(needValue()))
		case "sev", "severity":
			f.level = needValue()
		default:
			f.bad = "unknown option " + a
		}
	}
	return f
}

// declareCommand runs "incident declare [SEV] SERVICE WHAT" and
// "incident from 12 [SEV] [WHAT]".
func (s *Service) declareCommand(ctx context.Context, actor string, args []string, alertID int64) notify.Reply {
	usage := "Usage: `incident declare [SEV1] SERVICE WHAT [--failing 35%] [--down] [--no-room] [--private]`."
	if alertID != 0 {
		usage = "Usage: `incident from 12 [SEV2] [WHAT] [--no-room] [--private]`."
	}
	f := parseFlags(args)
	if f.bad != "" {
		return notify.Reply{Text: strings.TrimSuffix(f.bad, ".") + ". " + usage}
	}
	words := f.words
	d := Declaration{Reporter: actor, AlertID: alertID, Room: f.room, Public: f.public, Assessment: f.assessment}
	levelWord := f.level
	if levelWord == "" && len(words) > 0 && (s.isLevel(words[0]) || looksLikeLevel.MatchString(words[0])) {
		levelWord, words = words[0], words[1:]
	}
	if levelWord != "" {
		l, err := s.ParseLevel(levelWord)
		if err != nil {
			return notify.Reply{Text: klaxon.ErrorMessage(err) + ". " + usage}
		}
		d.Level = &l
	}
	if alertID == 0 {
		if len(words) < 2 {
			return notify.Reply{Text: "Say which service and what is happening. " + usage}
		}
		d.Service, d.Summary = words[0], strings.Join(words[1:], " ")
	} else {
		d.Summary = strings.Join(words, " ")
	}
	inc, err := s.Declare(ctx, d)
	if err != nil {
		return notify.Reply{Text: errorReply(err).Text + " " + usage}
	}
	text := fmt.Sprintf("Declared #%d %s at %s", inc.ID, inc.Title, s.levelName(inc.Level))
	if d.Assessment != nil {
		l, why := Suggest(*d.Assessment)
		switch {
		case d.Level == nil:
			text += fmt.Sprintf(" (suggested: %s; change it with `incident %d severity SEV1`)", why, inc.ID)
		case l != *d.Level:
			text += fmt.Sprintf(" (the helper suggests %s: %s)", s.levelName(l), why)
		}
	}
	text += fmt.Sprintf(".\nCommander: %s. %s.", inc.Commander, s.nextUpdateLine(inc))
	if inc.Room.Name != "" {
		text += " Opening room " + inc.Room.Name + "."
	}
	if !inc.Public {
		text += " Not on the status page (private)."
	}
	return notify.Reply{Text: text}
}

// looksLikeLevel is a word meant as a severity even if it names none
// ("sev9"): it gets an error, not a service called sev9.
var looksLikeLevel = regexp.MustCompile(`(?i)^(sev|p)[0-9]+$`)

func errorReply(err error) notify.Reply {
	if klaxon.ErrorCode(err) == klaxon.EINTERNAL {
		return notify.Reply{Text: "Internal error; try again."}
	}
	msg := strings.TrimSuffix(klaxon.ErrorMessage(err), ".") + "."
	return notify.Reply{Text: strings.ToUpper(msg[:1]) + msg[1:]}
}

// run runs a verb on one incident.
func (s *Service) run(ctx context.Context, actor string, inc *klaxon.Incident, verb string, args []string) notify.Reply {
	id := inc.ID
	changed := func(inc *klaxon.Incident, err error, done string) notify.Reply {
		if err != nil {
			return errorReply(err)
		}
		return notify.Reply{Text: fmt.Sprintf("#%d %s", inc.ID, done)}
	}
	text := strings.Join(args, " ")
	switch verb {
	case "show", "info":
		return s.show(inc)
	case "update":
		f := parseFlags(args)
		if f.bad != "" || len(f.words) == 0 {
			return notify.Reply{Text: strings.TrimSpace(f.bad + " Usage: `update [--public] [--status identified] TEXT`.")}
		}
		public := f.public != nil && *f.public
		inc, err := s.PostUpdate(ctx, id, actor, Update{Text: strings.Join(f.words, " "), Public: public, Status: f.status})
		if err != nil {
			return errorReply(err)
		}
		where := "posted"
		if public && inc.Public {
			where = "posted, and shown on the status page"
		}
		return notify.Reply{Text: fmt.Sprintf("#%d update %s. %s.", inc.ID, where, s.nextUpdateLine(inc))}
	case "status":
		if len(args) != 1 {
			return notify.Reply{Text: "Usage: `status investigating|identified|monitoring` (resolve with `resolve cause: …; fix: …; impact: …`)."}
		}
		inc, err := s.SetStatus(ctx, id, actor, klaxon.IncidentStatus(strings.ToLower(args[0])))
		return changed(inc, err, "is now "+strings.ToLower(args[0])+".")
	case "severity", "sev":
		if len(args) != 1 {
			return notify.Reply{Text: fmt.Sprintf("Usage: `severity %s`.", strings.Join(s.cfg.Names, "|"))}
		}
		l, err := s.ParseLevel(args[0])
		if err != nil {
			return errorReply(err)
		}
		inc, err := s.SetLevel(ctx, id, actor, l)
		return changed(inc, err, "is now "+s.levelName(l)+".")
	case "role":
		if len(args) != 2 {
			return notify.Reply{Text: "Usage: `role commander|comms|responder @alice` (or `me`)."}
		}
		role, err := ParseRole(args[0])
		if err != nil {
			return errorReply(err)
		}
		inc, err := s.SetRole(ctx, id, actor, role, args[1])
		if err != nil {
			return errorReply(err)
		}
		return notify.Reply{Text: fmt.Sprintf("#%d %s", inc.ID, s.roles(inc))}
	case "checklist":
		return s.checklist(inc)
	case "check", "tick", "uncheck", "untick":
		n, err := strconv.Atoi(text)
		if len(args) != 1 || err != nil {
			return notify.Reply{Text: fmt.Sprintf("Usage: `%s 3`, with the item's number from `checklist`.", verb)}
		}
		inc, err := s.Check(ctx, id, actor, n, verb == "check" || verb == "tick")
		if err != nil {
			return errorReply(err)
		}
		return s.checklist(inc)
	case "note":
		if text == "" {
			return notify.Reply{Text: "Usage: `note TEXT`."}
		}
		inc, err := s.Note(ctx, id, actor, text)
		return changed(inc, err, "note added to the timeline.")
	case "link":
		if len(args) != 1 || !isAlertNumber(args[0]) {
			return notify.Reply{Text: "Usage: `link 12`, with the alert's number."}
		}
		alertID, _ := number(args[0])
		inc, err := s.LinkAlert(ctx, id, actor, alertID)
		return changed(inc, err, fmt.Sprintf("alert %d linked.", alertID))
	case "resolve":
		inc, err := s.Resolve(ctx, id, actor, parseClosure(text))
		if err != nil {
			return errorReply(err)
		}
		return notify.Reply{Text: ClosureText(inc, s.levelName(inc.Level))}
	case "action":
		return s.actionCommand(ctx, actor, inc, args)
	case "actions":
		return s.actionList(ctx, inc)
	case "postmortem":
		if len(args) == 1 && strings.EqualFold(args[0], "done") {
			inc, err := s.PostmortemDone(ctx, id, actor)
			return changed(inc, err, "postmortem marked done: no more reminders.")
		}
		if len(args) != 0 {
			return notify.Reply{Text: "Usage: `postmortem` (where to get the draft) or `postmortem done`."}
		}
		due := "not required at " + s.levelName(inc.Level)
		if !inc.PostmortemDue.IsZero() {
			due = "due " + inc.PostmortemDue.UTC().Format("Mon 2 Jan 15:04 UTC")
		}
		return notify.Reply{Text: fmt.Sprintf("Postmortem of #%d (%s): `klaxon postmortem %d > postmortem.md` writes the draft; %s/postmortem", id, due, id, s.incidentURL(id))}
	}
	return notify.Reply{Text: fmt.Sprintf("I don't know %q for an incident.\n%s", verb, HelpText)}
}

// parseClosure reads "cause: …; fix: …; impact: …" (any order; newlines
// work as separators too).
func parseClosure(text string) Closure {
	var c Closure
	for _, part := range strings.FieldsFunc(text, func(r rune) bool { return r == ';' || r == '\n' }) {
		key, value, ok := strings.Cut(part, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "cause", "root cause", "root_cause":
			c.RootCause = value
		case "fix", "fixed", "resolution":
			c.Fix = value
		case "impact":
			c.Impact = value
		}
	}
	return c
}

func (s *Service) actionCommand(ctx context.Context, actor string, inc *klaxon.Incident, args []string) notify.Reply {
	usage := notify.Reply{Text: "Usage: `action add [@owner] TEXT` or `action done 4`."}
	if len(args) == 0 {
		return usage
	}
	switch strings.ToLower(args[0]) {
	case "add":
		rest := args[1:]
		owner := ""
		if len(rest) > 1 && (strings.HasPrefix(rest[0], "@") || strings.HasPrefix(rest[0], "<@")) {
			owner, rest = rest[0], rest[1:]
		}
		a, err := s.AddAction(ctx, inc.ID, actor, strings.Join(rest, " "), owner)
		if err != nil {
			return errorReply(err)
		}
		return notify.Reply{Text: fmt.Sprintf("Action item %d added to #%d: %s%s", a.ID, inc.ID, a.Text, ownerOf(a))}
	case "done":
		if len(args) != 2 || !isAlertNumber(args[1]) {
			return usage
		}
		n, _ := number(args[1])
		a, err := s.CompleteAction(ctx, n, actor)
		if err != nil {
			return errorReply(err)
		}
		return notify.Reply{Text: fmt.Sprintf("Action item %d done: %s", a.ID, a.Text)}
	}
	return usage
}

func ownerOf(a *klaxon.ActionItem) string {
	if a.Owner == "" {
		return " (no owner yet)"
	}
	return " (owner: " + a.Owner + ")"
}

func (s *Service) actionList(ctx context.Context, inc *klaxon.Incident) notify.Reply {
	items, err := s.store.Actions(ctx, klaxon.ActionFilter{IncidentID: inc.ID})
	if err != nil {
		return errorReply(err)
	}
	if len(items) == 0 {
		return notify.Reply{Text: fmt.Sprintf("#%d has no action items. Add one with `action add [@owner] TEXT`.", inc.ID)}
	}
	lines := []string{fmt.Sprintf("Action items of #%d:", inc.ID)}
	for _, a := range items {
		box := "☐"
		if !a.DoneAt.IsZero() {
			box = "☑"
		}
		lines = append(lines, fmt.Sprintf("%s %d. %s%s", box, a.ID, a.Text, ownerOf(&a)))
	}
	return notify.Reply{Text: strings.Join(lines, "\n")}
}

func (s *Service) list(ctx context.Context) notify.Reply {
	open, err := s.store.Incidents(ctx, klaxon.IncidentFilter{Open: true, Limit: maxListed + 1})
	if err != nil {
		return errorReply(err)
	}
	if len(open) == 0 {
		return notify.Reply{Text: "No incident is open."}
	}
	lines := []string{"Open incidents:"}
	for i, inc := range open {
		if i == maxListed {
			lines = append(lines, "… and more: `klaxon incident list`")
			break
		}
		lines = append(lines, fmt.Sprintf("%s (commander: %s)", s.headline(inc), inc.Commander))
	}
	return notify.Reply{Text: strings.Join(lines, "\n")}
}

func (s *Service) roles(inc *klaxon.Incident) string {
	text := "Commander: " + orNobody(inc.Commander) + ". Comms lead: " + orNobody(inc.CommsLead) + "."
	if len(inc.Responders) > 0 {
		text += " Responders: " + strings.Join(inc.Responders, ", ") + "."
	}
	return text
}

func orNobody(s string) string {
	if s == "" {
		return "nobody"
	}
	return s
}

func (s *Service) show(inc *klaxon.Incident) notify.Reply {
	done := 0
	for _, c := range inc.Checklist {
		if c.Done() {
			done++
		}
	}
	lines := []string{
		s.headline(inc),
		s.roles(inc),
		fmt.Sprintf("Detected %s; declared by %s.", inc.DetectedAt.UTC().Format("2006-01-02 15:04 UTC"), inc.Reporter),
		fmt.Sprintf("Checklist: %d of %d done. Missed updates: %d.", done, len(inc.Checklist), inc.MissedUpdates),
	}
	if inc.Open() {
		lines = append(lines, s.nextUpdateLine(inc))
	}
	if len(inc.Alerts) > 0 {
		ids := make([]string, len(inc.Alerts))
		for i, a := range inc.Alerts {
			ids[i] = strconv.FormatInt(a, 10)
		}
		lines = append(lines, "Alerts: "+strings.Join(ids, ", "))
	}
	lines = append(lines, fmt.Sprintf("Timeline: `klaxon incident show %d`.", inc.ID))
	return notify.Reply{Text: strings.Join(lines, "\n")}
}

func (s *Service) checklist(inc *klaxon.Incident) notify.Reply {
	lines := []string{fmt.Sprintf("Checklist of #%d (%s):", inc.ID, s.levelName(inc.Level))}
	for i, c := range inc.Checklist {
		if c.Done() {
			lines = append(lines, fmt.Sprintf("☑ %d. %s (%s, %s)", i+1, c.Text, c.DoneBy, clock(c.DoneAt)))
		} else {
			lines = append(lines, fmt.Sprintf("☐ %d. %s", i+1, c.Text))
		}
	}
	lines = append(lines, "Tick one with `check 3`.")
	return notify.Reply{Text: strings.Join(lines, "\n")}
}

// Ran records a command typed in an incident's room that was not an
// incident command (ack 12, diagnose 12…) on its timeline.
func (s *Service) Ran(ctx context.Context, cmd notify.Command, actor string, reply notify.Reply) {
	inc := s.roomIncident(ctx, cmd)
	if inc == nil {
		return
	}
	first, _, _ := strings.Cut(reply.Text, "\n")
	text := fmt.Sprintf("Ran `%s`: %s", strings.TrimSpace(cmd.Text), first)
	if err := s.note(ctx, inc.ID, actor, klaxon.TimelineCommand, text); err != nil {
		s.log.Warn("recording a command on the timeline failed", "incident", inc.ID, "err", err)
	}
}

func (s *Service) note(ctx context.Context, id int64, actor string, kind klaxon.TimelineKind, text string) error {
	_, err := s.changeAny(ctx, id, true, func(tx klaxon.Tx, inc *klaxon.Incident, now time.Time) ([]*klaxon.TimelineEntry, error) {
		return []*klaxon.TimelineEntry{{Actor: actor, Kind: kind, Text: text}}, nil
	})
	return err
}

package cli

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
	"github.com/klaxon-oss/klaxon/internal/oncall"
)

// localTime is how a TIME argument may be written besides RFC 3339.
const localTime = "2006-01-02 15:04"

// shownTime is how the on-call commands print a time.
const shownTime = "Mon 2006-01-02 15:04 MST"

// zone is the --tz flag: the time zone times are shown and read in.
type zone struct{ name string }

func (z *zone) add(cmd *cobra.Command, persistent bool) {
	fs := cmd.Flags()
	if persistent {
		fs = cmd.PersistentFlags()
	}
	fs.StringVar(&z.name, "tz", "", "time zone to show and read times in, an IANA name (default: the local one)")
}

func (z *zone) location() (*time.Location, error) {
	if z.name == "" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(z.name)
	if err != nil {
		return nil, fmt.Errorf("--tz: %q is not a time zone (want an IANA name such as Europe/Berlin)", z.name)
	}
	return loc, nil
}

// parseTime reads a TIME: RFC 3339, or "2006-01-02 15:04" in loc.
func parseTime(flag, s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(localTime, s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s: got %q, want RFC 3339 (2026-03-10T09:00:00+01:00) or %q in the --tz zone", flag, s, localTime)
}

// optionalTime is parseTime for a flag that may be unset (zero).
func optionalTime(flag, s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return parseTime(flag, s, loc)
}

func newOnCall(g *globals) *cobra.Command {
	var (
		at string
		tz zone
	)
	cmd := &cobra.Command{
		Use:   "oncall [SCHEDULE]",
		Short: "Show who is on call now, until when, and who is next",
		Long: `Show who is on call for each schedule (or one) now, or at --at TIME, and
who takes over next. TIME is RFC 3339 or "2006-01-02 15:04" in the --tz
zone. Times are shown in --tz, the local zone by default.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			loc, err := tz.location()
			if err != nil {
				return err
			}
			when, err := optionalTime("--at", at, loc)
			if err != nil {
				return err
			}
			schedule := ""
			if len(args) == 1 {
				schedule = args[0]
			}
			list, err := g.client().OnCall(cmd.Context(), schedule, when)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(list)
			}
			return printOnCall(g.stdout, list.OnCall, time.Now(), loc)
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "show who is on call at this time instead of now")
	tz.add(cmd, false)
	return cmd
}

// printOnCall writes a block per schedule: who is on call and until when,
// who is next and from when, each with how far that is from now.
func printOnCall(out io.Writer, list []httpapi.OnCall, now time.Time, loc *time.Location) error {
	if len(list) == 0 {
		fmt.Fprintln(out, "No schedules.")
		return nil
	}
	for i, oc := range list {
		if i > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintln(out, oc.Schedule)
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		if s := oc.Now; s != nil {
			fmt.Fprintf(w, "  now\t%s\tuntil\t%s\t(%s)\t%s\n", s.User, showTime(s.End, loc), relative(s.End, now), shiftNote(s))
		} else {
			fmt.Fprintf(w, "  now\tnobody\t\t\t\t\n")
		}
		if s := oc.Next; s != nil {
			fmt.Fprintf(w, "  next\t%s\tfrom\t%s\t(%s)\t%s\n", s.User, showTime(s.Start, loc), relative(s.Start, now), shiftNote(s))
		} else {
			fmt.Fprintf(w, "  next\tnobody scheduled\t\t\t\t\n")
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if oc.CalendarURL != "" {
			fmt.Fprintf(out, "  calendar: %s\n", oc.CalendarURL)
		}
	}
	return nil
}

func showTime(t time.Time, loc *time.Location) string { return t.In(loc).Format(shownTime) }

// relative says when t is as seen from now: "in 3h", "2d4h ago".
func relative(t, now time.Time) string {
	d := t.Sub(now)
	if d < 0 {
		return howLong(-d) + " ago"
	}
	return "in " + howLong(d)
}

// howLong is a duration at a glance, to the minute: 45m, 3h, 3h05m, 2d,
// 2d4h. Under a minute is "<1m".
func howLong(d time.Duration) string {
	d = d.Round(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d/time.Hour)%24, int(d/time.Minute)%60
	switch {
	case d < time.Minute:
		return "<1m"
	case d < time.Hour:
		return fmt.Sprintf("%dm", mins)
	case d < 24*time.Hour && mins == 0:
		return fmt.Sprintf("%dh", hours)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", hours, mins)
	case hours == 0:
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%dh", days, hours)
}

// shiftNote says where a shift comes from: its rotation or an override.
func shiftNote(s *oncall.Shift) string {
	if s.Override == nil {
		if s.Rotation == "" {
			return ""
		}
		return "rotation " + s.Rotation
	}
	return overrideNote(s.Override)
}

func overrideNote(o *klaxon.Override) string {
	note := "override"
	if o.ID > 0 {
		note += " " + strconv.FormatInt(o.ID, 10)
	}
	if o.Replaces != "" {
		note += ", in place of " + o.Replaces
	}
	if o.CreatedBy != "" {
		note += ", by " + o.CreatedBy
	}
	return note
}

func newOverride(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "override",
		Short: "Put someone on call in place of the rotation: add, list and remove overrides",
	}
	var tz zone
	tz.add(cmd, true)
	cmd.AddCommand(newOverrideAdd(g, &tz), newOverrideList(g, &tz), newOverrideRemove(g, &tz))
	return cmd
}

// overrideFlags are the flags of `override add`.
type overrideFlags struct {
	span     time.Duration // --for
	start    string
	end      string
	replaces string
}

// request turns the arguments of `override add` into an API request.
func (f overrideFlags) request(schedule, user string, loc *time.Location) (httpapi.OverrideRequest, error) {
	req := httpapi.OverrideRequest{Schedule: schedule, User: user, Replaces: f.replaces}
	var err error
	if req.Start, err = optionalTime("--start", f.start, loc); err != nil {
		return req, err
	}
	switch {
	case f.span != 0 && f.end != "":
		return req, errors.New("--for and --end: give one, not both")
	case f.span < 0:
		return req, fmt.Errorf("--for: got %s, want a positive duration (8h)", f.span)
	case f.span > 0:
		req.Duration = f.span.String()
	case f.end != "":
		if req.End, err = parseTime("--end", f.end, loc); err != nil {
			return req, err
		}
	default:
		return req, errors.New("say for how long: --for 8h, or --end TIME")
	}
	return req, nil
}

func newOverrideAdd(g *globals, tz *zone) *cobra.Command {
	var f overrideFlags
	cmd := &cobra.Command{
		Use:   "add SCHEDULE USER (--for 8h | [--start TIME] --end TIME) [--replaces USER]",
		Short: "Put USER on call for SCHEDULE, from now (or --start) for --for or until --end",
		Long: `Put USER on call for SCHEDULE in place of whoever the rotations say, or with
--replaces only in place of that person (for the hours they are on call).
It starts now, or at --start, and lasts --for a duration or until --end.
TIME is RFC 3339 or "2006-01-02 15:04" in the --tz zone.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			loc, err := tz.location()
			if err != nil {
				return err
			}
			req, err := f.request(args[0], args[1], loc)
			if err != nil {
				return err
			}
			o, err := g.client().AddOverride(cmd.Context(), req)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(o)
			}
			fmt.Fprintf(g.stdout, "Override %d: %s\n", o.ID, describeOverride(o, loc))
			return nil
		},
	}
	fs := cmd.Flags()
	fs.DurationVar(&f.span, "for", 0, "how long the override lasts (8h, 90m)")
	fs.StringVar(&f.start, "start", "", "when it starts (default now)")
	fs.StringVar(&f.end, "end", "", "when it ends, instead of --for")
	fs.StringVar(&f.replaces, "replaces", "", "stand in only for this person")
	return cmd
}

// describeOverride is an override in a sentence.
func describeOverride(o *klaxon.Override, loc *time.Location) string {
	s := fmt.Sprintf("%s is on call for %s from %s until %s", o.User, o.Schedule, showTime(o.Start, loc), showTime(o.End, loc))
	if o.Replaces != "" {
		s += ", in place of " + o.Replaces
	}
	return s + "."
}

func newOverrideList(g *globals, tz *zone) *cobra.Command {
	return &cobra.Command{
		Use:   "list [SCHEDULE]",
		Short: "List the overrides of every schedule (or one) from now to 90 days on",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			loc, err := tz.location()
			if err != nil {
				return err
			}
			schedule := ""
			if len(args) == 1 {
				schedule = args[0]
			}
			list, err := g.client().Overrides(cmd.Context(), schedule)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(list)
			}
			return printOverrides(g.stdout, list.Overrides, loc)
		},
	}
}

func printOverrides(out io.Writer, list []klaxon.Override, loc *time.Location) error {
	if len(list) == 0 {
		fmt.Fprintln(out, "No overrides.")
		return nil
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSCHEDULE\tUSER\tREPLACES\tFROM\tUNTIL\tBY")
	for _, o := range list {
		id, by := strconv.FormatInt(o.ID, 10), o.CreatedBy
		if o.ID == 0 {
			id, by = "-", "config"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", id, o.Schedule, o.User, dash(o.Replaces),
			showTime(o.Start, loc), showTime(o.End, loc), dash(by))
	}
	return w.Flush()
}

func newOverrideRemove(g *globals, tz *zone) *cobra.Command {
	return &cobra.Command{
		Use:     "rm ID",
		Aliases: []string{"remove"},
		Short:   "Remove an override (IDs as `klaxon override list` shows them)",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			loc, err := tz.location()
			if err != nil {
				return err
			}
			id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
			if err != nil || id < 1 {
				return fmt.Errorf("%q is not an override ID (a number, as `klaxon override list` shows)", args[0])
			}
			o, err := g.client().RemoveOverride(cmd.Context(), id)
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(o)
			}
			fmt.Fprintf(g.stdout, "Removed override %d: %s\n", o.ID, describeOverride(o, loc))
			return nil
		},
	}
}

func newShifts(g *globals) *cobra.Command {
	var (
		from, to, user string
		tz             zone
	)
	cmd := &cobra.Command{
		Use:   "shifts (SCHEDULE | --user USER) [--from TIME] [--to TIME]",
		Short: "List the shifts of a schedule or a person, by default for the next two weeks",
		Long: `List the shifts of a schedule, or with --user of one person on every
schedule, from --from (default now) to --to (default two weeks later; at
most 366 days). TIME is RFC 3339 or "2006-01-02 15:04" in the --tz zone.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(args) == 1) == (user != "") {
				return errors.New("name a schedule or give --user, not both")
			}
			loc, err := tz.location()
			if err != nil {
				return err
			}
			start, err := optionalTime("--from", from, loc)
			if err != nil {
				return err
			}
			end, err := optionalTime("--to", to, loc)
			if err != nil {
				return err
			}
			var list *httpapi.ShiftList
			if user != "" {
				list, err = g.client().UserShifts(cmd.Context(), user, start, end)
			} else {
				list, err = g.client().Shifts(cmd.Context(), args[0], start, end)
			}
			if err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(list)
			}
			return printShifts(g.stdout, list, loc)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&from, "from", "", "list shifts from this time (default now)")
	fs.StringVar(&to, "to", "", "list shifts until this time (default two weeks after --from)")
	fs.StringVar(&user, "user", "", "list this person's shifts on every schedule")
	tz.add(cmd, false)
	return cmd
}

func printShifts(out io.Writer, list *httpapi.ShiftList, loc *time.Location) error {
	if len(list.Shifts) == 0 {
		fmt.Fprintf(out, "No shifts from %s to %s.\n", showTime(list.From, loc), showTime(list.To, loc))
	} else {
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "SCHEDULE\tUSER\tFROM\tUNTIL\tLENGTH\tWHY")
		for _, s := range list.Shifts {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Schedule, s.User, showTime(s.Start, loc), showTime(s.End, loc),
				howLong(s.End.Sub(s.Start)), dash(shiftNote(&s)))
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if list.CalendarURL != "" {
		fmt.Fprintf(out, "calendar: %s\n", list.CalendarURL)
	}
	return nil
}

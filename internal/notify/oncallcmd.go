package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/oncall"
)

// shiftTime is how times of shifts read in chat: the schedule's zone.
const shiftTime = "Mon 2 Jan 15:04 MST"

// oncallReply answers "oncall [SCHEDULE]": who is on call now, until when,
// and who is next.
func (s *Commands) oncallReply(ctx context.Context, args []string, addressed bool) Reply {
	if s.OnCall == nil {
		if !addressed {
			return Reply{}
		}
		return Reply{Text: "No schedules are configured (schedules in Klaxon's config)."}
	}
	schedule := ""
	if len(args) > 0 {
		schedule = args[0]
	}
	list, err := s.OnCall.OnCall(ctx, schedule, s.now())
	if err != nil {
		if !addressed {
			return Reply{}
		}
		return Reply{Text: klaxon.ErrorMessage(err) + "."}
	}
	if len(list) == 0 {
		return Reply{Text: "There are no schedules."}
	}
	dir := s.OnCall.Directory()
	lines := make([]string, 0, len(list))
	for _, o := range list {
		loc := time.UTC
		if sc := dir.Schedules[o.Schedule]; sc != nil && sc.Location != nil {
			loc = sc.Location
		}
		lines = append(lines, o.Schedule+": "+describeOnCall(o, loc))
	}
	return Reply{Text: strings.Join(lines, "\n")}
}

func describeOnCall(o oncall.OnCall, loc *time.Location) string {
	var b strings.Builder
	if o.Now == nil {
		b.WriteString("nobody is on call")
	} else {
		fmt.Fprintf(&b, "%s until %s", o.Now.User, o.Now.End.In(loc).Format(shiftTime))
	}
	if o.Next != nil {
		fmt.Fprintf(&b, "; next %s from %s", o.Next.User, o.Next.Start.In(loc).Format(shiftTime))
	}
	return b.String()
}

// overrideUsage is the grammar of the override command.
const overrideUsage = "Say `override SCHEDULE PERSON 8h` (from now) or `override SCHEDULE PERSON 2026-12-24T09:00 2026-12-27T09:00` (the schedule's time zone); PERSON may be `me`."

// override answers "override primary bob 8h": bob takes primary's shifts
// for 8 hours from now.
func (s *Commands) override(ctx context.Context, actor string, args []string, addressed bool) Reply {
	if s.OnCall == nil {
		if !addressed {
			return Reply{}
		}
		return Reply{Text: "No schedules are configured (schedules in Klaxon's config)."}
	}
	if len(args) < 3 || len(args) > 4 {
		if !addressed {
			return Reply{}
		}
		return Reply{Text: overrideUsage}
	}
	schedule, user := args[0], args[1]
	if strings.EqualFold(user, "me") {
		u, ok := s.person(actor)
		if !ok {
			if _, known := s.OnCall.Directory().Users[actor]; !known {
				return Reply{Text: fmt.Sprintf("I don't know who %s is: add your chat identity to your entry under users in Klaxon's config, or name the person.", actor)}
			}
			u.Name = actor
		}
		user = u.Name
	}
	loc := time.UTC
	if sc := s.OnCall.Directory().Schedules[schedule]; sc != nil && sc.Location != nil {
		loc = sc.Location
	}
	now := s.now()
	start, end := now, time.Time{}
	if len(args) == 3 {
		d, err := time.ParseDuration(args[2])
		if err != nil || d <= 0 {
			return Reply{Text: fmt.Sprintf("%q is not a duration (8h, 90m). %s", args[2], overrideUsage)}
		}
		end = now.Add(d)
	} else {
		var err error
		if start, err = parseLocalTime(args[2], loc); err != nil {
			return Reply{Text: err.Error() + " " + overrideUsage}
		}
		if end, err = parseLocalTime(args[3], loc); err != nil {
			return Reply{Text: err.Error() + " " + overrideUsage}
		}
	}
	o, err := s.OnCall.AddOverride(ctx, klaxon.Override{Schedule: schedule, User: user, Start: start, End: end, CreatedBy: actor})
	if err != nil {
		if klaxon.ErrorCode(err) == klaxon.EINTERNAL {
			return Reply{Text: "Could not add the override: internal error; try again."}
		}
		return Reply{Text: klaxon.ErrorMessage(err) + "."}
	}
	return Reply{Text: fmt.Sprintf("Override %d: %s is on call for %s from %s until %s.", o.ID, o.User, o.Schedule,
		o.Start.In(loc).Format(shiftTime), o.End.In(loc).Format(shiftTime))}
}

// parseLocalTime reads RFC 3339, or a local time without an offset in loc.
func parseLocalTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (2026-12-24T09:00).", s)
}

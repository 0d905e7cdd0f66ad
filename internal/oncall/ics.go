package oncall

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// icsTime is an iCalendar UTC date-time (RFC 5545 3.3.5, form #2).
const icsTime = "20060102T150405Z"

// maxLine is the longest content line in octets, CRLF excluded (RFC 5545
// 3.1).
const maxLine = 75

// WriteICS writes shifts as an iCalendar (RFC 5545) calendar called name,
// one event per shift, for calendar apps to subscribe to. stamp is when
// the feed was made (DTSTAMP). An event's UID depends only on its
// schedule, user and start, so apps update a shift in place across
// fetches.
func WriteICS(w io.Writer, name string, shifts []Shift, stamp time.Time) error {
	var b strings.Builder
	line := func(prop, value string) { writeLine(&b, prop+":"+value) }
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", "-//Klaxon//On call//EN")
	line("CALSCALE", "GREGORIAN")
	line("METHOD", "PUBLISH")
	line("X-WR-CALNAME", escapeText(name))
	for _, sh := range shifts {
		line("BEGIN", "VEVENT")
		line("UID", escapeText(fmt.Sprintf("%s-%s-%d@klaxon", sh.Schedule, sh.User, sh.Start.Unix())))
		line("DTSTAMP", stamp.UTC().Format(icsTime))
		line("DTSTART", sh.Start.UTC().Format(icsTime))
		line("DTEND", sh.End.UTC().Format(icsTime))
		line("SUMMARY", escapeText(fmt.Sprintf("On call: %s (%s)", sh.Schedule, sh.User)))
		line("DESCRIPTION", escapeText(describe(sh)))
		// Being on call does not make anyone busy.
		line("TRANSP", "TRANSPARENT")
		line("END", "VEVENT")
	}
	line("END", "VCALENDAR")
	_, err := io.WriteString(w, b.String())
	return err
}

func describe(sh Shift) string {
	switch {
	case sh.Override != nil && sh.Override.Replaces != "":
		return fmt.Sprintf("Override: %s in place of %s.", sh.User, sh.Override.Replaces)
	case sh.Override != nil:
		return fmt.Sprintf("Override: %s.", sh.User)
	}
	return fmt.Sprintf("Rotation %s.", sh.Rotation)
}

// textEscaper escapes a TEXT value (RFC 5545 3.3.11); a line break of
// any kind becomes \n.
var textEscaper = strings.NewReplacer(
	`\`, `\\`,
	";", `\;`,
	",", `\,`,
	"\r\n", `\n`,
	"\n", `\n`,
	"\r", `\n`,
)

func escapeText(s string) string { return textEscaper.Replace(s) }

// writeLine writes a content line with CRLF, folded into lines of at most
// 75 octets, continuations starting with a space, never inside a UTF-8
// sequence (RFC 5545 3.1).
func writeLine(b *strings.Builder, s string) {
	limit := maxLine
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = maxLine - 1 // the leading space counts
	}
	b.WriteString(s)
	b.WriteString("\r\n")
}

package diagnose

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"mvdan.cc/sh/v3/syntax"

	"github.com/klaxon-oss/klaxon/internal/runbook"
)

// Commands splits a step into its command lines, as shown to people:
// backslash-continued lines are joined, blank lines and # comments dropped.
func Commands(step string) []string {
	var out []string
	pending, continued := "", false
	for _, line := range strings.Split(step, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if continued {
			line = joinContinued(pending, line)
		} else if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		} else {
			line = strings.TrimLeft(line, " \t")
		}
		if continued = oddBackslashes(line); continued {
			pending = line[:len(line)-1]
			continue
		}
		if t := strings.TrimSpace(line); t != "" {
			out = append(out, t)
		}
	}
	if t := strings.TrimSpace(pending); continued && t != "" {
		out = append(out, t)
	}
	return out
}

// oddBackslashes says whether s ends with an unescaped backslash.
func oddBackslashes(s string) bool {
	n := len(s) - len(strings.TrimRight(s, `\`))
	return n%2 == 1
}

// joinContinued joins a line continued with a backslash to the next one
// as a shell would (the backslash-newline vanishes), but with the next
// line's indentation shown as one space.
func joinContinued(left, right string) string {
	r := strings.TrimLeft(right, " \t")
	if r == right {
		return left + right // no space in the source: the shell glues the words
	}
	if l := strings.TrimRight(left, " \t"); l != left && !oddBackslashes(l) {
		return l + " " + r
	}
	return left + " " + r
}

// Prepare turns one command line into argv, filling placeholders from v
// per argument, or says why it must not run. The line is parsed as a shell
// would parse it, but only a simple command of literal words is accepted:
// anything a shell would expand, redirect or combine is refused, as no
// shell runs it. Placeholder values are put into the parsed words, so a
// value with spaces, quotes or $(…) stays one literal argument; a missing
// value, or one that starts with '-' or holds control characters, is
// refused.
func Prepare(line string, v runbook.Vars) ([]string, error) {
	if i := strings.IndexFunc(line, func(r rune) bool { return r != '\t' && unicode.IsControl(r) }); i >= 0 {
		return nil, fmt.Errorf("refused: control character %q in the command", line[i:i+1])
	}
	ps, err := runbook.Placeholders(line)
	if err != nil {
		return nil, fmt.Errorf("refused: %w", err)
	}
	m := mark(line, ps)
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(m.text), "")
	if err != nil {
		return nil, fmt.Errorf("refused: not a command a shell could parse: %s", m.unmark(err.Error()))
	}
	call, err := m.simpleCommand(f)
	if err != nil {
		return nil, err
	}
	argv := make([]string, 0, len(call.Args))
	for _, w := range call.Args {
		arg, err := m.word(w)
		if err != nil {
			return nil, err
		}
		if arg, err = m.fill(arg, ps, v); err != nil {
			return nil, err
		}
		argv = append(argv, arg)
	}
	return argv, nil
}

// marked is a command line whose placeholders are replaced by markers:
// plain words no shell syntax can split, filled only after parsing.
type marked struct {
	line   string // as written
	text   string // with markers
	prefix string
	re     *regexp.Regexp // matches a marker, the placeholder's index in group 1
	ps     []runbook.Placeholder
}

func mark(line string, ps []runbook.Placeholder) *marked {
	// The prefix must not occur in the line, even once quotes and
	// backslashes are gone, or text could pass for a marker.
	bare := strings.NewReplacer(`\`, "", `'`, "", `"`, "").Replace(line)
	prefix := "KLAXONPH"
	for strings.Contains(bare, prefix) {
		prefix += "Q"
	}
	var b strings.Builder
	last := 0
	for i, p := range ps {
		b.WriteString(line[last:p.Start])
		fmt.Fprintf(&b, "%s%dX", prefix, i)
		last = p.End
	}
	b.WriteString(line[last:])
	return &marked{line: line, text: b.String(), prefix: prefix, re: regexp.MustCompile(prefix + `([0-9]+)X`), ps: ps}
}

// unmark puts the placeholders back into s, a part of the marked text.
func (m *marked) unmark(s string) string {
	return m.re.ReplaceAllStringFunc(s, func(mk string) string {
		i, _ := strconv.Atoi(mk[len(m.prefix) : len(mk)-1])
		p := m.ps[i]
		return m.line[p.Start:p.End]
	})
}

// source is the text of node as written, for a refusal to quote.
func (m *marked) source(n syntax.Node) string {
	s := m.unmark(m.text[n.Pos().Offset():n.End().Offset()])
	if len(s) > 60 {
		s = trimPartialRune(s[:57]) + "…"
	}
	return s
}

func needsShell(what string) error {
	return fmt.Errorf("refused: %s; diagnostics never run one", what)
}

// simpleCommand returns f's only command if it is a simple one: words,
// without redirections, assignments, pipes, lists or compound commands.
func (m *marked) simpleCommand(f *syntax.File) (*syntax.CallExpr, error) {
	switch {
	case len(f.Stmts) == 0:
		return nil, errors.New("refused: no command")
	case len(f.Stmts) > 1 && f.Stmts[0].Background:
		return nil, needsShell("& (running in the background) needs a shell")
	case len(f.Stmts) > 1:
		return nil, needsShell("; (more than one command) needs a shell")
	}
	st := f.Stmts[0]
	switch {
	case st.Background || st.Coprocess || st.Disown:
		return nil, needsShell("& (running in the background) needs a shell")
	case st.Negated:
		return nil, needsShell("! needs a shell")
	case len(st.Redirs) > 0:
		return nil, needsShell(fmt.Sprintf("redirection %q needs a shell", st.Redirs[0].Op.String()))
	}
	switch c := st.Cmd.(type) {
	case *syntax.CallExpr:
		if len(c.Assigns) > 0 {
			return nil, needsShell(fmt.Sprintf("assignment %q needs a shell", m.source(c.Assigns[0])))
		}
		if len(c.Args) == 0 {
			return nil, errors.New("refused: no command")
		}
		return c, nil
	case *syntax.BinaryCmd:
		switch c.Op {
		case syntax.Pipe, syntax.PipeAll:
			return nil, needsShell("pipes need a shell")
		default:
			return nil, needsShell(c.Op.String() + " needs a shell")
		}
	case *syntax.Subshell:
		return nil, needsShell("subshells ( … ) need a shell")
	case nil:
		return nil, errors.New("refused: no command")
	default:
		return nil, needsShell(fmt.Sprintf("%q needs a shell", m.source(c)))
	}
}

// word is the literal value of w, markers left in, or why a shell would be
// needed to find it.
func (m *marked) word(w *syntax.Word) (string, error) {
	var b strings.Builder
	for _, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			if err := unquoted(&b, p.Value); err != nil {
				return "", err
			}
		case *syntax.SglQuoted:
			if p.Dollar {
				return "", needsShell(fmt.Sprintf("%q needs a shell", m.source(p)))
			}
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			if p.Dollar {
				return "", needsShell(fmt.Sprintf("%q needs a shell", m.source(p)))
			}
			for _, q := range p.Parts {
				lit, ok := q.(*syntax.Lit)
				if !ok {
					return "", needsShell(fmt.Sprintf("%q needs a shell", m.source(q)))
				}
				b.WriteString(unescapeDouble(lit.Value))
			}
		case *syntax.ExtGlob:
			return "", globError(m.source(p))
		default: // $VAR, ${…}, $(…), `…`, $((…)), <(…)…
			return "", needsShell(fmt.Sprintf("%q needs a shell", m.source(p)))
		}
	}
	return b.String(), nil
}

func globError(s string) error {
	return fmt.Errorf("refused: glob %q would need a shell to expand; quote it to pass it as is", s)
}

// unquoted writes the value of raw, unquoted text as written, to b: a
// backslash escapes the next character. What a shell would expand there
// (globs, braces, a leading ~) is refused.
func unquoted(b *strings.Builder, raw string) error {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '\\':
			if i+1 < len(raw) {
				i++
				c = raw[i]
			}
		case '*', '?', '[':
			return globError(string(c))
		case '{':
			return fmt.Errorf("refused: brace %q would need a shell to expand; quote it to pass it as is", string(c))
		case '~':
			if s := b.String(); s == "" || strings.HasSuffix(s, "=") || strings.HasSuffix(s, ":") {
				return fmt.Errorf("refused: %q would need a shell to expand; quote it to pass it as is", "~")
			}
		}
		b.WriteByte(c)
	}
	return nil
}

// unescapeDouble is the value of raw text inside double quotes, where a
// backslash escapes only $ ` " \ and newline.
func unescapeDouble(raw string) string {
	if !strings.Contains(raw, `\`) {
		return raw
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' && i+1 < len(raw) && strings.IndexByte("$`\"\\\n", raw[i+1]) >= 0 {
			i++
			if raw[i] == '\n' {
				continue
			}
		}
		b.WriteByte(raw[i])
	}
	return b.String()
}

// fill replaces the markers in arg by their placeholders' values.
func (m *marked) fill(arg string, ps []runbook.Placeholder, v runbook.Vars) (string, error) {
	var err error
	out := m.re.ReplaceAllStringFunc(arg, func(mk string) string {
		i, _ := strconv.Atoi(mk[len(m.prefix) : len(mk)-1])
		val, verr := value(ps[i], v)
		if err == nil {
			err = verr
		}
		return val
	})
	return out, err
}

// value is a placeholder's value if an alert may put it in a command.
func value(p runbook.Placeholder, v runbook.Vars) (string, error) {
	kind := "label"
	if p.Annotation {
		kind = "annotation"
	}
	val, ok := p.Value(v)
	switch {
	case !ok:
		return "", fmt.Errorf("refused: the alert has no %s %q", kind, p.Name)
	case strings.HasPrefix(val, "-"):
		return "", fmt.Errorf("refused: %s %q starts with \"-\"; an alert must not add options to a command", kind, p.Name)
	case !utf8.ValidString(val):
		return "", fmt.Errorf("refused: %s %q is not valid UTF-8", kind, p.Name)
	case strings.ContainsFunc(val, unsafeRune):
		return "", fmt.Errorf("refused: %s %q holds control characters", kind, p.Name)
	}
	return val, nil
}

// unsafeRune reports control and invisible formatting characters (NUL,
// newlines, bidi overrides…): a value shown to people must read as it runs.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

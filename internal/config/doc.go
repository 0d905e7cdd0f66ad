package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/klaxon-oss/klaxon"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	Key     string // e.g. integrations[1].token
	Line    int    // 0 when unknown
	Message string
}

// Error lists every problem found in a configuration file.
type Error struct {
	File     string
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		loc := e.File
		if p.Line > 0 {
			loc = fmt.Sprintf("%s:%d", e.File, p.Line)
		}
		if p.Key != "" {
			lines[i] = fmt.Sprintf("%s: %s: %s", loc, p.Key, p.Message)
		} else {
			lines[i] = fmt.Sprintf("%s: %s", loc, p.Message)
		}
	}
	return strings.Join(lines, "\n")
}

// doc remembers where each key is, so validation can name its line.
type doc struct {
	name     string
	lines    map[string]int
	problems []Problem
}

func (d *doc) addf(key, format string, args ...any) {
	line := d.lines[key]
	for k := key; line == 0 && k != ""; {
		// A missing key: point at its nearest parent that exists.
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
		line = d.lines[k]
	}
	d.problems = append(d.problems, Problem{Key: key, Line: line, Message: fmt.Sprintf(format, args...)})
}

func (d *doc) addYAMLError(err error) {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		d.problems = append(d.problems, Problem{Message: err.Error()})
		return
	}
	for _, msg := range te.Errors {
		var line int
		fmt.Sscanf(msg, "line %d:", &line)
		if i := strings.Index(msg, ": "); i >= 0 && line > 0 {
			msg = msg[i+2:]
		}
		d.problems = append(d.problems, Problem{Line: line, Message: msg})
	}
}

var (
	typeOfConfig    = reflect.TypeFor[Config]()
	typeOfChannel   = reflect.TypeFor[Channel]()
	typeOfAny       = reflect.TypeFor[any]()
	typeOfTime      = reflect.TypeFor[time.Time]()
	typeOfRole      = reflect.TypeFor[klaxon.Role]()
	typeOfRateLimit = reflect.TypeFor[RateLimit]()
)

// envRef is ${NAME}; $$ is a literal $.
var envRef = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// walk records each key's line, refuses keys the type does not have, and
// expands ${ENV} in scalar values in place. Expanding values after parsing,
// not the raw text, means a secret full of YAML syntax stays one string.
func (d *doc) walk(n *yaml.Node, path string, t reflect.Type, lookup func(string) (string, bool)) {
	if path != "" {
		d.lines[path] = n.Line
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.ScalarNode:
		d.expand(n, path, lookup)
		switch t {
		case typeOfTime:
			d.checkTime(n, path)
		case typeOfRole:
			d.checkRole(n, path)
		case typeOfRateLimit:
			d.checkRateLimit(n, path)
		}
	case yaml.SequenceNode:
		if t.Kind() == reflect.Interface {
			t = reflect.TypeFor[[]any]()
		}
		if t.Kind() != reflect.Slice {
			return // the decoder reports the type mismatch
		}
		for i, c := range n.Content {
			d.walk(c, fmt.Sprintf("%s[%d]", path, i), t.Elem(), lookup)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			child := k.Value
			if path != "" {
				child = path + "." + k.Value
			}
			switch {
			case t == typeOfChannel || t.Kind() == reflect.Interface:
				// A channel's own keys are checked by its package (Channel.Decode).
				d.lines[child] = k.Line
				d.walk(v, child, typeOfAny, lookup)
			case t.Kind() == reflect.Struct:
				f, ok := fieldByTag(t, k.Value)
				if !ok {
					d.lines[child] = k.Line
					d.addf(child, "unknown key")
					continue
				}
				d.walk(v, child, f.Type, lookup)
			case t.Kind() == reflect.Map:
				d.walk(v, child, t.Elem(), lookup)
			}
		}
	}
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if strings.Split(f.Tag.Get("yaml"), ",")[0] == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func (d *doc) expand(n *yaml.Node, path string, lookup func(string) (string, bool)) {
	if !strings.Contains(n.Value, "$") {
		return
	}
	n.Value = envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
		if ref == "$$" {
			return "$"
		}
		name := ref[2 : len(ref)-1]
		v, ok := lookup(name)
		if !ok {
			d.addf(path, "environment variable %s is not set", name)
		}
		return v
	})
}

// checkRole refuses an unknown role here, where its key and line are
// known; the decoder's own error names neither.
func (d *doc) checkRole(n *yaml.Node, path string) {
	if _, err := klaxon.ParseRole(n.Value); err != nil {
		d.addf(path, "%q: want viewer, responder or admin", n.Value)
	}
}

// checkTime refuses a time without its offset: YAML would read
// "2026-12-24 09:00:00" as UTC, silently hours off in most places, and the
// decoder's own error for other forms names no key.
func (d *doc) checkTime(n *yaml.Node, path string) {
	if n.ShortTag() == "!!null" {
		return
	}
	if _, err := time.Parse(time.RFC3339, n.Value); err != nil {
		d.addf(path, "%q: want a time with its offset, 2026-12-24T09:00:00+01:00", n.Value)
	}
}

package runbook

import (
	"cmp"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// Set is a loaded directory of runbooks, indexed for matching. It is
// immutable: a reload builds a new one.
type Set struct {
	all      []*Runbook // by slug
	bySlug   map[string]*Runbook
	exact    map[string][]*entry // by alert name, most specific first
	globs    []*entry            // most specific first
	problems []Problem
}

// entry is one alerts pattern of one runbook, with what ranks it.
type entry struct {
	rb      *Runbook
	pattern string
	line    int    // file line of the pattern
	glob    bool   // else an exact name
	literal int    // non-wildcard characters of the pattern
	prefix  string // of a glob, before its first wildcard: a cheap first test
}

// compareEntries orders entries most specific first: the package
// documentation's matching rule.
func compareEntries(a, b *entry) int {
	if a.glob != b.glob {
		if !a.glob {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(len(b.rb.Matchers), len(a.rb.Matchers)); c != 0 {
		return c
	}
	if c := cmp.Compare(b.literal, a.literal); c != 0 {
		return c
	}
	if c := cmp.Compare(a.rb.File, b.rb.File); c != 0 {
		return c
	}
	return cmp.Compare(a.pattern, b.pattern)
}

// NewSet is a set of the given runbooks, as Load would build it. Of two
// with the same slug the first is kept.
func NewSet(runbooks ...*Runbook) *Set { return newSet(runbooks, nil) }

func newSet(runbooks []*Runbook, problems []Problem) *Set {
	s := &Set{bySlug: map[string]*Runbook{}, exact: map[string][]*entry{}, problems: problems}
	for _, r := range runbooks {
		if r == nil {
			continue
		}
		if prev, dup := s.bySlug[r.Slug]; dup {
			s.problems = append(s.problems, Problem{File: r.File,
				Message: fmt.Sprintf("slug %q is already taken by %s: file skipped, rename one of them", r.Slug, prev.File)})
			continue
		}
		s.bySlug[r.Slug] = r
		s.all = append(s.all, r)
		for i, p := range r.Alerts {
			e := &entry{rb: r, pattern: p, glob: isGlob(p), literal: literalLen(p)}
			if i := strings.IndexAny(p, `*?[\`); i >= 0 {
				e.prefix = p[:i]
			}
			if i < len(r.alertLine) {
				e.line = r.alertLine[i]
			}
			if e.glob {
				s.globs = append(s.globs, e)
			} else {
				s.exact[p] = append(s.exact[p], e)
			}
		}
	}
	slices.SortStableFunc(s.problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	slices.SortFunc(s.all, func(a, b *Runbook) int { return cmp.Compare(a.Slug, b.Slug) })
	slices.SortFunc(s.globs, compareEntries)
	for _, es := range s.exact {
		slices.SortFunc(es, compareEntries)
	}
	return s
}

// ranked yields the entries whose pattern matches name, most specific
// first; matchers are left to the caller.
func (s *Set) ranked(name string) iter.Seq[*entry] {
	return func(yield func(*entry) bool) {
		for _, e := range s.exact[name] {
			if !yield(e) {
				return
			}
		}
		for _, e := range s.globs {
			if !strings.HasPrefix(name, e.prefix) {
				continue
			}
			if ok, _ := path.Match(e.pattern, name); ok && !yield(e) {
				return
			}
		}
	}
}

// Match is the runbook for an alert with labels lbls (alertname
// included), or nil: the most specific of those that match.
func (s *Set) Match(lbls map[string]string) *Runbook {
	if s == nil {
		return nil
	}
	for e := range s.ranked(lbls["alertname"]) {
		if e.rb.matchersMatch(lbls) {
			return e.rb
		}
	}
	return nil
}

// Get is the runbook with that slug (in any case), or nil.
func (s *Set) Get(slug string) *Runbook {
	if s == nil {
		return nil
	}
	return s.bySlug[strings.ToLower(slug)]
}

// Find is what a person means by arg: the runbook with that slug, else
// the one an alert named arg (exactly) with no other labels would get,
// else the most specific one covering that name for some labels.
func (s *Set) Find(arg string) *Runbook {
	if r := s.Get(arg); r != nil {
		return r
	}
	if r := s.Match(map[string]string{"alertname": arg}); r != nil {
		return r
	}
	for e := range s.ranked(arg) {
		return e.rb
	}
	return nil
}

// All is every runbook, sorted by slug.
func (s *Set) All() []*Runbook {
	if s == nil {
		return nil
	}
	return slices.Clone(s.all)
}

// Problems is what was wrong with the files when the set was loaded; the
// files with errors are not in the set.
func (s *Set) Problems() []Problem {
	if s == nil {
		return nil
	}
	return slices.Clone(s.problems)
}

// Load reads the runbooks in dir and its subdirectories: *.md and
// *.markdown files except README.md, skipping names that start with '.'
// or '_' (.git, _drafts). It fails only when dir cannot be read; each
// broken file is left out, with its problems in the set's Problems.
func Load(dir string) (*Set, error) {
	if _, err := os.ReadDir(dir); err != nil {
		return nil, fmt.Errorf("load runbooks: %w", err)
	}
	var (
		files    []string // relative, slash-separated
		problems []Problem
	)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		rel := relPath(dir, p)
		if err != nil {
			if p == dir {
				return err
			}
			problems = append(problems, Problem{File: rel, Message: err.Error()})
			return nil
		}
		name := d.Name()
		if p != dir && hidden(name) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isRunbookFile(name) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			// Followed to files only: a Kubernetes ConfigMap volume is all symlinks.
			if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
				return nil
			}
		}
		files = append(files, rel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load runbooks: %w", err)
	}
	slices.Sort(files) // lexical path order decides which duplicate slug is kept
	var runbooks []*Runbook
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			problems = append(problems, Problem{File: f, Message: err.Error()})
			continue
		}
		r, ps := Parse(f, data)
		problems = append(problems, ps...)
		runbooks = append(runbooks, r)
	}
	return newSet(runbooks, problems), nil
}

func isRunbookFile(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	if ext != ".md" && ext != ".markdown" {
		return false
	}
	return !strings.EqualFold(strings.TrimSuffix(name, path.Ext(name)), "readme")
}

func relPath(dir, p string) string {
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return filepath.ToSlash(p)
	}
	return filepath.ToSlash(rel)
}

func isGlob(pattern string) bool { return strings.ContainsAny(pattern, "*?[") }

// patternMatches reports whether an alerts pattern matches an alert name.
func patternMatches(pattern, name string) bool {
	if !isGlob(pattern) {
		return pattern == name
	}
	ok, _ := path.Match(pattern, name)
	return ok
}

// literalLen counts the characters of a pattern that must appear as
// written: not *, ?, nor a [...] class; an escaped character counts.
func literalLen(pattern string) int {
	n := 0
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '*', '?':
		case '[':
			j := i + 1
			for ; j < len(pattern) && pattern[j] != ']'; j++ {
				if pattern[j] == '\\' {
					j++
				}
			}
			i = j
		case '\\':
			i++
			n++
		default:
			if utf8.RuneStart(pattern[i]) {
				n++
			}
		}
	}
	return n
}

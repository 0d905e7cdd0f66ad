package diagnose

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
)

// allowEntry is one allowlist entry: a program and the arguments a command
// must start with.
type allowEntry struct {
	program string
	args    []string
}

func parseAllow(entries []string) ([]allowEntry, error) {
	out := make([]allowEntry, 0, len(entries))
	for i, e := range entries {
		words := strings.Fields(e)
		switch {
		case len(words) == 0:
			return nil, fmt.Errorf("diagnostics allow[%d]: empty entry", i)
		case strings.ContainsFunc(strings.Join(words, ""), unicode.IsControl):
			return nil, fmt.Errorf("diagnostics allow[%d] %q: control characters", i, e)
		case strings.Contains(words[0], "/") && !filepath.IsAbs(words[0]):
			// Relative to what? The working directory is not a place to
			// find programs in.
			return nil, fmt.Errorf("diagnostics allow[%d] %q: name the program bare, to find it in PATH, or by an absolute path", i, e)
		}
		out = append(out, allowEntry{program: words[0], args: words[1:]})
	}
	return out, nil
}

// allowed says whether an entry allows argv. Programs compare as written:
// "kubectl" allows "kubectl", not "/usr/bin/kubectl" nor "./kubectl".
func allowed(allow []allowEntry, argv []string) bool {
	for _, e := range allow {
		if argv[0] == e.program && len(argv)-1 >= len(e.args) && slices.Equal(argv[1:1+len(e.args)], e.args) {
			return true
		}
	}
	return false
}

// notAllowed says which part of argv no entry allows: the program, or the
// program and as many arguments as the longest entry for it has.
func notAllowed(allow []allowEntry, argv []string) string {
	n := 0
	for _, e := range allow {
		if e.program == argv[0] {
			n = max(n, len(e.args))
		}
	}
	shown := strings.Join(argv[:min(len(argv), 1+n)], " ")
	return fmt.Sprintf("%q is not on the allowlist (diagnostics.allow)", shown)
}

// lookPath finds the program to run. An absolute path is run as is (the
// allowlist named it so); a bare name is looked up in Klaxon's PATH, and
// never found in a relative PATH directory.
func lookPath(program string) (string, error) {
	if filepath.IsAbs(program) {
		return program, nil
	}
	if program == "" || strings.Contains(program, "/") {
		// The allowlist cannot hold these; refuse rather than guess.
		return "", fmt.Errorf("%q is neither a name to find in PATH nor an absolute path", program)
	}
	path, err := exec.LookPath(program)
	switch {
	case errors.Is(err, exec.ErrDot):
		return "", fmt.Errorf("%q was found only in a relative PATH directory; not running it", program)
	case errors.Is(err, exec.ErrNotFound):
		return "", fmt.Errorf("%q not found in PATH", program)
	case err != nil:
		return "", fmt.Errorf("%q: %w", program, err)
	case !filepath.IsAbs(path):
		return "", fmt.Errorf("%q was found only in a relative PATH directory; not running it", program)
	}
	return path, nil
}

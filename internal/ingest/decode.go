// Package ingest holds what the sender formats share. Each format is a
// subpackage that turns a request body into klaxon.Signals, pure and
// side-effect free, with testdata of real payloads.
package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// DecodeJSON decodes body into v and turns every failure into an EINVALID
// error that names the problem (and the field, where encoding/json says).
// Unknown fields are refused only when strict: Klaxon's own formats are
// strict, third-party formats must survive their senders adding fields.
//
// A NUL character (\u0000) is refused outright: PostgreSQL cannot store it
// in text or jsonb, and both stores must accept exactly the same input.
func DecodeJSON(body []byte, v any, strict bool) error {
	if hasEscapedNUL(body) {
		return klaxon.Errorf(klaxon.EINVALID, "body contains a NUL character (\\u0000), which Klaxon does not store")
	}
	// Unmarshal is the fast path; on failure the Decoder below finds the
	// same problem and describes it precisely (trailing data, empty body).
	if !strict && json.Unmarshal(body, v) == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return invalidJSON(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return klaxon.Errorf(klaxon.EINVALID, "body has data after the JSON value")
	}
	return nil
}

// hasEscapedNUL reports whether body holds the JSON escape \u0000, telling
// it apart from the text `\u0000` (an escaped backslash, then "u0000"): the
// escape is real when an odd number of backslashes leads up to the "u".
func hasEscapedNUL(body []byte) bool {
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte(`u0000`))
		if j < 0 {
			return false
		}
		u := i + j
		n := 0
		for k := u - 1; k >= 0 && body[k] == '\\'; k-- {
			n++
		}
		if n%2 == 1 {
			return true
		}
		i = u + 1
	}
}

func invalidJSON(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.EOF):
		return klaxon.Errorf(klaxon.EINVALID, "body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return klaxon.Errorf(klaxon.EINVALID, "body is not valid JSON: it ends before the value does")
	case errors.As(err, &syntax):
		return klaxon.Errorf(klaxon.EINVALID, "body is not valid JSON: %v (at byte %d)", syntax, syntax.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the body"
		}
		return klaxon.Errorf(klaxon.EINVALID, "%s: got JSON %s, want %s", field, typ.Value, jsonType(typ.Type.Kind().String()))
	default:
		// Unknown fields, bad time formats and the like: encoding/json's
		// message names the field.
		return klaxon.Errorf(klaxon.EINVALID, "%s", trimJSONPrefix(err.Error()))
	}
}

func jsonType(kind string) string {
	switch kind {
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "string":
		return "a string"
	case "int", "int64", "uint", "uint64":
		return "an integer"
	case "float64":
		return "a number"
	case "bool":
		return "a boolean"
	}
	return kind
}

func trimJSONPrefix(s string) string {
	const p = "json: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// Problems collects validation failures so one answer names all of them.
type Problems []string

// Addf records a problem.
func (p *Problems) Addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// Err returns nil, or an EINVALID error listing every problem.
func (p Problems) Err() error {
	switch len(p) {
	case 0:
		return nil
	}
	return &klaxon.Error{Code: klaxon.EINVALID, Message: strings.Join(p, "; "), Problems: p}
}

// ParseTime parses an RFC 3339 time as senders write it, in UTC; "" is the
// zero time. Formats decode times as strings and call this, so an error can
// name the field.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

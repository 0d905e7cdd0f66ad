package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/klaxon-oss/klaxon"
)

// Alerts lists alerts newest first, by keyset on id. State and level
// filters read an index in id order, label equality the GIN index when the
// label is rare, time ranges the first_seen index; the planner, with the
// table's statistics, picks between those and walking the primary key from
// the newest until the page is full.
func (db *DB) Alerts(ctx context.Context, f klaxon.AlertFilter) ([]*klaxon.Alert, error) {
	where, args := alertWhere(f)
	query := `SELECT ` + alertColumns + ` FROM alerts`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	args = append(args, limit)
	query += ` ORDER BY id DESC LIMIT $` + strconv.Itoa(len(args))
	out, err := queryAlerts(ctx, db.pool, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// alertWhere returns the conditions of f and their arguments.
func alertWhere(f klaxon.AlertFilter) ([]string, []any) {
	var (
		where []string
		args  []any
	)
	param := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, s := range f.States {
			states[i] = string(s)
		}
		where = append(where, `state = ANY (`+param(states)+`)`)
	}
	if len(f.Levels) > 0 {
		levels := make([]int32, len(f.Levels))
		for i, l := range f.Levels {
			levels[i] = int32(l)
		}
		where = append(where, `level = ANY (`+param(levels)+`)`)
	}
	// Labels that must have a value go in one containment test, which the
	// GIN index answers; absent-or-empty ones cannot use it.
	contains := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(f.Labels)) {
		if v := f.Labels[k]; v != "" {
			contains[k] = v
		} else {
			where = append(where, `coalesce(labels ->> `+param(k)+`, '') = ''`)
		}
	}
	if len(contains) > 0 {
		where = append(where, `labels @> `+param(contains)+`::jsonb`)
	}
	if f.Search != "" {
		// Label values are matched in jsonb_each_text, which is slow; when
		// the term is written the same in the labels' JSON text, that text
		// is a quicker first test.
		p := param("%" + likeEscaper.Replace(f.Search) + "%")
		inValues := `EXISTS (SELECT 1 FROM jsonb_each_text(labels) AS l WHERE l.value ILIKE ` + p + `)`
		if jsonbVerbatim(f.Search) {
			inValues = `labels::text ILIKE ` + p + ` AND ` + inValues
		}
		where = append(where, `(summary ILIKE `+p+` OR (`+inValues+`))`)
	}
	if !f.Since.IsZero() {
		where = append(where, `first_seen >= `+param(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, `first_seen < `+param(f.Until))
	}
	if f.Before > 0 {
		where = append(where, `id < `+param(f.Before))
	}
	if f.After > 0 {
		where = append(where, `id > `+param(f.After))
	}
	return where, args
}

// jsonbVerbatim reports whether jsonb writes s unchanged inside a string:
// it escapes only quotes, backslashes and control characters.
func jsonbVerbatim(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r == '"' || r == '\\' || r < 0x20 })
}

// likeEscaper makes a search term match itself in an ILIKE pattern, whose
// escape character is the backslash.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

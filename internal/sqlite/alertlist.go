package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/klaxon-oss/klaxon"
)

// Alerts lists alerts newest first, by keyset on id. State, level and time
// filters read an index in id order (or a short range of first_seen);
// label and text filters are checked row by row from the newest, so a page
// of common matches is read quickly and a rare one reads the table.
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
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	out, err := queryAlerts(ctx, db.read, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// alertWhere returns the conditions of f and their arguments.
//
// Labels are stored as encoding/json writes a map, so the bytes of
// "name":"value" are in the column whenever the label is; instr finds them
// several times faster than json_extract parses the object, which then
// only confirms the candidates.
func alertWhere(f klaxon.AlertFilter) ([]string, []any) {
	var (
		where []string
		args  []any
	)
	if len(f.States) > 0 {
		where = append(where, `state IN (`+placeholders(len(f.States))+`)`)
		for _, s := range f.States {
			args = append(args, s)
		}
	}
	if len(f.Levels) > 0 {
		where = append(where, `level IN (`+placeholders(len(f.Levels))+`)`)
		for _, l := range f.Levels {
			args = append(args, l)
		}
	}
	// Sorted, so one filter always makes the same statement.
	for _, k := range slices.Sorted(maps.Keys(f.Labels)) {
		if v := f.Labels[k]; v != "" {
			where = append(where, `instr(labels, ?) > 0 AND json_extract(labels, ?) = ?`)
			args = append(args, jsonString(k)+":"+jsonString(v), labelPath(k), v)
		} else {
			where = append(where, `coalesce(json_extract(labels, ?), '') = ''`)
			args = append(args, labelPath(k))
		}
	}
	if f.Search != "" {
		// LIKE folds ASCII letters only, as NOCASE does. Label values are
		// matched in json_each, which is slow; when the term is written the
		// same in JSON, the labels' text is a quicker first test.
		inValues := `EXISTS (SELECT 1 FROM json_each(alerts.labels) WHERE json_each.value LIKE ? ESCAPE '\')`
		if jsonString(f.Search) == `"`+f.Search+`"` {
			inValues = `labels LIKE ? ESCAPE '\' AND ` + inValues
		}
		cond := `(summary LIKE ? ESCAPE '\' OR (` + inValues + `))`
		pattern := "%" + likeEscaper.Replace(f.Search) + "%"
		for range strings.Count(cond, "?") {
			args = append(args, pattern)
		}
		where = append(where, cond)
	}
	if !f.Since.IsZero() {
		where = append(where, `first_seen >= ?`)
		args = append(args, micros(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, `first_seen < ?`)
		args = append(args, micros(f.Until))
	}
	if f.Before > 0 {
		where = append(where, `id < ?`)
		args = append(args, f.Before)
	}
	if f.After > 0 {
		where = append(where, `id > ?`)
		args = append(args, f.After)
	}
	return where, args
}

// jsonString is s as encoding/json writes it, quotes included: the same
// bytes as in a stored labels object.
func jsonString(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}

// labelPath is the JSON path of one label: quoted, so a name with dots or
// brackets is still one key.
func labelPath(name string) string { return "$." + jsonString(name) }

// likeEscaper makes a search term match itself in a LIKE ... ESCAPE '\'
// pattern.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

package postgres

import (
	"context"
	"fmt"
)

// outboxTopic is the LISTEN/NOTIFY channel QueueNotification signals on.
const outboxTopic = "klaxon_outbox"

// WatchOutbox listens on a connection of its own, taken out of the pool. It
// returns the error if the connection is lost; the caller listens again.
func (db *DB) WatchOutbox(ctx context.Context, wake func(channel string)) error {
	c, err := db.pool.Acquire(ctx)
	if err != nil {
		return ignoreDone(ctx, unavailable(err))
	}
	// Hijacked: a connection that LISTENs never goes back to the pool.
	conn := c.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+outboxTopic); err != nil {
		return ignoreDone(ctx, fmt.Errorf("listen %s: %w", outboxTopic, unavailable(err)))
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return ignoreDone(ctx, fmt.Errorf("listen %s: %w", outboxTopic, unavailable(err)))
		}
		wake(n.Payload)
	}
}

// ignoreDone is nil once ctx has ended: stopping is not a failure.
func ignoreDone(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

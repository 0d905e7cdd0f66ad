// Command klaxon runs the Klaxon server (klaxon serve) and talks to it
// (klaxon alerts, klaxon ack 12, …).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/klaxon-oss/klaxon/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

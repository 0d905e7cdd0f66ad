package cli

import "github.com/spf13/cobra"

func newBench(g *globals) *cobra.Command {
	return &cobra.Command{Use: "bench", Short: "Load-test a Klaxon server"}
}

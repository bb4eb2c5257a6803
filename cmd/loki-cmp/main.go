// Command loki-cmp renders a Grafana Loki stack from loki.yaml. See README.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/thedevops/loki-cmp/internal/cli"
)

func main() {
	os.Exit(guard(os.Stderr, run))
}

func run() int {
	// Argo CD sends SIGTERM at its deadline.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cli.Run(ctx, cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.Args[1:], os.LookupEnv)
}

// guard turns a panic into a generic error. The panic value and stack are
// not printed: they may hold input values, and input may hold a secret.
// Nothing has been written to stdout at that point (output is written once,
// at the very end), so Argo CD sees an error, never half a manifest set.
func guard(stderr io.Writer, f func() int) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintln(stderr, "loki-cmp: error: internal error (a bug in loki-cmp; please report the command you ran)")
			code = cli.ExitInternal
		}
	}()
	return f()
}

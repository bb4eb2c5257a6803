// Command loki-cmp renders a Grafana Loki stack from loki.yaml. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/thedevops/loki-cmp/internal/cli"
)

func main() {
	os.Exit(run())
}

func run() (code int) {
	// A bug must not print half a manifest set or echo input (which may hold
	// a secret): report it generically, without the panic value.
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintln(os.Stderr, "loki-cmp: error: internal error (this is a bug in loki-cmp; please report it with the command you ran, but not your loki.yaml's secrets)")
			code = cli.ExitInternal
		}
	}()
	// Argo CD sends SIGTERM at its deadline.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cli.Run(ctx, cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.Args[1:], os.LookupEnv)
}

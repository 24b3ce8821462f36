// Command localsignin runs step 3 on this machine the way Radix runs it,
// without Azure:
//
//	go run ./tools/cmd/localsignin
//
// A local OpenID Connect provider stands in for Entra ID, the real
// oauth2-proxy (the version tools/oauth2-proxy pins) gets the environment
// variables of the auth-proxy component in steps/03-auth-proxy/radixconfig.yaml
// with only the local differences changed, and the step's server listens on
// loopback behind it. Open the printed URL to be signed in; Ctrl-C stops
// everything.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"example.com/radix-tutorial/tools/internal/repo"
	"example.com/radix-tutorial/tools/internal/signin"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "localsignin:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("localsignin", flag.ContinueOnError)
	proxyPort := fs.Int("proxy-port", 4180, "port of oauth2-proxy, the address to open")
	serverPort := fs.Int("server-port", 5000, "port of the step's server, behind the proxy")
	providerPort := fs.Int("provider-port", 5556, "port of the local OpenID Connect provider")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q; the flags are -proxy-port, -server-port and -provider-port", fs.Args())
	}
	root, err := repo.Root()
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	loopback := func(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }
	stack, err := signin.Start(ctx, signin.Options{
		Root:         root,
		ProxyAddr:    loopback(*proxyPort),
		ServerAddr:   loopback(*serverPort),
		ProviderAddr: loopback(*providerPort),
		Log:          out,
	})
	if err != nil && ctx.Err() != nil {
		return errors.New("interrupted while starting")
	} else if err != nil {
		return err
	}

	fmt.Fprintf(out, "\noauth2-proxy runs with the auth-proxy settings of steps/%s/radixconfig.yaml, except:\n", signin.DefaultStep)
	for _, c := range stack.Changes {
		value := c.Value
		if c.Secret {
			value = "(hidden)"
		}
		fmt.Fprintf(out, "  %s=%s\n      %s\n", c.Name, value, c.Why)
	}
	fmt.Fprintf(out, "\nOpen %s\n", stack.URL())
	fmt.Fprintf(out, "You will be signed in as %s at once:\n", signin.Ada)
	fmt.Fprintf(out, "the local provider has no sign-in page, unlike Entra ID.\n")
	fmt.Fprintf(out, "Press Ctrl-C to stop.\n\n")

	var exited error
	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "Stopping...")
	case <-stack.Server.Done():
		exited = errors.New("the server stopped unexpectedly")
	case <-stack.Proxy.Done():
		exited = errors.New("oauth2-proxy stopped unexpectedly")
	}
	return errors.Join(exited, stack.Close())
}

// Package signin runs a step behind a sign-in the way Radix runs step 3,
// but on this machine and without Azure: a local OpenID Connect provider
// stands in for Entra ID, the real oauth2-proxy is configured from the
// auth-proxy component of the step's radixconfig.yaml, and the step's
// server listens on loopback behind it.
//
// Start runs all three and Stack.Close stops them; SignIn gives an HTTP
// client that holds a session. Everything listens on loopback only, because
// the server trusts the identity headers of whoever can reach it.
package signin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// DefaultStep is the step that has the auth-proxy component.
const DefaultStep = "03-auth-proxy"

// Options says what to run where. Only Root is required.
type Options struct {
	Root string // the repository root
	Step string // the step folder under steps/; DefaultStep if empty

	// host:port to listen on; a free loopback port if empty.
	ProxyAddr, ServerAddr, ProviderAddr string

	User User // who signs in unless another user is queued; Ada if empty

	// Binaries built beforehand, so that tests build them only once; they
	// are built here if empty.
	ProxyBin, ServerBin string

	Log io.Writer // progress and the processes' output, line by line; discarded if nil
}

// Stack is a running provider, step server and oauth2-proxy.
type Stack struct {
	Provider  *Provider
	Server    *Process
	Proxy     *Process
	ProxyAddr string
	// ServerAddr is where the server listens without the proxy in front:
	// requests sent there directly carry whatever headers the sender likes.
	ServerAddr string
	// Changes are the proxy settings that differ from radixconfig.yaml.
	Changes []Setting
	tmp     string
}

// Start starts the provider, the server and oauth2-proxy, and returns once
// the server and the proxy answer requests. It fails at once, naming the
// port, when a port is in use.
func Start(ctx context.Context, opts Options) (s *Stack, err error) {
	if opts.Step == "" {
		opts.Step = DefaultStep
	}
	if opts.User.Subject == "" {
		opts.User = Ada
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	for _, addr := range []*string{&opts.ProxyAddr, &opts.ServerAddr, &opts.ProviderAddr} {
		if *addr == "" {
			if *addr, err = FreeAddr(); err != nil {
				return nil, err
			}
		} else if err := checkFree(*addr); err != nil {
			return nil, err
		}
	}

	s = &Stack{ProxyAddr: opts.ProxyAddr, ServerAddr: opts.ServerAddr}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Close())
			s = nil
		}
	}()

	if opts.ServerBin == "" {
		if s.tmp, err = os.MkdirTemp("", "signin-"); err != nil {
			return s, err
		}
		fmt.Fprintf(log, "Building the server of steps/%s...\n", opts.Step)
		if opts.ServerBin, err = BuildServer(ctx, opts.Root, opts.Step, s.tmp); err != nil {
			return s, err
		}
	}
	if opts.ProxyBin == "" {
		slow := time.AfterFunc(time.Second, func() {
			fmt.Fprintf(log, "Building oauth2-proxy from %s; the first build takes a minute or more...\n", proxyModuleDir)
		})
		opts.ProxyBin, err = ProxyBinary(ctx, opts.Root)
		slow.Stop()
		if err != nil {
			return s, err
		}
	}

	if s.Provider, err = StartProvider(opts.ProviderAddr, opts.User); err != nil {
		return s, err
	}

	server := exec.Command(opts.ServerBin)
	server.Env = append(os.Environ(), "LISTEN_ADDR="+opts.ServerAddr)
	if s.Server, err = start("server", server, log); err != nil {
		return s, err
	}
	if err = s.Server.waitReady(ctx, s.ServerURL()+"healthz"); err != nil {
		return s, err
	}

	var env []string
	env, s.Changes, err = ProxyEnv(filepath.Join(opts.Root, "steps", opts.Step, "radixconfig.yaml"), Local{
		Issuer:       s.Provider.Issuer(),
		ClientID:     s.Provider.ClientID(),
		ClientSecret: s.Provider.ClientSecret(),
		ProxyAddr:    opts.ProxyAddr,
		ServerURL:    "http://" + opts.ServerAddr,
	})
	if err != nil {
		return s, err
	}
	proxy := exec.Command(opts.ProxyBin)
	proxy.Env = env
	if s.Proxy, err = start("oauth2-proxy", proxy, log); err != nil {
		return s, err
	}
	if err = s.Proxy.waitReady(ctx, s.URL()+"ping"); err != nil {
		return s, err
	}
	return s, nil
}

// URL is the address to open in a browser: the proxy.
func (s *Stack) URL() string { return "http://" + s.ProxyAddr + "/" }

// ServerURL is the server's own address, without the proxy.
func (s *Stack) ServerURL() string { return "http://" + s.ServerAddr + "/" }

// Close stops the proxy, the server and the provider, in that order, and
// returns what went wrong, such as a process that did not exit cleanly.
func (s *Stack) Close() error {
	var errs []error
	for _, p := range []*Process{s.Proxy, s.Server} {
		if p != nil {
			errs = append(errs, p.Stop())
		}
	}
	if s.Provider != nil {
		errs = append(errs, s.Provider.Close())
	}
	if s.tmp != "" {
		errs = append(errs, os.RemoveAll(s.tmp))
	}
	return errors.Join(errs...)
}

// SignIn signs in through the proxy at url, following the redirects to the
// provider and back, and returns a client whose cookie jar holds the
// session.
func SignIn(ctx context.Context, url string) (*http.Client, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("sign-in through %s ended with %s at %s", url, resp.Status, resp.Request.URL)
	}
	return client, nil
}

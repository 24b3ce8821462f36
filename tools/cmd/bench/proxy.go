package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"example.com/radix-tutorial/tools/internal/signin"
)

// proxiedStep is the step that runs behind oauth2-proxy.
const proxiedStep = signin.DefaultStep

// proxyTarget is the proxiedStep's server behind the real oauth2-proxy,
// configured from the step's radixconfig.yaml, with a local OpenID Connect
// provider instead of Azure AD. Each round signs in once and then loads
// the proxy with that session's cookie, so every request is checked and
// passed on, as on Radix.
func (b *runner) proxyTarget(ctx context.Context) (target, error) {
	name := proxiedStep + proxiedSuffix
	t := target{name: name, image: "n/a (stock image)"}
	if _, err := os.Stat(filepath.Join(b.root, "steps", proxiedStep)); err != nil {
		return t, fmt.Errorf("%s: %w", name, err)
	}
	b.logf("building %s (the first build of oauth2-proxy takes about a minute)", name)
	serverBin, err := b.build(ctx, filepath.Join(b.root, "steps", proxiedStep), ".", proxiedStep+"-upstream")
	if err != nil {
		return t, err
	}
	proxyBin, err := signin.ProxyBinary(ctx, b.root)
	if err != nil {
		return t, err
	}
	version, err := signin.ProxyVersion(ctx, b.root)
	if err != nil {
		return t, err
	}
	if fi, err := os.Stat(proxyBin); err == nil {
		t.binary = mib(fi.Size()) + " (oauth2-proxy)"
	}
	t.note = fmt.Sprintf("%s: oauth2-proxy %s in front of the %s server, both pinned to the server CPU. "+
		"Its memory, start-up (to the first 200 OK on /ping) and binary are oauth2-proxy's own; "+
		"its CPU per request is both processes' together. The binary is oauth2-proxy as `go tool` builds it (stripped, but with cgo), not the official image's.",
		name, version, proxiedStep)
	t.start = func(ctx context.Context) (*instance, error) {
		return b.startProxied(ctx, serverBin, proxyBin)
	}
	return t, nil
}

func (b *runner) startProxied(ctx context.Context, serverBin, proxyBin string) (inst *instance, err error) {
	var stops []func() error
	stopAll := func() error {
		var errs []error
		for i := len(stops) - 1; i >= 0; i-- {
			errs = append(errs, stops[i]())
		}
		return errors.Join(errs...)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, stopAll())
		}
	}()

	provider, err := signin.StartProvider("127.0.0.1:0", signin.Ada)
	if err != nil {
		return nil, err
	}
	stops = append(stops, provider.Close)

	serverAddr, err := signin.FreeAddr()
	if err != nil {
		return nil, err
	}
	server, err := b.startOne(ctx, proxiedStep, []string{serverBin}, []string{"LISTEN_ADDR=" + serverAddr}, "http://"+serverAddr+"/healthz", nil)
	if err != nil {
		return nil, err
	}
	stops = append(stops, server.stop)

	proxyAddr, err := signin.FreeAddr()
	if err != nil {
		return nil, err
	}
	env, _, err := signin.ProxyEnv(filepath.Join(b.root, "steps", proxiedStep, "radixconfig.yaml"), signin.Local{
		Issuer:       provider.Issuer(),
		ClientID:     provider.ClientID(),
		ClientSecret: provider.ClientSecret(),
		ProxyAddr:    proxyAddr,
		ServerURL:    "http://" + serverAddr,
	})
	if err != nil {
		return nil, err
	}
	proxyURL := "http://" + proxyAddr + "/"
	start := time.Now()
	proxy, err := spawn("oauth2-proxy", []string{proxyBin}, env, b.opts.pin)
	if err != nil {
		return nil, err
	}
	stops = append(stops, proxy.stop)
	startup, err := waitReady(ctx, start, proxyURL+"ping", nil, proxy)
	if err != nil {
		return nil, err
	}

	client, err := signin.SignIn(ctx, proxyURL)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(proxyURL)
	var cookies []string
	for _, c := range client.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	if len(cookies) == 0 {
		return nil, fmt.Errorf("signing in through %s left no session cookie", proxyURL)
	}
	return &instance{
		url:     proxyURL,
		header:  map[string]string{"Cookie": strings.Join(cookies, "; ")},
		startup: startup,
		main:    proxy,
		all:     []*process{proxy, server.main},
		stop:    stopAll,
	}, nil
}

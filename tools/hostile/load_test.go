package hostile

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"example.com/radix-tutorial/tools/internal/bench"
	"example.com/radix-tutorial/tools/internal/signin"
	"example.com/radix-tutorial/tools/internal/syncbuf"
)

// The load is bounded: this many requests, this many at a time, each
// over a kept-alive connection, all on loopback.
const (
	loadRequests    = 2000
	loadConcurrency = 32
)

// TestLoad sends a bounded load to each step's server, and to step 3's
// through oauth2-proxy with a signed-in session. Every request must be
// answered with 2xx, and no process may ever have been resident in more
// memory than Radix allows its component (resources.limits.memory in the
// step's radixconfig.yaml): above that, Kubernetes kills the container.
func TestLoad(t *testing.T) {
	for _, step := range radixSteps {
		t.Run(step, func(t *testing.T) {
			s := start(t, step)
			header, want := home(step)
			r := runLoad(s.url("/"), header, want)
			t.Logf("steps/%s: %s", step, r)
			r.check(t)
			checkPeakMemory(t, step, "server", s.pid())
		})
	}

	t.Run("03-auth-proxy through oauth2-proxy", func(t *testing.T) {
		stack, _ := startStack(t, signin.Ada)
		client, err := signin.SignIn(context.Background(), stack.URL())
		if err != nil {
			t.Fatal(err)
		}
		r := runLoad(stack.URL(), cookieHeader(client, stack.URL()), "<h1>Hello, "+signin.Ada.PreferredUsername+"</h1>")
		t.Logf("oauth2-proxy in front of steps/03-auth-proxy: %s", r)
		r.check(t)
		checkPeakMemory(t, signin.DefaultStep, "server", stack.Server.Pid())
		checkPeakMemory(t, signin.DefaultStep, signin.ProxyComponent, stack.Proxy.Pid())
	})
}

type loadResult struct {
	ok, transportErrors, otherStatus int
	first                            string // the first failure
	elapsed                          time.Duration
}

func (r loadResult) String() string {
	return fmt.Sprintf("%d requests, %d at a time, in %s: %d answered 2xx, %d transport errors, %d other statuses",
		loadRequests, loadConcurrency, r.elapsed.Round(time.Millisecond), r.ok, r.transportErrors, r.otherStatus)
}

func (r loadResult) check(t *testing.T) {
	t.Helper()
	if r.ok != loadRequests || r.transportErrors != 0 || r.otherStatus != 0 {
		t.Errorf("%s; the first failure: %s", r, r.first)
	}
}

// runLoad sends loadRequests GETs to url, loadConcurrency at a time, and
// counts those answered 2xx with a body containing want.
func runLoad(url string, header http.Header, want string) loadResult {
	transport := &http.Transport{MaxIdleConnsPerHost: loadConcurrency, MaxConnsPerHost: loadConcurrency}
	defer transport.CloseIdleConnections()
	client := &http.Client{
		Transport: transport,
		Timeout:   30 * time.Second,
		// A redirect to the sign-in is not an answer.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var (
		next                        atomic.Int64
		ok, transportErrs, otherSts atomic.Int64
		firstOnce                   sync.Once
		first                       string
	)
	fail := func(format string, args ...any) {
		firstOnce.Do(func() { first = fmt.Sprintf(format, args...) })
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range loadConcurrency {
		wg.Go(func() {
			for next.Add(1) <= loadRequests {
				status, body, err := get(client, url, header)
				switch {
				case err != nil:
					transportErrs.Add(1)
					fail("%v", err)
				case status/100 != 2 || !strings.Contains(body, want):
					otherSts.Add(1)
					fail("%d %q", status, body)
				default:
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return loadResult{
		ok: int(ok.Load()), transportErrors: int(transportErrs.Load()), otherStatus: int(otherSts.Load()),
		first: first, elapsed: time.Since(start),
	}
}

// checkPeakMemory compares the most a process was ever resident in
// (VmHWM) with the memory limit of its component in the step's
// radixconfig.yaml.
func checkPeakMemory(t *testing.T, step, component string, pid int) {
	t.Helper()
	limit := memoryLimit(t, step, component)
	m, err := bench.ReadMemory(pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("steps/%s %s: peak resident memory (VmHWM) %.1f MiB, limit %d MiB", step, component, float64(m.Peak)/(1<<20), limit>>20)
	if m.Peak >= limit {
		t.Errorf("steps/%s %s was resident in %d bytes at its peak, at or above its memory limit of %d bytes", step, component, m.Peak, limit)
	}
}

// memoryLimit reads resources.limits.memory of a component in the step's
// radixconfig.yaml, in bytes.
func memoryLimit(t *testing.T, step, component string) int64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "steps", step, "radixconfig.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var config struct {
		Spec struct {
			Components []struct {
				Name      string
				Resources struct {
					Limits struct{ Memory string }
				}
			}
		}
	}
	if err := yaml.Unmarshal(data, &config); err != nil {
		t.Fatal(err)
	}
	for _, c := range config.Spec.Components {
		if c.Name != component {
			continue
		}
		for suffix, unit := range map[string]int64{"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30} {
			if n, ok := strings.CutSuffix(c.Resources.Limits.Memory, suffix); ok {
				if v, err := strconv.ParseInt(n, 10, 64); err == nil {
					return v * unit
				}
			}
		}
		t.Fatalf("steps/%s/radixconfig.yaml: component %s has memory limit %q, want a number of Ki, Mi or Gi",
			step, component, c.Resources.Limits.Memory)
	}
	t.Fatalf("steps/%s/radixconfig.yaml has no component %s", step, component)
	return 0
}

// proxyBinary is oauth2-proxy as tools/oauth2-proxy pins it, built once.
var proxyBinary = sync.OnceValues(func() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return signin.ProxyBinary(ctx, root)
})

// startStack runs step 3's server behind the real oauth2-proxy, with a
// local OpenID Connect provider that signs in user unless another user is
// queued, and stops them when the test ends. The log holds their output,
// a line each, prefixed with [server] or [oauth2-proxy].
func startStack(t *testing.T, user signin.User) (*signin.Stack, *syncbuf.Buffer) {
	t.Helper()
	proxyBin, err := proxyBinary()
	if err != nil {
		t.Fatal(err)
	}
	log := &syncbuf.Buffer{}
	stack, err := signin.Start(context.Background(), signin.Options{
		Root:      root,
		User:      user,
		ServerBin: binaries[signin.DefaultStep],
		ProxyBin:  proxyBin,
		Log:       log,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Cleanup(func() {
		if err := stack.Close(); err != nil {
			t.Errorf("stopping the sign-in stack: %v", err)
		}
		if t.Failed() {
			t.Logf("output of the server and oauth2-proxy:\n%s", log.String())
		}
	})
	return stack, log
}

// cookieHeader returns the Cookie header that client sends to url: the
// oauth2-proxy session.
func cookieHeader(client *http.Client, url string) http.Header {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for _, c := range client.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	return http.Header{"Cookie": {req.Header.Get("Cookie")}}
}

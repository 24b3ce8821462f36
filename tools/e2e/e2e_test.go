// Package e2e signs in to step 3 end to end: a local OpenID Connect
// provider, the real oauth2-proxy configured from the step's
// radixconfig.yaml, and the step's server, with an HTTP client, the local
// run command and a real browser.
package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/radix-tutorial/tools/internal/radixconfig"
	"example.com/radix-tutorial/tools/internal/repo"
	"example.com/radix-tutorial/tools/internal/signin"
)

// binDir holds the step server built for this test binary.
var binDir string

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "e2e-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

// binaries builds the step server and oauth2-proxy once per test binary:
// the first build of oauth2-proxy takes a minute or more.
var binaries = sync.OnceValues(func() (signin.Options, error) {
	root, err := repo.Root()
	if err != nil {
		return signin.Options{}, err
	}
	// Generous: a cold build on a busy 2-core machine has taken seven minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	opts := signin.Options{Root: root}
	if opts.ServerBin, err = signin.BuildServer(ctx, root, signin.DefaultStep, binDir); err != nil {
		return opts, err
	}
	opts.ProxyBin, err = signin.ProxyBinary(ctx, root)
	return opts, err
})

// startStack runs the provider, the server and oauth2-proxy on free ports
// until the test ends.
func startStack(t *testing.T) *signin.Stack {
	t.Helper()
	opts, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	opts.Log = t.Output()
	s, err := signin.Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("stopping: %v", err)
		}
	})
	return s
}

// newClient returns a client with an empty cookie jar, like a browser
// that has never visited the site.
func newClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// noRedirects makes c return redirects instead of following them.
func noRedirects(c *http.Client) *http.Client {
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}

// get sends a GET to url with the given headers and returns the response
// and its body.
func get(t *testing.T, c *http.Client, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range header {
		req.Header[name] = values
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// assertShows fails unless page names u: subject, email and preferred
// username.
func assertShows(t *testing.T, page string, u signin.User) {
	t.Helper()
	for _, want := range []string{u.Subject, u.Email, u.PreferredUsername} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not show %q:\n%s", want, page)
		}
	}
}

func TestSignInFollowsTheOIDCFlow(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	c := newClient(t)
	var hops []*url.URL
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		hops = append(hops, req.URL)
		return nil
	}

	began := time.Now()
	resp, page := get(t, c, s.URL(), nil)
	t.Logf("signing in took %s", time.Since(began))

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s ended with %s at %s", s.URL(), resp.Status, resp.Request.URL)
	}
	if len(hops) != 3 {
		t.Fatalf("redirects: %v; want the provider's authorize endpoint, the proxy's callback, then the page", hops)
	}
	authorize, callback, back := hops[0], hops[1], hops[2]
	if authorize.Host != s.Provider.Addr() || authorize.Path != "/oidc/authorize" {
		t.Errorf("first redirect to %s, want the provider's authorize endpoint at %s", authorize, s.Provider.Addr())
	}
	if q := authorize.Query(); q.Get("client_id") != s.Provider.ClientID() || q.Get("redirect_uri") != s.URL()+"oauth2/callback" {
		t.Errorf("authorize request has client_id %q and redirect_uri %q, want %q and %q",
			q.Get("client_id"), q.Get("redirect_uri"), s.Provider.ClientID(), s.URL()+"oauth2/callback")
	}
	if callback.Host != s.ProxyAddr || callback.Path != "/oauth2/callback" || callback.Query().Get("code") == "" {
		t.Errorf("second redirect to %s, want the proxy's /oauth2/callback with a code", callback)
	}
	if back.String() != s.URL() {
		t.Errorf("third redirect to %s, want %s", back, s.URL())
	}
	assertShows(t, page, signin.Ada)
	if !strings.Contains(page, `href="/oauth2/sign_out"`) {
		t.Errorf("the page has no sign-out link to /oauth2/sign_out:\n%s", page)
	}
}

func TestForgedIdentityHeadersAreReplaced(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	c, err := signin.SignIn(t.Context(), s.URL())
	if err != nil {
		t.Fatal(err)
	}

	_, page := get(t, c, s.URL(), http.Header{
		"X-Forwarded-User":               {"mallory"},
		"X-Forwarded-Email":              {"mallory@attacker.test"},
		"X-Forwarded-Preferred-Username": {"mallory-admin"},
	})

	assertShows(t, page, signin.Ada)
	if strings.Contains(page, "mallory") {
		t.Errorf("the page shows the forged identity:\n%s", page)
	}
}

func TestClaimsAreEscaped(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	s.Provider.QueueUser(signin.User{
		Subject:           "<i>eve</i>",
		Email:             "<b>eve</b>@example.com",
		PreferredUsername: "<script>alert(1)</script>",
	})

	c := newClient(t)
	resp, page := get(t, c, s.URL(), nil)

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s at %s", resp.Status, resp.Request.URL)
	}
	for _, raw := range []string{"<i>eve", "<b>eve", "<script>alert"} {
		if strings.Contains(page, raw) {
			t.Errorf("the page contains %q unescaped:\n%s", raw, page)
		}
	}
	for _, escaped := range []string{"&lt;i&gt;eve&lt;/i&gt;", "&lt;b&gt;eve&lt;/b&gt;@example.com", "&lt;script&gt;alert(1)&lt;/script&gt;"} {
		if !strings.Contains(page, escaped) {
			t.Errorf("the page does not show %q:\n%s", escaped, page)
		}
	}
}

func TestSignOutEndsTheSession(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	c, err := signin.SignIn(t.Context(), s.URL())
	if err != nil {
		t.Fatal(err)
	}
	c = noRedirects(c)
	if resp, _ := get(t, c, s.URL(), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed in, GET / gave %s", resp.Status)
	}

	resp, _ := get(t, c, s.URL()+"oauth2/sign_out", nil)
	if resp.StatusCode != http.StatusFound {
		t.Errorf("GET /oauth2/sign_out gave %s, want 302 Found", resp.Status)
	}

	// Following the redirects now would sign in again at once, because the
	// local provider has no sign-in page, so look at the first step only.
	resp, page := get(t, c, s.URL(), nil)
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), s.Provider.Issuer()+"/authorize") {
		t.Errorf("after signing out, GET / gave %s to %q, want 302 Found to the provider", resp.Status, resp.Header.Get("Location"))
	}
	if strings.Contains(page, signin.Ada.Email) {
		t.Errorf("after signing out, the answer still names the user:\n%s", page)
	}
}

func TestServerRefusesRequestsWithoutIdentity(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	c := noRedirects(newClient(t))

	resp, page := get(t, c, s.ServerURL(), nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET %s without identity headers gave %s, want 401:\n%s", s.ServerURL(), resp.Status, page)
	}
	if resp, _ := get(t, c, s.ServerURL()+"healthz", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz on the server gave %s, want 200: the readiness probe sends no identity", resp.Status)
	}
	if resp, _ := get(t, c, s.URL(), nil); resp.StatusCode != http.StatusFound {
		t.Errorf("GET %s without a session gave %s, want 302 Found to the provider", s.URL(), resp.Status)
	}
}

func TestPinnedProxyVersionIsTheImageTag(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	version, err := signin.ProxyVersion(t.Context(), root)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "steps", signin.DefaultStep, "radixconfig.yaml")
	f, err := radixconfig.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var images []string
	for _, c := range f.App.Spec.Components {
		if c.Name == signin.ProxyComponent {
			images = append(images, c.Image)
		}
	}
	want := "quay.io/oauth2-proxy/oauth2-proxy:" + version
	if len(images) != 1 || images[0] != want {
		t.Errorf("%s: component %s has image %q, want %q: the version that tools/oauth2-proxy/go.mod pins and the tests run",
			path, signin.ProxyComponent, images, want)
	}
}

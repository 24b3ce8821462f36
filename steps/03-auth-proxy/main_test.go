package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

var discard = slog.New(slog.DiscardHandler)

func TestRoutes(t *testing.T) {
	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/", http.StatusUnauthorized, notSignedIn},
		{"/healthz", http.StatusOK, "ok"},
		{"/nope", http.StatusNotFound, `{"message":"Not Found"}` + "\n"},
	}
	e := newServer(discard)
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
		if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
			t.Errorf("GET %s = %d %q, want %d %q", tt.path, rec.Code, rec.Body.String(), tt.wantStatus, tt.wantBody)
		}
	}
}

// signedIn is a request as oauth2-proxy passes it on.
func signedIn(user, preferredUsername, email string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("X-Forwarded-User", user)
	req.Header.Set("X-Forwarded-Preferred-Username", preferredUsername)
	req.Header.Set("X-Forwarded-Email", email)
	return req
}

func get(e *echo.Echo, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestPageShowsWhoSignedIn(t *testing.T) {
	rec := get(newServer(discard), signedIn("user-0001", "ada", "ada.lovelace@example.com"))
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET / signed in = %d %q, want 200 text/html", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, want := range []string{
		"<h1>Hello, ada</h1>",
		`<dd id="user">user-0001</dd>`,
		`<dd id="preferred-username">ada</dd>`,
		`<dd id="email">ada.lovelace@example.com</dd>`,
		`<a href="/oauth2/sign_out">Sign out</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET / signed in: body lacks %q:\n%s", want, body)
		}
	}
}

// Without the profile scope there is no preferred username; the page says
// so instead of leaving a blank.
func TestPageForbidsScriptsAndFraming(t *testing.T) {
	rec := get(newServer(discard), signedIn("u", "ada", "ada@example.com"))
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
	}
	for name, value := range want {
		if got := rec.Header().Get(name); got != value {
			t.Errorf("%s = %q, want %q", name, got, value)
		}
	}
}

func TestPageSaysWhatWasNotSent(t *testing.T) {
	body := get(newServer(discard), signedIn("", "", "ada.lovelace@example.com")).Body.String()
	for _, want := range []string{
		"<h1>Hello, ada.lovelace@example.com</h1>",
		`<dd id="user"><em>not sent</em></dd>`,
		`<dd id="preferred-username"><em>not sent</em></dd>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

func TestPageEscapesHeaderValues(t *testing.T) {
	rec := get(newServer(discard), signedIn(`"><img src=x onerror=alert(1)>`, "ada & co", "<script>alert(1)</script>@example.com"))
	body := rec.Body.String()
	for _, raw := range []string{"<script", "<img"} {
		if strings.Contains(body, raw) {
			t.Errorf("body contains %q unescaped:\n%s", raw, body)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;@example.com", "ada &amp; co", "&#34;&gt;&lt;img"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks the escaped %q:\n%s", want, body)
		}
	}
}

// The server must be reached only through oauth2-proxy: a request without
// its headers gets no page.
func TestNoIdentityIsUnauthorized(t *testing.T) {
	for name, req := range map[string]*http.Request{
		"no headers":            httptest.NewRequest(http.MethodGet, "/", nil),
		"only a preferred name": signedIn("", "ada", ""),
		"empty user and email":  signedIn("", "", ""),
	} {
		rec := get(newServer(discard), req)
		if rec.Code != http.StatusUnauthorized || rec.Body.String() != notSignedIn {
			t.Errorf("%s: GET / = %d %q, want 401 %q", name, rec.Code, rec.Body.String(), notSignedIn)
		}
	}
}

// /healthz answers the probe, signed in or not, and says nothing about
// anyone.
func TestHealthzIsOpenAndRevealsNoIdentity(t *testing.T) {
	req := signedIn("user-0001", "ada", "ada.lovelace@example.com")
	req.URL.Path = "/healthz"
	rec := get(newServer(discard), req)
	if rec.Code != http.StatusOK || rec.Body.String() != "ok" {
		t.Errorf("GET /healthz signed in = %d %q, want 200 \"ok\"", rec.Code, rec.Body.String())
	}
}

// The log shows the visitor's address when a trusted proxy passed the
// request on, and the connection's address when anyone else claims one.
func TestLogsShowVisitorBehindTrustedProxies(t *testing.T) {
	tests := []struct {
		name, peer, forwardedFor, want string
	}{
		{"local oauth2-proxy", "127.0.0.1:40000", "203.0.113.7", "203.0.113.7"},
		{"Radix gateway and auth-proxy", "10.1.2.3:40000", "203.0.113.7, 10.4.5.6", "203.0.113.7"},
		{"client forging an earlier hop", "10.1.2.3:40000", "198.51.100.9, 203.0.113.7", "203.0.113.7"},
		{"untrusted peer", "192.0.2.10:40000", "203.0.113.7", "192.0.2.10"},
		{"other private range", "192.168.1.20:40000", "203.0.113.7", "192.168.1.20"},
		{"no header", "10.1.2.3:40000", "", "10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs strings.Builder
			req := signedIn("user-0001", "ada", "ada.lovelace@example.com")
			req.RemoteAddr = tt.peer
			if tt.forwardedFor != "" {
				req.Header.Set("X-Forwarded-For", tt.forwardedFor)
			}
			get(newServer(slog.New(slog.NewJSONHandler(&logs, nil))), req)

			var line struct {
				RemoteIP string `json:"remote_ip"`
			}
			if err := json.Unmarshal([]byte(logs.String()), &line); err != nil {
				t.Fatalf("log %q: %v", logs.String(), err)
			}
			if line.RemoteIP != tt.want {
				t.Errorf("from %s with X-Forwarded-For %q: logged remote_ip %q, want %q", tt.peer, tt.forwardedFor, line.RemoteIP, tt.want)
			}
		})
	}
}

// tag matches HTML tags, the page's structure.
var tag = regexp.MustCompile(`<[^>]*>`)

// FuzzPage checks that no header value, however hostile, can add markup to
// the page: the tags must be exactly those of a page showing plain values.
func FuzzPage(f *testing.F) {
	f.Add("user-0001", "ada", "ada.lovelace@example.com")
	f.Add("", "", "")
	f.Add("", "ada", "")
	f.Add(`"><img src=x onerror=alert(1)>`, "</dd><script>alert(1)</script>", "<script>@example.com")
	f.Add("<!--", "]]><![CDATA[", "\x00<svg/onload=alert(1)>")
	f.Add("{{.Email}}", "&lt;script&gt;", "<<script>script>")
	e := newServer(discard)
	f.Fuzz(func(t *testing.T, user, preferredUsername, email string) {
		rec := get(e, signedIn(user, preferredUsername, email))
		if user == "" && email == "" {
			if rec.Code != http.StatusUnauthorized || rec.Body.String() != notSignedIn {
				t.Fatalf("no identity: GET / = %d %q, want 401 %q", rec.Code, rec.Body.String(), notSignedIn)
			}
			return
		}
		plain := func(s string) string {
			if s == "" {
				return ""
			}
			return "x"
		}
		want := get(e, signedIn(plain(user), plain(preferredUsername), plain(email))).Body.String()
		got := rec.Body.String()
		if rec.Code != http.StatusOK || !slices.Equal(tag.FindAllString(got, -1), tag.FindAllString(want, -1)) {
			t.Fatalf("header values changed the markup: GET / = %d\n%s\nwant the tags of\n%s", rec.Code, got, want)
		}
	})
}

func TestRequestsAreLoggedButProbesAreNot(t *testing.T) {
	var logs strings.Builder
	e := newServer(slog.New(slog.NewJSONHandler(&logs, nil)))
	for _, path := range []string{"/", "/healthz"} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"msg":"request"`) || !strings.Contains(lines[0], `"uri":"/"`) {
		t.Errorf("logs = %q, want one request line for /", lines)
	}
}

func TestListenAddr(t *testing.T) {
	valid := map[string]string{
		"":               ":5000", // all interfaces, as a container needs
		":8080":          ":8080",
		"127.0.0.1:5000": "127.0.0.1:5000",
		"[::1]:0":        "[::1]:0",
	}
	for in, want := range valid {
		if got, err := listenAddr(in); got != want || err != nil {
			t.Errorf("listenAddr(%q) = %q, %v; want %q, nil", in, got, err, want)
		}
	}
	for _, in := range []string{"5000", "localhost", ":http", ":-1", ":65536", "host:port:5000"} {
		if got, err := listenAddr(in); err == nil || !strings.Contains(err.Error(), "LISTEN_ADDR") {
			t.Errorf("listenAddr(%q) = %q, %v; want an error naming LISTEN_ADDR", in, got, err)
		}
	}
}

func TestRunRefusesBadAddressBeforeServing(t *testing.T) {
	err := run(context.Background(), discard, "localhost")
	if err == nil || !strings.Contains(err.Error(), "LISTEN_ADDR") {
		t.Fatalf("run with a bad address = %v, want an error naming LISTEN_ADDR", err)
	}
}

func TestShutdownLetsInFlightRequestFinish(t *testing.T) {
	e := newServer(discard)
	started := make(chan struct{})
	e.GET("/slow", func(c echo.Context) error {
		close(started)
		time.Sleep(300 * time.Millisecond)
		return c.String(http.StatusOK, "finished")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()

	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln, e, discard) }()

	type result struct {
		body string
		err  error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		slow <- result{string(body), err}
	}()
	<-started
	stop() // what SIGTERM does in main

	if r := <-slow; r.err != nil || r.body != "finished" {
		t.Errorf("in-flight request got %q, %v; want it to finish", r.body, r.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("serve returned %v after shutdown, want nil", err)
		}
	case <-time.After(shutdownTimeout):
		t.Fatal("serve did not return after shutdown")
	}
	if _, err := http.Get(url + "/"); err == nil {
		t.Error("a new request after shutdown succeeded, want the connection refused")
	}
}

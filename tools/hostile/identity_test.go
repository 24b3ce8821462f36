package hostile

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"example.com/radix-tutorial/tools/internal/signin"
	"example.com/radix-tutorial/tools/internal/syncbuf"
)

// The step 3 server shows a page only to requests that carry an identity;
// sent directly, without oauth2-proxy, a request gets 401 and learns
// nothing about anyone.
func TestNoIdentityIsRefusedDirectly(t *testing.T) {
	s := start(t, signin.DefaultStep)
	for name, header := range map[string]http.Header{
		"no headers":                   nil,
		"empty identity headers":       identity("", "", ""),
		"only a preferred username":    identity("", "ada", ""),
		"only groups":                  {"X-Forwarded-Groups": {"admins"}},
		"oauth2-proxy's other headers": {"X-Auth-Request-User": {"ada"}, "X-Auth-Request-Email": {"ada@example.com"}},
		"whitespace in user and email": identity(" ", "ada", "\t"),
		"a bearer token":               {"Authorization": {"Bearer not-a-token"}},
	} {
		status, body, err := get(quick, s.url("/"), header)
		if err != nil || status != http.StatusUnauthorized || strings.Contains(body, "ada") || strings.Contains(body, "<") {
			t.Errorf("%s: GET / = %d %q, %v; want 401 and a plain message", name, status, body, err)
		}
	}
}

// /healthz is open to the readiness probe, so it must say nothing about
// users: the same answer with and without an identity.
func TestHealthzRevealsNoIdentity(t *testing.T) {
	s := start(t, signin.DefaultStep)
	anonymous := healthz(t, s.url("/healthz"), nil)
	for _, header := range []http.Header{
		identity("user-0001", "ada", "ada.lovelace@example.com"),
		identity(`"><script>alert(1)</script>`, strings.Repeat("a", 4096), "\u202eada@example.com"),
	} {
		if got := healthz(t, s.url("/healthz"), header); got != anonymous {
			t.Errorf("GET /healthz with identity headers:\n%s\nwithout:\n%s\nwant the same", got, anonymous)
		}
	}
	if strings.Contains(anonymous, "ada") || strings.Contains(anonymous, "user-0001") {
		t.Errorf("GET /healthz reveals an identity:\n%s", anonymous)
	}
}

// healthz returns the status, headers but Date, and body of GET url.
func healthz(t *testing.T, url string, header http.Header) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	maps.Copy(req.Header, header)
	resp, err := quick.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Header.Del("Date")
	var b strings.Builder
	fmt.Fprintln(&b, resp.Status)
	resp.Header.Write(&b)
	fmt.Fprintf(&b, "\n%s", body)
	return b.String()
}

// TestHostileClaimsThroughProxy signs in, through the real oauth2-proxy,
// users whose names no one would choose: very long, with characters that
// turn text around or hide, and with control characters. Whatever the
// identity provider puts in a claim, the server must never fail with 5xx,
// and any page it shows must keep its markup and show the name as text.
func TestHostileClaimsThroughProxy(t *testing.T) {
	stack, log := startStack(t, signin.Ada)
	status, plain, err := signInAs(stack, signin.Ada)
	if err != nil || status != http.StatusOK {
		t.Fatalf("signing in as %s: %d, %v", signin.Ada, status, err)
	}
	wantTags := tag.FindAllString(plain, -1)

	tests := []struct {
		name, preferredUsername string
		// refused is the status when the name cannot be passed on at all;
		// 0 when the page must show it.
		refused int
	}{
		{"4 KiB name", strings.Repeat("ada", 1400), 0},
		{"16 KiB name", strings.Repeat("<b>ada</b>", 1700), 0},
		// The name travels in two headers and the session cookie: above
		// MaxHeaderBytes the server refuses it, as any other oversized request.
		{"70 KiB name", strings.Repeat("ada ", 70<<8), http.StatusRequestHeaderFieldsTooLarge},
		{"right-to-left override", "ada\u202egnp.exe", 0},
		{"zero-width characters", "a\u200bd\u200da\ufeff", 0},
		{"combining marks", "ada" + strings.Repeat("\u0301", 64), 0},
		{"invalid UTF-8", "ada\xff\xfe", 0},
		{"C1 control characters", "ada\u0085\u009b31m", 0},
		// Go's HTTP client, inside oauth2-proxy, will not put these in a
		// header: the proxy answers 502 and the server never sees them.
		{"NUL", "ada\x00admin", http.StatusBadGateway},
		{"terminal escape", "ada\x1b[31m\x07", http.StatusBadGateway},
		{"header injection", "ada\r\nX-Forwarded-User: admin", http.StatusBadGateway},
		{"line feed", "ada\nadmin", http.StatusBadGateway},
	}
	for i, tc := range tests {
		user := signin.User{
			Subject:           fmt.Sprintf("hostile-%d", i),
			Email:             fmt.Sprintf("hostile-%d@example.com", i),
			PreferredUsername: tc.preferredUsername,
		}
		served := requestsServed(log)
		status, page, err := signInAs(stack, user)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if tc.refused != 0 {
			if status != tc.refused {
				t.Errorf("%s: GET / = %d, want %d", tc.name, status, tc.refused)
			}
			if n := requestsServed(log); n != served {
				t.Errorf("%s: the server's handlers saw %d requests, want none", tc.name, n-served)
			}
			continue
		}
		if status != http.StatusOK {
			t.Errorf("%s: GET / = %d, want 200\n%.300s", tc.name, status, page)
			continue
		}
		// The server writes its log line as it answers, and the line reaches
		// the test a moment later: wait for it, so that the next case counts
		// only the requests of its own.
		waitForRequestsServed(t, log, served+1)
		if got := tag.FindAllString(page, -1); !slices.Equal(got, wantTags) {
			t.Errorf("%s: the name changed the page's markup:\n%.2000s", tc.name, page)
		}
		if i := strings.IndexFunc(page, rawControl); i >= 0 {
			t.Errorf("%s: the page holds the control character %q at byte %d", tc.name, page[i], i)
		}
		// The provider's JSON turns each invalid byte into U+FFFD, as
		// converting to runes does.
		want := string([]rune(tc.preferredUsername))
		if got := shown(page, "preferred-username"); got != want {
			t.Errorf("%s: the page shows the name as %.200q, want %.200q", tc.name, got, want)
		}
	}

	for line := range strings.Lines(log.String()) {
		entry, ok := strings.CutPrefix(line, "[server] ")
		var l logLine
		if ok && json.Unmarshal([]byte(entry), &l) == nil && (l.Status >= 500 || l.Level == "ERROR") {
			t.Errorf("the server failed: %s", entry)
		}
	}
	if status, _, err := signInAs(stack, signin.Ada); err != nil || status != http.StatusOK {
		t.Errorf("signing in as %s after the hostile users: %d, %v; want 200", signin.Ada, status, err)
	}
}

// waitForRequestsServed waits until the server has logged n requests.
func waitForRequestsServed(t *testing.T, log *syncbuf.Buffer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for requestsServed(log) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the server logged %d requests, want %d", requestsServed(log), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// requestsServed counts the requests that reached the server's handlers,
// from its log lines in the stack's output.
func requestsServed(log *syncbuf.Buffer) int {
	n := 0
	for line := range strings.Lines(log.String()) {
		if strings.HasPrefix(line, "[server] ") && strings.Contains(line, `"msg":"request"`) {
			n++
		}
	}
	return n
}

// tag matches HTML tags, the page's markup.
var tag = regexp.MustCompile(`<[^>]*>`)

// rawControl reports the control characters that have no place in an
// HTML page: C0 controls other than tab, line feed and carriage return,
// and DEL. (C1 controls are text to an HTML parser and display as nothing.)
func rawControl(r rune) bool {
	return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f
}

// shown returns the text of the page's <dd> element with the given id.
func shown(page, id string) string {
	m := regexp.MustCompile(`(?s)<dd id="` + regexp.QuoteMeta(id) + `">(.*?)</dd>`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// signInAs signs user in through the stack's proxy with a fresh browser,
// following every redirect, and returns the status and body of the page
// where it ends. Unlike signin.SignIn, it reports a refusal as a status
// instead of an error, because refusing is a valid answer here.
func signInAs(stack *signin.Stack, user signin.User) (int, string, error) {
	stack.Provider.QueueUser(user)
	jar, err := cookiejar.New(nil)
	if err != nil {
		return 0, "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, stack.URL(), nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := (&http.Client{Jar: jar}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body), err
}

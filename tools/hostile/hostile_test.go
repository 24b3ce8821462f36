// Package hostile runs the steps' real server binaries, built on their own
// as the Dockerfile builds them, against clients that misbehave: slow ones,
// oversized ones, many at once, signed-in users with strange names, and bad
// configuration. It also checks the repository itself for secrets and
// unpinned dependencies. docs/security.md says which test proves what.
//
// Everything listens on loopback only, and every load is bounded.
package hostile

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"example.com/radix-tutorial/tools/internal/freeport"
	"example.com/radix-tutorial/tools/internal/repo"
	"example.com/radix-tutorial/tools/internal/signin"
	"example.com/radix-tutorial/tools/internal/syncbuf"
)

// root is the repository root, found once for all tests.
var root = repo.MustRoot()

// radixSteps are the steps built to run in a container on Radix: they take
// LISTEN_ADDR, have timeouts and shut down gracefully. Step 1 is a dev
// server on the fixed localhost:5000 and has none of that by design.
var radixSteps = []string{"02-radix", "03-auth-proxy"}

// binaries maps each step to its server binary, built once in TestMain.
var binaries = map[string]string{}

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "hostile-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		steps, err := repo.Steps(root)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		var mu sync.Mutex
		var wg sync.WaitGroup
		var errs []error
		for _, step := range steps {
			wg.Go(func() {
				bin, err := signin.BuildServer(ctx, root, step, dir)
				mu.Lock()
				defer mu.Unlock()
				binaries[step] = bin
				errs = append(errs, err)
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}())
}

// server is a step's binary running as its own process.
type server struct {
	step string
	addr string // host:port from LISTEN_ADDR
	// ready is the path that answers 200 once the server is up: /healthz,
	// or / for step 1, which has no health check.
	ready string
	cmd   *exec.Cmd
	out   *syncbuf.Buffer // standard output and error: JSON log lines
	done  chan struct{}
	err   error // the exit status, set before done is closed
}

// launch starts the step's binary with LISTEN_ADDR=addr and stops it with
// SIGKILL when the test ends, if it is still running then.
func launch(t *testing.T, step, addr string) *server {
	t.Helper()
	bin, ok := binaries[step]
	if !ok {
		t.Fatalf("no binary for step %s", step)
	}
	s := &server{step: step, addr: addr, ready: "/healthz", out: &syncbuf.Buffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin)
	s.cmd.Env = append(os.Environ(), "LISTEN_ADDR="+addr)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
		if t.Failed() {
			t.Logf("steps/%s server output:\n%s", step, s.out.String())
		}
	})
	return s
}

// start launches the step's server on a free loopback port and waits
// until it answers.
func start(t *testing.T, step string) *server {
	t.Helper()
	s := launch(t, step, freeAddr(t))
	waitReady(t, s)
	return s
}

// waitReady waits up to 30 seconds until the server answers 200 on its
// ready path.
func waitReady(t *testing.T, s *server) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := quick.Get(s.url(s.ready))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-s.done:
			t.Fatalf("steps/%s exited before it answered: %v\n%s", s.step, s.err, s.out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("steps/%s does not answer %s: %v", s.step, s.url(s.ready), err)
		}
	}
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

func (s *server) pid() int { return s.cmd.Process.Pid }

// wait waits up to limit for the process to exit and returns its exit
// code; it fails the test if the process is still running then.
func (s *server) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(limit):
		t.Fatalf("steps/%s still runs %s later", s.step, limit)
	}
	var exit *exec.ExitError
	if errors.As(s.err, &exit) {
		return exit.ExitCode()
	}
	if s.err != nil {
		t.Fatalf("steps/%s: %v", s.step, s.err)
	}
	return 0
}

func (s *server) running() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// logLine is one JSON line of a server's log.
type logLine struct {
	Level  string `json:"level"`
	Msg    string `json:"msg"`
	Error  string `json:"error"`
	URI    string `json:"uri"`
	Status int    `json:"status"`
	raw    string
}

// logs parses the server's output so far; a line that is not JSON fails
// the test, because Radix's log view expects JSON lines.
func (s *server) logs(t *testing.T) []logLine {
	t.Helper()
	var lines []logLine
	sc := bufio.NewScanner(strings.NewReader(s.out.String()))
	for sc.Scan() {
		var l logLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Errorf("steps/%s wrote a log line that is not JSON: %q", s.step, sc.Text())
			continue
		}
		l.raw = sc.Text()
		lines = append(lines, l)
	}
	return lines
}

// waitLog waits up to 30 seconds until the server logs a line with msg.
func (s *server) waitLog(t *testing.T, msg string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(s.out.String(), `"msg":"`+msg+`"`) {
		if time.Now().After(deadline) {
			t.Fatalf("steps/%s did not log %q within 30 s", s.step, msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// signal sends sig to the server process.
func (s *server) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// quick is a client for requests that should be answered at once.
var quick = &http.Client{Timeout: 10 * time.Second}

// freeAddr returns a loopback address whose port is free now.
func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := freeport.Addr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// get sends a GET with the given headers and returns the status and body.
func get(client *http.Client, url string, header http.Header) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body), err
}

// identity is what oauth2-proxy sends the step 3 server for a signed-in
// user; sent directly, it stands in for the proxy.
func identity(user, preferredUsername, email string) http.Header {
	return http.Header{
		"X-Forwarded-User":               {user},
		"X-Forwarded-Preferred-Username": {preferredUsername},
		"X-Forwarded-Email":              {email},
	}
}

// home is what each step's / answers, and with which headers, when it
// serves its page.
func home(step string) (header http.Header, body string) {
	if step == "03-auth-proxy" {
		return identity("user-0001", "ada", "ada.lovelace@example.com"), "<h1>Hello, ada</h1>"
	}
	return nil, "Hello, World!"
}

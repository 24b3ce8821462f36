package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
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
		{"/", http.StatusOK, "Hello, World!"},
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

package hostile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"example.com/radix-tutorial/tools/internal/portlock"
)

// A client that sends its headers a few bytes at a time would hold a
// connection, and a goroutine, for as long as it likes. ReadHeaderTimeout
// (5 s) cuts it off, while everyone else is served as usual.
func TestSlowHeadersAreCutOff(t *testing.T) {
	const (
		readHeaderTimeout = 5 * time.Second
		// ReadTimeout (10 s) would also end the connection; closing well
		// before it shows that ReadHeaderTimeout did.
		readTimeout = 10 * time.Second
	)
	for _, step := range radixSteps {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			s := start(t, step)

			type cut struct {
				after time.Duration
				err   error
			}
			const slow = 3
			cuts := make(chan cut, slow)
			for range slow {
				go func() {
					after, err := trickleHeaders(s.addr, 2*readTimeout)
					cuts <- cut{after, err}
				}()
			}

			// Meanwhile, everyone else gets answers.
			served := 0
			header, want := home(step)
			for i := 0; i < slow; {
				select {
				case c := <-cuts:
					i++
					if c.err != nil {
						t.Error(c.err)
					} else if c.after < readHeaderTimeout-time.Second || c.after >= readTimeout-time.Second {
						t.Errorf("a client trickling its headers was cut off after %s, want about %s (ReadHeaderTimeout)", c.after.Round(time.Millisecond), readHeaderTimeout)
					}
				case <-time.After(200 * time.Millisecond):
					status, body, err := get(quick, s.url("/"), header)
					if err != nil || status != http.StatusOK || !strings.Contains(body, want) {
						t.Fatalf("while slow clients wait: GET / = %d %q, %v; want 200", status, body, err)
					}
					served++
				}
			}
			t.Logf("served %d other requests while %d clients trickled their headers", served, slow)
			if served == 0 {
				t.Error("no other request was answered while slow clients waited")
			}
			checkStillServes(t, s)
		})
	}
}

// trickleHeaders opens a connection and sends a request's headers a line
// every 250 ms without ever ending them. It returns how long after it
// connected the server closed the connection; an error if the server did
// not within limit.
func trickleHeaders(addr string, limit time.Duration) (time.Duration, error) {
	started := time.Now()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	closed := make(chan error, 1)
	go func() {
		// The server answers nothing; the read ends when it closes.
		_, err := conn.Read(make([]byte, 1))
		closed <- err
	}()
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\n", addr)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case err := <-closed:
			if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
				return 0, fmt.Errorf("reading from a slow client's connection: %v, want it closed", err)
			}
			return time.Since(started), nil
		case <-tick.C:
			// Writes may fail once the server has closed; the read says so.
			fmt.Fprintf(conn, "X-Slow-%d: %d\r\n", i, i)
		}
		if time.Since(started) > limit {
			return 0, fmt.Errorf("the server kept a client that never finished its headers for %s", limit)
		}
	}
}

// Headers larger than MaxHeaderBytes are refused with 431 before any
// handler runs; a sign-in cookie of several KiB is still welcome. Step 1
// sets no limit of its own, so Go's default of 1 MiB applies to it.
func TestOversizedHeadersGet431(t *testing.T) {
	// net/http allows 4096 bytes beyond MaxHeaderBytes for the request
	// line and framing.
	const slack = 4096
	limits := map[string]int{
		"01-local":      http.DefaultMaxHeaderBytes,
		"02-radix":      64 << 10, // the steps' MaxHeaderBytes
		"03-auth-proxy": 64 << 10,
	}
	for _, step := range append([]string{"01-local"}, radixSteps...) {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			var s *server
			if step == "01-local" {
				s = startLocal(t)
			} else {
				s = start(t, step)
			}
			header, want := home(step)

			for _, tc := range []struct {
				name   string
				size   int
				status int
			}{
				{"a large sign-in cookie", 16 << 10, http.StatusOK},
				{"one byte too many", limits[step] + slack + 1, http.StatusRequestHeaderFieldsTooLarge},
				{"far too many", 2 * limits[step], http.StatusRequestHeaderFieldsTooLarge},
			} {
				status, body, err := bigHeaderRequest(s.addr, header, tc.size)
				if err != nil || status != tc.status {
					t.Errorf("%s (%d bytes of headers): %d %.100q, %v; want %d", tc.name, tc.size, status, body, err, tc.status)
				}
				if status == http.StatusOK && !strings.Contains(body, want) {
					t.Errorf("%s: body %q, want one with %q", tc.name, body, want)
				}
				checkStillServes(t, s)
			}
		})
	}
}

// startLocal starts step 1's server, which always listens on
// localhost:5000, and waits until it answers. Other tests use that port
// too, so it holds the lock on the fixed ports until the test ends.
func startLocal(t *testing.T) *server {
	t.Helper()
	portlock.Hold(t)
	const addr = "localhost:5000"
	// A server that a person started, or a test that does not take the
	// lock, may still be using the port for a while.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatalf("another program has listened on %s for 2 minutes; stop it to run this test", addr)
		}
	}
	s := launch(t, "01-local", addr)
	s.ready = "/"
	waitReady(t, s)
	return s
}

// bigHeaderRequest sends GET / whose request line and headers, with the
// given headers and a Cookie that fills them up, take size bytes in all,
// and reads the response.
func bigHeaderRequest(addr string, header http.Header, size int) (int, string, error) {
	var head strings.Builder
	fmt.Fprintf(&head, "GET / HTTP/1.1\r\nHost: %s\r\n", addr)
	if err := header.Write(&head); err != nil {
		return 0, "", err
	}
	const name, end = "Cookie: session=", "\r\n\r\n"
	fill := size - head.Len() - len(name) - len(end)
	if fill < 0 {
		return 0, "", fmt.Errorf("size %d is too small for the other headers", size)
	}
	head.WriteString(name + strings.Repeat("a", fill) + end)

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, "", err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return 0, "", err
	}
	// The server answers 431 before it has read everything; the write
	// can then fail, but the response is there to read.
	go io.WriteString(conn, head.String())
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body), err
}

// checkStillServes fails the test unless the server answers its health
// check and is still running.
func checkStillServes(t *testing.T, s *server) {
	t.Helper()
	status, _, err := get(quick, s.url(s.ready), nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("afterwards GET %s = %d, %v; want 200: the server should keep serving", s.ready, status, err)
	}
}

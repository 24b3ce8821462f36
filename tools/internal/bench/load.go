package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Load describes a bounded load: Connections clients, each sending one GET
// after another over its own keep-alive connection, for Duration.
type Load struct {
	URL         string
	Header      map[string]string // sent with every request, e.g. a session cookie
	Connections int
	Duration    time.Duration
}

// Result is what one run of a Load measured.
type Result struct {
	Requests  int             // answered with 200 OK
	Failures  int             // errors and other statuses
	FirstFail string          // what went wrong first, for the report
	Elapsed   time.Duration   // from the first request until the last answer
	Latencies []time.Duration // of the answered requests, sorted
}

// PerSecond is the throughput: answered requests per second.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Run sends the load and waits for the last answer. Requests that are in
// flight when Duration ends are allowed to finish, so that a slow server
// is charged for them instead of having them cut off.
//
// The client speaks just enough HTTP/1.1 for this: one fixed request
// written as bytes, and answers that carry a Content-Length. It shares the
// machine with the server, and net/http's client, built for every case,
// spends more CPU per request, which would leave less for the server and
// make the servers look more alike than they are.
func (l Load) Run(ctx context.Context) (Result, error) {
	if l.Connections < 1 || l.Duration <= 0 {
		return Result{}, fmt.Errorf("load needs at least one connection and a positive duration, got %d and %v", l.Connections, l.Duration)
	}
	u, err := url.Parse(l.URL)
	if err != nil || u.Scheme != "http" || u.Port() == "" {
		return Result{}, fmt.Errorf("load URL %q: want http://host:port/path", l.URL)
	}
	request := l.request(u)

	workers := make([]worker, l.Connections)
	start := time.Now()
	deadline := start.Add(l.Duration)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		wg.Go(func() { w.run(ctx, u.Host, request, deadline) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}

	r := Result{Elapsed: time.Since(start)}
	for _, w := range workers {
		r.Latencies = append(r.Latencies, w.latencies...)
		r.Failures += w.failures
		if r.FirstFail == "" && w.firstFail != nil {
			r.FirstFail = w.firstFail.Error()
		}
	}
	r.Requests = len(r.Latencies)
	slices.Sort(r.Latencies)
	return r, nil
}

// request is the GET that every connection sends, again and again.
func (l Load) request(u *url.URL) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: radix-tutorial-bench\r\n", u.RequestURI(), u.Host)
	for _, k := range slices.Sorted(maps.Keys(l.Header)) {
		fmt.Fprintf(&b, "%s: %s\r\n", k, l.Header[k])
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// worker is one connection's client.
type worker struct {
	latencies []time.Duration
	failures  int
	firstFail error
}

func (w *worker) fail(err error) {
	w.failures++
	if w.firstFail == nil {
		w.firstFail = err
	}
}

func (w *worker) run(ctx context.Context, addr string, request []byte, deadline time.Time) {
	var conn net.Conn
	var br *bufio.Reader
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if conn == nil {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				w.fail(err)
				// Do not spin on a server that refuses connections.
				time.Sleep(time.Millisecond)
				continue
			}
			// One deadline for the whole load: a stalled server ends the
			// connection instead of the benchmark.
			c.SetDeadline(deadline.Add(10 * time.Second))
			conn, br = c, bufio.NewReaderSize(c, 16<<10)
		}
		t0 := time.Now()
		status, keepAlive, err := roundTrip(conn, br, request)
		switch {
		case err != nil:
			w.fail(err)
		case status != 200:
			w.fail(fmt.Errorf("GET answered %d %s", status, http.StatusText(status)))
		default:
			w.latencies = append(w.latencies, time.Since(t0))
		}
		if err != nil || !keepAlive {
			conn.Close()
			conn = nil
		}
	}
}

// roundTrip sends request on conn and reads the answer from br, which
// reads conn. It returns the status and whether the connection can carry
// another request.
func roundTrip(conn net.Conn, br *bufio.Reader, request []byte) (status int, keepAlive bool, err error) {
	if _, err := conn.Write(request); err != nil {
		return 0, false, err
	}
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, fmt.Errorf("reading the status line: %w", err)
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("not an HTTP/1.x status line: %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, false, fmt.Errorf("status line %q: %w", line, err)
	}
	keepAlive = line[7] == '1' // HTTP/1.0 closes unless told otherwise
	length := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, false, fmt.Errorf("reading the headers: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, fmt.Errorf("header line %q has no colon", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, false, fmt.Errorf("Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, false, fmt.Errorf("the answer is sent in parts (Transfer-Encoding: %s), which this client does not read", value)
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				keepAlive = false
			} else if bytes.EqualFold(value, []byte("keep-alive")) {
				keepAlive = true
			}
		}
	}
	if length < 0 {
		return 0, false, errors.New("the answer has no Content-Length")
	}
	if _, err := br.Discard(length); err != nil {
		return 0, false, fmt.Errorf("reading the body: %w", err)
	}
	return status, keepAlive, nil
}

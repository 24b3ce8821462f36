package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Load describes a bounded load: Connections clients, each sending one GET
// after another over its own keep-alive connection, for Duration.
type Load struct {
	URL         string
	Header      http.Header // sent with every request, e.g. a session cookie
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
func (l Load) Run(ctx context.Context) (Result, error) {
	if l.Connections < 1 || l.Duration <= 0 {
		return Result{}, fmt.Errorf("load needs at least one connection and a positive duration, got %d and %v", l.Connections, l.Duration)
	}
	transport := &http.Transport{
		MaxIdleConnsPerHost: l.Connections,
		MaxConnsPerHost:     l.Connections,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{
		Transport: transport,
		Timeout:   10 * time.Second,
		// A redirect means the request was not answered, e.g. a proxy
		// sending the client to sign in: count it as a failure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	type worker struct {
		latencies []time.Duration
		failures  int
		firstFail error
	}
	workers := make([]worker, l.Connections)
	start := time.Now()
	deadline := start.Add(l.Duration)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t0 := time.Now()
				err := l.get(ctx, client)
				if err != nil {
					w.failures++
					if w.firstFail == nil {
						w.firstFail = err
					}
					// Do not spin on a server that refuses connections.
					time.Sleep(time.Millisecond)
					continue
				}
				w.latencies = append(w.latencies, time.Since(t0))
			}
		})
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

func (l Load) get(ctx context.Context, client *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.URL, nil)
	if err != nil {
		return err
	}
	for k, v := range l.Header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	// Reading the body to the end lets the connection be reused.
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return errors.New("GET " + l.URL + ": " + resp.Status)
	}
	return nil
}

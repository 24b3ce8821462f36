package bench

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var d []time.Duration
		for _, n := range ns {
			d = append(d, time.Duration(n)*time.Millisecond)
		}
		return d
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 51, 3 * time.Millisecond},
		{ms(1, 2, 3, 4), 100, 4 * time.Millisecond},
		{ms(1, 2, 3, 4), 0.1, 1 * time.Millisecond},
		{hundred, 50, 50 * time.Millisecond},
		{hundred, 99, 99 * time.Millisecond},
		{hundred, 99.5, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := Percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		values []float64
		want   Spread
	}{
		{nil, Spread{}},
		{[]float64{5}, Spread{5, 5, 5}},
		{[]float64{9, 1, 5}, Spread{5, 1, 9}},
		{[]float64{4, 1, 3, 10}, Spread{3.5, 1, 10}},
	}
	for _, tt := range tests {
		if got := Summarize(tt.values); got != tt.want {
			t.Errorf("Summarize(%v) = %+v, want %+v", tt.values, got, tt.want)
		}
	}
	values := []float64{3, 1, 2}
	Summarize(values)
	if values[0] != 3 || values[1] != 1 {
		t.Errorf("Summarize reordered its argument: %v", values)
	}
}

const status = `Name:	hello
Umask:	0022
State:	S (sleeping)
VmPeak:	 1240716 kB
VmSize:	 1240716 kB
VmHWM:	   12288 kB
VmRSS:	    7424 kB
RssAnon:	    2560 kB
Threads:	5
`

func TestParseStatus(t *testing.T) {
	got, err := ParseStatus(strings.NewReader(status))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Memory{RSS: 7424 << 10, Peak: 12288 << 10}); got != want {
		t.Errorf("ParseStatus = %+v, want %+v", got, want)
	}

	for name, text := range map[string]string{
		"kernel thread": "Name:	kthreadd\nState:	S (sleeping)\n",
		"no unit":       "VmHWM:	12288\nVmRSS:	7424\n",
		"not a number":  "VmHWM:	12x kB\nVmRSS:	7424 kB\n",
		"one of two":    "VmRSS:	7424 kB\n",
	} {
		if m, err := ParseStatus(strings.NewReader(text)); err == nil {
			t.Errorf("%s: ParseStatus = %+v, want an error", name, m)
		}
	}
}

func TestReadMemoryOfThisProcess(t *testing.T) {
	m, err := ReadMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS <= 0 || m.Peak < m.RSS {
		t.Errorf("ReadMemory = %+v, want 0 < RSS ≤ Peak", m)
	}
}

func TestParseStat(t *testing.T) {
	// A program name with spaces and parentheses must not shift the fields.
	stat := "4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 37 0 0 20 0 5 0 12345 1270464512 1856 18446744073709551615"
	got, err := ParseStat(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := 287 * 10 * time.Millisecond; got != want {
		t.Errorf("ParseStat = %v, want %v (250+37 ticks)", got, want)
	}
	for _, bad := range []string{"", "4242 (prog) S 1 2 3", "4242 (prog) S 1 4242 4242 0 -1 4194560 1234 0 0 0 x 37"} {
		if d, err := ParseStat(bad); err == nil {
			t.Errorf("ParseStat(%q) = %v, want an error", bad, d)
		}
	}
}

func TestTableMarkdown(t *testing.T) {
	table := Table{
		Header: []string{"Server", "Requests/s", "Note"},
		Rows: [][]string{
			{"net/http", "31,250", ""},
			{"02-radix", "9,800", "n/a"},
			{"short"},
		},
	}
	got, err := table.Markdown()
	if err != nil {
		t.Fatal(err)
	}
	want := `| Server   | Requests/s | Note |
| -------- | ---------: | ---: |
| net/http |     31,250 |      |
| 02-radix |      9,800 |  n/a |
| short    |            |      |
`
	if got != want {
		t.Errorf("Markdown() =\n%s\nwant\n%s", got, want)
	}

	for _, bad := range []Table{
		{Header: []string{"a"}, Rows: [][]string{{"1", "2"}}},
		{Header: []string{"a"}, Rows: [][]string{{"x|y"}}},
	} {
		if s, err := bad.Markdown(); err == nil {
			t.Errorf("Markdown of %v = %q, want an error", bad, s)
		}
	}
}

func TestFormats(t *testing.T) {
	tests := []struct{ got, want string }{
		{Count(0), "0"},
		{Count(999.6), "1,000"},
		{Count(31250), "31,250"},
		{Count(1234567), "1,234,567"},
		{Count(-1234), "-1,234"},
		{MiB(7500 << 10), "7.3 MiB"},
		{Millis(0.000523), "0.52 ms"},
		{Millis(0.0042), "4.2 ms"},
		{Millis(0.0123), "12 ms"},
		{Micros(0.0000314), "31 µs"},
		{Ratio(8, 10), "0.80×"},
		{Ratio(8, 0), "n/a"},
		{FormatSpread(Spread{31000, 30000, 32000}, Count), "31,000 (30,000–32,000)"},
		{FormatSpread(Spread{7.3 * (1 << 20), 7.1 * (1 << 20), 7.4 * (1 << 20)}, MiB), "7.3 MiB (7.1–7.4 MiB)"},
		{FormatSpread(Spread{5, 5, 5}, Count), "5"},
		{FormatSpread(Spread{0.0005, 0.0005, 0.00051}, Millis), "0.50 ms (0.50–0.51 ms)"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

func TestLoadCountsAnswersAndFailures(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Cookie") != "session=ok" {
			http.Redirect(w, r, "/sign-in", http.StatusFound)
			return
		}
		served.Add(1)
		fmt.Fprint(w, "Hello, World!")
	}))
	defer srv.Close()

	load := Load{URL: srv.URL, Header: map[string]string{"Cookie": "session=ok"}, Connections: 4, Duration: 200 * time.Millisecond}
	r, err := load.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests == 0 || int64(r.Requests) != served.Load() || r.Failures != 0 {
		t.Errorf("Requests = %d, Failures = %d, server answered %d: want all answered and counted", r.Requests, r.Failures, served.Load())
	}
	if len(r.Latencies) != r.Requests || r.Latencies[0] > r.Latencies[len(r.Latencies)-1] {
		t.Errorf("want %d sorted latencies, got %d", r.Requests, len(r.Latencies))
	}
	if r.Elapsed < load.Duration || r.PerSecond() <= 0 {
		t.Errorf("Elapsed = %v, PerSecond = %v: want at least the load's duration and a positive rate", r.Elapsed, r.PerSecond())
	}

	load.Header = nil
	r, err = load.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 0 || r.Failures == 0 || !strings.Contains(r.FirstFail, "302 Found") {
		t.Errorf("without the cookie: Requests = %d, Failures = %d, FirstFail = %q; want only failures, a 302 first", r.Requests, r.Failures, r.FirstFail)
	}

	if _, err := (Load{URL: srv.URL}).Run(context.Background()); err == nil {
		t.Error("a load with no connections and no duration ran, want an error")
	}
}

func TestLoadReconnectsWhenTheServerCloses(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Header().Set("Connection", "close")
		fmt.Fprint(w, "Hello, World!")
	}))
	defer srv.Close()
	r, err := Load{URL: srv.URL + "/", Connections: 2, Duration: 100 * time.Millisecond}.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests < 2 || int64(r.Requests) != served.Load() || r.Failures != 0 {
		t.Errorf("Requests = %d, Failures = %d (%s), server answered %d: want several, all counted", r.Requests, r.Failures, r.FirstFail, served.Load())
	}
}

func TestLoadRejectsAnswersItCannotRead(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "Hello, ")
		w.(http.Flusher).Flush() // sends the rest in chunks, without a length
		fmt.Fprint(w, "World!")
	}))
	defer srv.Close()
	r, err := Load{URL: srv.URL, Connections: 1, Duration: 50 * time.Millisecond}.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 0 || r.Failures == 0 || !strings.Contains(r.FirstFail, "chunked") {
		t.Errorf("Requests = %d, Failures = %d, FirstFail = %q; want only failures, naming chunked", r.Requests, r.Failures, r.FirstFail)
	}

	for _, bad := range []string{"https://example.com/", "http://127.0.0.1/", "::"} {
		if _, err := (Load{URL: bad, Connections: 1, Duration: time.Millisecond}).Run(context.Background()); err == nil {
			t.Errorf("Load of %q ran, want an error", bad)
		}
	}
}

func TestSVG(t *testing.T) {
	svg, err := SVG(
		Panel{Title: "CPU per request", Labels: []string{"net/http", "<b>&"}, Values: []float64{40e-6, 20e-6}, Format: Micros},
		Panel{Title: "Memory", Labels: []string{"one"}, Values: []float64{0}, Format: MiB},
	)
	if err != nil {
		t.Fatal(err)
	}
	// It must be well-formed XML, with the hostile label escaped.
	d := xml.NewDecoder(bytes.NewReader(svg))
	var texts []string
	widths := map[string]bool{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.CharData:
			if s := strings.TrimSpace(string(tok)); s != "" {
				texts = append(texts, s)
			}
		case xml.StartElement:
			for _, a := range tok.Attr {
				if tok.Name.Local == "rect" && a.Name.Local == "width" {
					widths[a.Value] = true
				}
			}
		}
	}
	want := []string{"CPU per request", "net/http", "40 µs", "<b>&", "20 µs", "Memory", "one", "0.0 MiB"}
	if strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Errorf("texts = %q, want %q", texts, want)
	}
	// The largest value fills the bar area, half of it half, and zero none.
	for _, w := range []string{"450.0", "225.0", "0.0"} {
		if !widths[w] {
			t.Errorf("no bar of width %s among %v", w, widths)
		}
	}

	if _, err := SVG(Panel{Title: "bad", Labels: []string{"a"}, Values: []float64{math.NaN()}, Format: Count}); err == nil {
		t.Error("SVG drew a NaN, want an error")
	}
	if _, err := SVG(Panel{Title: "bad", Labels: []string{"a", "b"}, Values: []float64{1}, Format: Count}); err == nil {
		t.Error("SVG drew two labels with one value, want an error")
	}
}

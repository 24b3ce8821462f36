package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"example.com/radix-tutorial/tools/internal/bench"
)

// proxiedSuffix marks a row that is another row's server behind
// oauth2-proxy.
const proxiedSuffix = " via oauth2-proxy"

func (b *runner) report(targets []target, results map[string][]sample, args []string) (string, error) {
	summary := func(name string, field func(sample) float64) bench.Spread {
		var values []float64
		for _, s := range results[name] {
			values = append(values, field(s))
		}
		return bench.Summarize(values)
	}
	perSecond := func(s sample) float64 { return s.perSecond }
	peak := func(s sample) float64 { return s.peak }
	_, haveBaseline := results[baselineName]
	ratio := func(name string, field func(sample) float64) string {
		if !haveBaseline {
			return "n/a"
		}
		return bench.Ratio(summary(name, field).Median, summary(baselineName, field).Median)
	}

	load := bench.Table{Header: []string{"Server", "Requests/s", "÷ net/http", "p50 latency", "p99 latency", "CPU per request"}}
	footprint := bench.Table{Header: []string{"Server", "Memory idle", "Memory under load (peak)", "÷ net/http", "Start-up", "Binary", "Image"}}
	notes := b.skipped
	for _, t := range targets {
		load.Rows = append(load.Rows, []string{
			t.name,
			bench.FormatSpread(summary(t.name, perSecond), bench.Count),
			ratio(t.name, perSecond),
			bench.FormatSpread(summary(t.name, func(s sample) float64 { return s.p50 }), bench.Millis),
			bench.FormatSpread(summary(t.name, func(s sample) float64 { return s.p99 }), bench.Millis),
			bench.FormatSpread(summary(t.name, func(s sample) float64 { return s.cpuPerRequest }), bench.Micros),
		})
		footprint.Rows = append(footprint.Rows, []string{
			t.name,
			bench.FormatSpread(summary(t.name, func(s sample) float64 { return s.idle }), bench.MiB),
			bench.FormatSpread(summary(t.name, peak), bench.MiB),
			ratio(t.name, peak),
			bench.FormatSpread(summary(t.name, func(s sample) float64 { return s.startup }), bench.Millis),
			t.binary,
			t.image,
		})
		if t.note != "" {
			notes = append(notes, t.note)
		}
		var failures int
		var first string
		for _, s := range results[t.name] {
			failures += s.failures
			if first == "" {
				first = s.firstFail
			}
		}
		if failures > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d requests failed over all rounds, the first with: %s.", t.name, failures, first))
		}
	}
	loadMD, err := load.Markdown()
	if err != nil {
		return "", err
	}
	footprintMD, err := footprint.Markdown()
	if err != nil {
		return "", err
	}

	var w strings.Builder
	o := b.opts
	fmt.Fprintf(&w, "Measured on %s with `%s`.\n\n", time.Now().UTC().Format("2006-01-02 at 15:04 MST"), commandLine(args))
	fmt.Fprintf(&w, "Machine: %s, %d CPUs, Linux %s, %s %s/%s.\n", cpuModel(), runtime.NumCPU(), kernel(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&w, "Load: %d keep-alive connections for %v per round from a Go client on the same machine", o.connections, o.duration)
	if o.pin {
		fmt.Fprintf(&w, "; the servers are pinned to CPU %s and the client to CPU %s", serverCPU(), clientCPUs())
	} else {
		fmt.Fprint(&w, ", sharing the CPUs with the servers")
	}
	fmt.Fprint(&w, ". Server output goes to /dev/null.\n")
	rounds := fmt.Sprintf("%d rounds", o.rounds)
	if o.rounds == 1 {
		rounds = "1 round"
	}
	fmt.Fprintf(&w, "Each figure is the median of %s, with the lowest and highest round in brackets; ÷ net/http divides medians.\n\n", rounds)
	w.WriteString(loadMD + "\n" + footprintMD)
	if hop := b.hop(targets, results, summary); hop != "" {
		w.WriteString("\n" + hop)
	}
	if b.baseImage != "" {
		notes = append(notes, "Images: built from the root Dockerfile with podman, on local stand-ins of its base images; "+
			"the stand-in distroless image is "+b.baseImage+", about 2 MB smaller than the real one, "+
			"which has time zone data, so on Radix each image is about 2 MB larger.")
	}
	var busy []float64
	for _, t := range targets {
		for _, s := range results[t.name] {
			busy = append(busy, s.clientBusy)
		}
	}
	b2 := bench.Summarize(busy)
	notes = append(notes, fmt.Sprintf("The load generator kept %.0f%% of its CPU time busy (%.0f–%.0f%% over all loads): "+
		"where that is near 100%%, requests/s is bounded by the client as much as by the server, "+
		"and CPU per request, the server's own cost, is the fairer comparison.", 100*b2.Median, 100*b2.Min, 100*b2.Max))
	if len(notes) > 0 {
		w.WriteString("\n")
		for _, n := range notes {
			w.WriteString("- " + n + "\n")
		}
	}
	return w.String(), nil
}

// hop compares each row behind oauth2-proxy with the same server reached
// directly: what the proxy adds to every request.
func (b *runner) hop(targets []target, results map[string][]sample, summary func(string, func(sample) float64) bench.Spread) string {
	var w strings.Builder
	for _, t := range targets {
		direct, ok := strings.CutSuffix(t.name, proxiedSuffix)
		if !ok || results[direct] == nil {
			continue
		}
		med := func(name string, field func(sample) float64) float64 { return summary(name, field).Median }
		rps := func(s sample) float64 { return s.perSecond }
		p50 := func(s sample) float64 { return s.p50 }
		cpu := func(s sample) float64 { return s.cpuPerRequest }
		fmt.Fprintf(&w, "The proxy hop (%s, medians): %s requests/s through oauth2-proxy against %s direct (%s); "+
			"p50 latency %s against %s; CPU per request %s for proxy and server together against %s for the server alone, "+
			"so the hop costs about %s of CPU per request.\n",
			direct,
			bench.Count(med(t.name, rps)), bench.Count(med(direct, rps)), bench.Ratio(med(t.name, rps), med(direct, rps)),
			bench.Millis(med(t.name, p50)), bench.Millis(med(direct, p50)),
			bench.Micros(med(t.name, cpu)), bench.Micros(med(direct, cpu)),
			bench.Micros(med(t.name, cpu)-med(direct, cpu)))
	}
	return w.String()
}

// commandLine is the command that produced the report, as a reader would
// type it from the repository root.
func commandLine(args []string) string {
	return strings.Join(append([]string{"go run ./tools/cmd/bench"}, args...), " ")
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if key, value, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown CPU"
}

func kernel() string {
	data, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "(unknown kernel)"
	}
	return strings.TrimSpace(string(data))
}

// chart draws the medians that matter most for the resources: the work per
// request and the memory.
func chart(targets []target, results map[string][]sample) ([]byte, error) {
	median := func(name string, field func(sample) float64) float64 {
		var values []float64
		for _, s := range results[name] {
			values = append(values, field(s))
		}
		return bench.Summarize(values).Median
	}
	panels := []bench.Panel{
		{Title: "Requests per second (more is better)", Format: bench.Count},
		{Title: "CPU time per request (less is better)", Format: bench.Micros},
		{Title: "Memory under load, peak (less is better)", Format: bench.MiB},
	}
	fields := []func(sample) float64{
		func(s sample) float64 { return s.perSecond },
		func(s sample) float64 { return s.cpuPerRequest },
		func(s sample) float64 { return s.peak },
	}
	for i := range panels {
		for _, t := range targets {
			panels[i].Labels = append(panels[i].Labels, t.name)
			panels[i].Values = append(panels[i].Values, median(t.name, fields[i]))
		}
	}
	return bench.SVG(panels...)
}

// Command bench measures each step's server on this machine, next to a bare
// net/http server doing the same work and the original tutorial's Flask
// server, and prints the results as Markdown tables:
//
//	go run ./tools/cmd/bench
//
// For every server and round it starts a freshly built binary, times it to
// its first answer, reads its memory idle, puts it under a fixed load on
// loopback and reads its memory and CPU time again. docs/performance.md
// shows a run and explains the figures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"example.com/radix-tutorial/tools/internal/repo"
)

type options struct {
	rounds      int
	duration    time.Duration
	connections int
	only        []string
	pin         bool
	images      bool
	out         string
	svg         string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var only string
	_, tasksetErr := exec.LookPath("taskset")
	_, podmanErr := exec.LookPath("podman")
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.rounds, "rounds", 5, "rounds; each starts every server afresh and loads it once")
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "how long each load lasts")
	fs.IntVar(&o.connections, "connections", 32, "concurrent keep-alive connections of each load")
	fs.StringVar(&only, "only", "", "comma-separated rows to run, e.g. net/http,02-radix (default: all)")
	fs.BoolVar(&o.pin, "pin", tasksetErr == nil, "pin the servers to the last CPU and the load generator to the others (needs taskset and 2+ CPUs)")
	fs.BoolVar(&o.images, "images", podmanErr == nil, "build each step's container image with podman to measure its size")
	fs.StringVar(&o.out, "o", "", "also write the report to this file")
	fs.StringVar(&o.svg, "svg", "", "also draw the medians as bar charts into this SVG file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.rounds < 1 || o.connections < 1 || o.duration <= 0 {
		return o, errors.New("-rounds, -connections and -duration must be positive")
	}
	if only != "" {
		o.only = strings.Split(only, ",")
	}
	if o.pin && runtime.NumCPU() < 2 {
		return o, errors.New("-pin needs at least 2 CPUs")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	root, err := repo.Root()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	b := &runner{opts: o, root: root, tmp: tmp, log: stderr}
	targets, err := b.targets(ctx)
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		return fmt.Errorf("-only %q matches no row", strings.Join(o.only, ","))
	}
	if o.pin {
		if err := pinSelf(); err != nil {
			return err
		}
	}
	results, err := b.measure(ctx, targets)
	if err != nil {
		return err
	}
	report, err := b.report(targets, results, args)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, report)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil {
			return err
		}
	}
	if o.svg != "" {
		svg, err := chart(targets, results)
		if err != nil {
			return err
		}
		return os.WriteFile(o.svg, svg, 0o644)
	}
	return nil
}

// pinSelf moves this process, every thread of it, to CPU 0, and the servers
// get the last CPU, so that the load generator and the server do not take
// turns on the same core, which would blur each one's cost.
func pinSelf() error {
	out, err := exec.Command("taskset", "-a", "-p", "-c", clientCPUs(), strconv.Itoa(os.Getpid())).CombinedOutput()
	if err != nil {
		return fmt.Errorf("taskset: %v: %s", err, out)
	}
	runtime.GOMAXPROCS(max(runtime.NumCPU()-1, 1))
	return nil
}

// serverCPU is the CPU the servers are pinned to.
func serverCPU() string { return strconv.Itoa(runtime.NumCPU() - 1) }

// clientCPUs are the CPUs the load generator is pinned to: all the others.
func clientCPUs() string {
	if n := runtime.NumCPU(); n > 2 {
		return "0-" + strconv.Itoa(n-2)
	}
	return "0"
}

type runner struct {
	opts options
	root string
	tmp  string
	log  io.Writer

	podman    []string // environment for podman, once prepared
	podmanErr error    // why podman cannot build images here
	baseImage string   // size of the stand-in distroless base image
	skipped   []string // rows left out, and why
}

func (b *runner) logf(format string, args ...any) {
	fmt.Fprintf(b.log, format+"\n", args...)
}

// wanted says whether the -only flag selects the named row.
func (b *runner) wanted(name string) bool {
	if len(b.opts.only) == 0 {
		return true
	}
	for _, o := range b.opts.only {
		if strings.TrimSpace(o) == name {
			return true
		}
	}
	return false
}

// build compiles the main package in dir as the Dockerfile does, outside
// the workspace and with the same flags, and returns the binary's path.
func (b *runner) build(ctx context.Context, dir, pkg, name string) (string, error) {
	bin := filepath.Join(b.tmp, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s in %s: %v\n%s", pkg, dir, err, out)
	}
	return bin, nil
}

package main

import (
	"context"
	_ "embed"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"example.com/radix-tutorial/tools/internal/repo"
	"example.com/radix-tutorial/tools/internal/signin"
)

// target is one row of the report: a server and how to start it.
type target struct {
	name   string
	start  func(ctx context.Context) (*instance, error)
	binary string // size of the binary, or why there is none
	image  string // size of the container image, or why there is none
	note   string // printed under the tables
}

// instance is a started target.
type instance struct {
	url     string
	header  map[string]string
	startup time.Duration // from starting the process to its first 200 OK
	main    *process      // the process whose memory the row reports
	all     []*process    // every process that serves the request: their CPU time counts
	stop    func() error
}

// baselineName is the row every ratio divides by.
const baselineName = "net/http"

// fixedAddr holds the steps that take no LISTEN_ADDR: step 1 always
// serves on localhost:5000.
var fixedAddr = map[string]string{"01-local": "localhost:5000"}

// identity is what oauth2-proxy adds to each request it lets through; the
// direct 03-auth-proxy row sends it itself, as if the proxy were there.
var identity = map[string]string{
	"X-Forwarded-User":               "user-0001",
	"X-Forwarded-Email":              "ada.lovelace@example.com",
	"X-Forwarded-Preferred-Username": "ada",
}

//go:embed flask/hello.py
var flaskApp []byte

// python is the Debian interpreter that python3-flask installs Flask for;
// a python3 found first on PATH may be another installation without it.
const python = "/usr/bin/python3"

func (b *runner) targets(ctx context.Context) ([]target, error) {
	var targets []target
	if b.wanted(baselineName) {
		bin, err := b.build(ctx, filepath.Join(b.root, "tools"), "./cmd/bench/baseline", "baseline")
		if err != nil {
			return nil, err
		}
		t := b.binaryTarget(baselineName, bin, nil)
		t.image = "n/a (not a step)"
		targets = append(targets, t)
	}

	steps, err := repo.Steps(b.root)
	if err != nil {
		return nil, err
	}
	for _, step := range steps {
		if !b.wanted(step) {
			continue
		}
		b.logf("building %s", step)
		bin, err := b.build(ctx, filepath.Join(b.root, "steps", step), ".", step)
		if err != nil {
			return nil, err
		}
		var header map[string]string
		if step == "03-auth-proxy" {
			header = identity
		}
		t := b.binaryTarget(step, bin, header)
		if addr, ok := fixedAddr[step]; ok {
			if err := b.waitPortFree(ctx, addr); err != nil {
				return nil, fmt.Errorf("%s always serves on %s, which is taken (%v): stop what runs there", step, addr, err)
			}
		}
		t.image = b.imageSize(ctx, step)
		targets = append(targets, t)
	}

	if b.wanted(proxiedStep + proxiedSuffix) {
		t, err := b.proxyTarget(ctx)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
	}

	if b.wanted("Flask") {
		t, err := b.flaskTarget(ctx)
		if err != nil {
			b.logf("skipping the Flask row: %v", err)
			b.skipped = append(b.skipped, "Flask: skipped, because "+err.Error()+".")
		} else {
			targets = append(targets, t)
		}
	}
	return targets, nil
}

// binaryTarget is a Go server built by the benchmark.
func (b *runner) binaryTarget(name, bin string, header map[string]string) target {
	t := target{name: name, binary: "?"}
	if fi, err := os.Stat(bin); err == nil {
		t.binary = mib(fi.Size())
	}
	t.start = func(ctx context.Context) (*instance, error) {
		addr, env := fixedAddr[name], []string(nil)
		if addr != "" {
			if err := b.waitPortFree(ctx, addr); err != nil {
				return nil, fmt.Errorf("%s always serves on %s, which is taken (%v): stop what runs there", name, addr, err)
			}
		} else {
			var err error
			if addr, err = signin.FreeAddr(); err != nil {
				return nil, err
			}
			env = []string{"LISTEN_ADDR=" + addr}
		}
		return b.startOne(ctx, name, []string{bin}, env, "http://"+addr+"/", header)
	}
	return t
}

// startOne starts a single-process server and waits for its first answer.
func (b *runner) startOne(ctx context.Context, name string, argv, env []string, url string, header map[string]string) (*instance, error) {
	start := time.Now()
	p, err := spawn(name, argv, append(os.Environ(), env...), b.opts.pin)
	if err != nil {
		return nil, err
	}
	startup, err := waitReady(ctx, start, url, header, p)
	if err == nil && p.hasExited() {
		// Something else answered in its place, on a port it could not get.
		err = fmt.Errorf("%s exited (%v), and something else answered on %s", name, p.err, url)
	}
	if err != nil {
		p.stop()
		return nil, err
	}
	return &instance{url: url, header: header, startup: startup, main: p, all: []*process{p}, stop: p.stop}, nil
}

// flaskTarget is the original tutorial's server, where Flask is installed.
func (b *runner) flaskTarget(ctx context.Context) (target, error) {
	out, err := exec.CommandContext(ctx, python, "-c",
		`import flask, importlib.metadata as m, platform; print("Python", platform.python_version(), "and Flask", m.version("flask"))`).CombinedOutput()
	if err != nil {
		return target{}, fmt.Errorf("%s cannot import flask (%v: %s); on Debian: apt-get install python3-flask", python, err, strings.TrimSpace(string(out)))
	}
	app := filepath.Join(b.tmp, "hello.py")
	if err := os.WriteFile(app, flaskApp, 0o644); err != nil {
		return target{}, err
	}
	t := target{
		name:   "Flask",
		binary: "n/a (Python)",
		image:  "n/a (not built)",
		note:   "Flask: the original tutorial's hello world on Flask's development server, " + strings.TrimSpace(string(out)) + ".",
	}
	t.start = func(ctx context.Context) (*instance, error) {
		addr, err := signin.FreeAddr()
		if err != nil {
			return nil, err
		}
		_, port, _ := net.SplitHostPort(addr)
		// -B: write no .pyc files next to the script.
		return b.startOne(ctx, "Flask", []string{python, "-B", app}, []string{"PORT=" + port}, "http://"+addr+"/", nil)
	}
	return t, nil
}

// waitPortFree waits up to portWait for addr to be free, for a server that
// cannot be given another address.
func (b *runner) waitPortFree(ctx context.Context, addr string) error {
	deadline := time.Now().Add(portWait)
	for {
		err := portFree(addr)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		b.logf("waiting for %s to be free", addr)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// portWait is how long the benchmark waits for a fixed port to be freed
// by whatever else uses it.
const portWait = time.Minute

// portFree checks that nothing listens on addr.
func portFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return ln.Close()
}

func mib(bytes int64) string {
	return fmt.Sprintf("%.1f MiB", float64(bytes)/(1<<20))
}

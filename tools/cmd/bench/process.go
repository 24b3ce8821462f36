package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"syscall"
	"time"
)

// process is a server the benchmark started. Its output goes to /dev/null,
// the same for every server: the step servers log each request as a JSON
// line, and writing to /dev/null keeps the cost of that write (one system
// call per request) in their figures without a terminal or pipe behind it.
type process struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // how it exited, valid once exited is closed
}

// spawn starts argv with the environment env, pinned to the server CPU
// when pin is set.
func spawn(name string, argv, env []string, pin bool) (*process, error) {
	if pin {
		// taskset sets the CPU and then executes the server in its own
		// process, so the PID stays the server's.
		argv = append([]string{"taskset", "-c", serverCPU()}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = nil, nil // os/exec connects nil to /dev/null
	// A process group of its own, so that Ctrl-C on the benchmark is not
	// also delivered to the server, which is stopped in order instead.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// hasExited reports whether the process has exited; p.err says how.
func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, as Kubernetes does, and waits for the process to
// exit, killing it after 10 seconds. A process that had already exited
// before it was asked to is an error: it crashed.
func (p *process) stop() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited by itself: %v", p.name, p.err)
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("%s did not stop within 10 s of SIGTERM and was killed", p.name)
	}
}

// readyTimeout is how long a server may take to answer its first request:
// generous, because a busy machine can be slow, and waiting costs nothing
// when it is not.
const readyTimeout = 30 * time.Second

// waitReady polls url every millisecond until it answers 200 OK, and
// returns how long that took since start. It gives up when any of procs
// exits or after readyTimeout.
func waitReady(ctx context.Context, start time.Time, url string, header map[string]string, procs ...*process) (time.Duration, error) {
	client := &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true},
		Timeout:       time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	lastErr := errors.New("no answer")
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
			lastErr = fmt.Errorf("GET %s: %s", url, resp.Status)
		} else {
			lastErr = err
		}
		for _, p := range procs {
			select {
			case <-p.exited:
				return 0, fmt.Errorf("%s exited before answering (%v); run it by hand to see its output", p.name, p.err)
			default:
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("no 200 OK from %s within %v: %v", url, readyTimeout, lastErr)
		case <-time.After(time.Millisecond):
		}
	}
}

package signin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"sync"
	"time"
)

// stopTimeout bounds how long a process may take to exit after SIGTERM
// before its whole group is killed.
const stopTimeout = 15 * time.Second

// readyTimeout bounds how long a process may take to answer its first
// request; generous, because a busy machine can be slow.
const readyTimeout = 60 * time.Second

// Process is a program started in a process group of its own, so that
// stopping it also stops anything it started, and a Ctrl-C in the terminal
// reaches only the parent, which then stops it in order.
type Process struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done is closed
}

// start runs cmd, with its output prefixed by name and written to log.
func start(name string, cmd *exec.Cmd, log io.Writer) (*Process, error) {
	out := &prefixWriter{w: log, prefix: "[" + name + "] "}
	cmd.Stdout, cmd.Stderr = out, out
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		out.flush()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id, which is also its process group id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Stop sends SIGTERM to the process group, as Kubernetes does, and waits
// for it to exit; after stopTimeout it kills the group. It returns the
// process's error, or nil when it exited cleanly.
func (p *Process) Stop() error {
	select {
	case <-p.done:
		return p.exitError()
	default:
	}
	terminateGroup(p.Pid())
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		killGroup(p.Pid())
		<-p.done
		return fmt.Errorf("%s did not stop within %s of SIGTERM and was killed", p.Name, stopTimeout)
	}
	return p.exitError()
}

func (p *Process) exitError() error {
	if p.err != nil {
		return fmt.Errorf("%s: %w", p.Name, p.err)
	}
	return nil
}

// waitReady polls url until it answers 200, the process exits, or
// readyTimeout passes.
func (p *Process) waitReady(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready: %v", p.Name, p.err)
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer %s: %w", p.Name, url, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// prefixWriter writes each whole line with a prefix, so that the output of
// several processes stays readable when it is interleaved.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (pw *prefixWriter) Write(b []byte) (int, error) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	pw.buf = append(pw.buf, b...)
	for {
		i := bytes.IndexByte(pw.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		pw.writeLine(pw.buf[:i+1])
		pw.buf = pw.buf[i+1:]
	}
}

func (pw *prefixWriter) flush() {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if len(pw.buf) > 0 {
		pw.writeLine(append(pw.buf, '\n'))
		pw.buf = nil
	}
}

func (pw *prefixWriter) writeLine(line []byte) {
	// A failing log must not stop the process it logs for.
	_, _ = io.WriteString(pw.w, pw.prefix+string(line))
}

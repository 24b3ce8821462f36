package docs

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"example.com/radix-tutorial/tools/internal/docsync"
	"example.com/radix-tutorial/tools/internal/need"
	"example.com/radix-tutorial/tools/internal/portlock"
	"example.com/radix-tutorial/tools/internal/syncbuf"
)

const (
	// blockTimeout bounds one console or sh block; image builds are the
	// slowest commands in the docs.
	blockTimeout = 8 * time.Minute
	// serveStartTimeout covers a cold go run, which compiles first, and
	// step 3's build of oauth2-proxy.
	serveStartTimeout = 3 * time.Minute
	// portFreeTimeout is how long a serve block waits for its port to be
	// free before it fails.
	portFreeTimeout = 30 * time.Second
	// serveStopTimeout is how long a server may take to exit after Ctrl-C.
	serveStopTimeout = 15 * time.Second
)

// TestCommandsInDocs runs the commands of every page as a reader would, in
// the order the page shows them, and compares their output with the page.
// Each page runs in its own copy of the repository, so that a command that
// changes files (deploystep) cannot change the working tree.
func TestCommandsInDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short mode: runs every command in the docs")
	}
	for _, page := range pages(t) {
		t.Run(page, func(t *testing.T) {
			blocks := parse(t, page)
			if !hasRunnable(blocks) {
				return
			}
			r := &runner{t: t, page: page, dir: copyRepo(t), env: append(os.Environ(), terminalEnv(t)...)}
			for _, prog := range []string{"bash", "curl", "podman"} {
				if usesProgram(blocks, prog) {
					need.Command(t, prog, "apt-get install "+prog)
				}
			}
			if usesProgram(blocks, "podman") {
				r.env = append(r.env, podmanEnv(t)...)
			}
			// Other test packages, running at the same time, use port 5000
			// too: step 1 cannot listen anywhere else.
			portlock.Hold(t)
			defer r.stopServer()
			for _, b := range blocks {
				if !docsync.Runnable(b.Lang) || b.Marker == docsync.NotRun {
					continue
				}
				switch {
				case b.Marker == docsync.Serve:
					r.stopServer()
					r.startServer(b)
				case b.Lang == "console":
					r.console(b)
				default:
					r.script(b)
				}
				if t.Failed() {
					return // later commands depend on this one
				}
			}
		})
	}
}

func hasRunnable(blocks []docsync.Block) bool {
	for _, b := range blocks {
		if docsync.Runnable(b.Lang) && b.Marker != docsync.NotRun {
			return true
		}
	}
	return false
}

// usesProgram reports whether a command that the tests run calls prog.
func usesProgram(blocks []docsync.Block, prog string) bool {
	word := regexp.MustCompile(`(^|[\s;&|(])` + regexp.QuoteMeta(prog) + `(\s|$)`)
	for _, b := range blocks {
		if docsync.Runnable(b.Lang) && b.Marker != docsync.NotRun && word.MatchString(b.Body) {
			return true
		}
	}
	return false
}

// terminalEnv makes commands print what they print in a terminal, where
// the reader runs them: curl shows a progress meter only when its output
// is not a terminal, as it is not here.
func terminalEnv(t *testing.T) []string {
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".curlrc"), []byte("no-progress-meter\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"CURL_HOME=" + home}
}

// copyRepo copies the working tree, without .git, to a fresh folder.
func copyRepo(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel == ".git" {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case info.Mode().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("copying the repository: %v", err)
	}
	return dst
}

// runner runs the commands of one page in dir.
type runner struct {
	t    *testing.T
	page string
	dir  string
	env  []string

	server *server
}

// where names a block for messages.
func (r *runner) where(b docsync.Block) string {
	return fmt.Sprintf("%s:%d", r.page, b.Line)
}

// bash starts a script in its own process group, with stdout and stderr
// together, as a terminal shows them.
func (r *runner) bash(script string, out *syncbuf.Buffer) *exec.Cmd {
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = r.dir
	cmd.Env = r.env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A background job that keeps the output open must not keep Wait
	// waiting once the command itself has ended.
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// runScript runs a script to its end, then kills whatever it left running
// in the background.
func (r *runner) runScript(script string) (string, error) {
	var out syncbuf.Buffer
	cmd := r.bash(script, &out)
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(blockTimeout):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		err = fmt.Errorf("still running after %v", blockTimeout)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil // the script succeeded; a job it left running held the output
	}
	return out.String(), err
}

// endMark follows each command's output in a console block, with the
// command's exit status.
const endMark = "@@docs-command-end@@"

// console runs the $ lines of a console block in one bash, as a reader
// types them into one terminal, and checks each one's output.
func (r *runner) console(b docsync.Block) {
	t := r.t
	steps, err := parseConsole(b.Body)
	if err != nil {
		t.Errorf("%s: %v", r.where(b), err)
		return
	}
	var script strings.Builder
	for _, s := range steps {
		script.WriteString(s.command + "\n")
		fmt.Fprintf(&script, "printf '\\n%s %%d\\n' \"$?\"\n", endMark)
	}
	out, runErr := r.runScript(script.String())
	parts := strings.Split(out, endMark+" ")
	for i, s := range steps {
		if i+1 >= len(parts) {
			t.Errorf("%s: `%s` did not finish (%v); output:\n%s", r.where(b), s.command, runErr, parts[len(parts)-1])
			return
		}
		got := parts[i]
		if i > 0 {
			// Drop the exit status and newline that end the previous mark.
			_, got, _ = strings.Cut(got, "\n")
		}
		status, _, _ := strings.Cut(parts[i+1], "\n")
		if status != "0" {
			t.Errorf("%s: `%s` exited with status %s; output:\n%s", r.where(b), s.command, status, got)
			return
		}
		if !matchLines(s.want, lines(got)) {
			t.Errorf("%s: `%s` printed\n%s\nwant (as the page shows)\n%s",
				r.where(b), s.command, indent(lines(got)), indent(s.want))
			return
		}
	}
}

// script runs a plain sh block; every command in it must succeed.
func (r *runner) script(b docsync.Block) {
	out, err := r.runScript("set -e\n" + b.Body)
	if err != nil {
		r.t.Errorf("%s: the commands failed (%v):\n%s\noutput:\n%s", r.where(b), err, b.Body, out)
	}
}

type consoleStep struct {
	command string
	want    []string
}

// parseConsole splits a console block into commands and their expected
// output. A command line starts with "$ "; a line ending in a backslash
// continues on the next.
func parseConsole(body string) ([]consoleStep, error) {
	var steps []consoleStep
	all := lines(body)
	for i := 0; i < len(all); i++ {
		line := all[i]
		if cmd, ok := strings.CutPrefix(line, "$ "); ok {
			for strings.HasSuffix(cmd, "\\") && i+1 < len(all) {
				i++
				cmd += "\n" + strings.TrimPrefix(all[i], "> ")
			}
			steps = append(steps, consoleStep{command: cmd})
			continue
		}
		if len(steps) == 0 {
			return nil, fmt.Errorf("a console block must start with a `$ command` line, not %q", line)
		}
		last := &steps[len(steps)-1]
		last.want = append(last.want, line)
	}
	if len(steps) == 0 {
		return nil, errors.New("a console block without `$ command` lines")
	}
	for i := range steps {
		steps[i].want = trimBlank(steps[i].want)
	}
	return steps, nil
}

// lines splits text into lines without trailing whitespace or trailing
// blank lines.
func lines(text string) []string {
	ls := strings.Split(text, "\n")
	for i, l := range ls {
		ls[i] = strings.TrimRight(l, " \t\r")
	}
	return trimBlank(ls)
}

func trimBlank(ls []string) []string {
	for len(ls) > 0 && ls[len(ls)-1] == "" {
		ls = ls[:len(ls)-1]
	}
	for len(ls) > 0 && ls[0] == "" {
		ls = ls[1:]
	}
	return ls
}

// matchLines matches output against the expected lines. A line "..."
// matches any number of lines; "..." inside a line matches any text there,
// for values such as timings that change from run to run.
func matchLines(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if want[0] == "..." {
		for i := 0; i <= len(got); i++ {
			if matchLines(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && matchLine(want[0], got[0]) && matchLines(want[1:], got[1:])
}

func matchLine(want, got string) bool {
	if !strings.Contains(want, "...") {
		return want == got
	}
	parts := strings.Split(want, "...")
	pattern := make([]string, len(parts))
	for i, p := range parts {
		pattern[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(pattern, ".*") + "$").MatchString(got)
}

func indent(ls []string) string {
	if len(ls) == 0 {
		return "\t(nothing)"
	}
	return "\t" + strings.Join(ls, "\n\t")
}

// server is a long-running command from a serve block.
type server struct {
	block docsync.Block
	cmd   *exec.Cmd
	out   *syncbuf.Buffer
	done  chan error
}

// startServer starts a serve block's command in the background and waits
// until its port accepts connections.
func (r *runner) startServer(b docsync.Block) {
	t := r.t
	port := b.Port()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// A server that another test stopped just before may take a moment
	// to let go of the port; anything longer is a real conflict.
	for deadline := time.Now().Add(portFreeTimeout); portBusy(port) && time.Now().Before(deadline); {
		time.Sleep(250 * time.Millisecond)
	}
	if portBusy(port) {
		t.Errorf("%s: port %d is in use before `%s` starts; stop whatever listens there (ss -ltnp 'sport = :%d') and run the tests again",
			r.where(b), port, strings.TrimSpace(b.Body), port)
		return
	}
	s := &server{block: b, out: &syncbuf.Buffer{}, done: make(chan error, 1)}
	s.cmd = r.bash(b.Body, s.out)
	if err := s.cmd.Start(); err != nil {
		t.Errorf("%s: %v", r.where(b), err)
		return
	}
	go func() { s.done <- s.cmd.Wait() }()
	r.server = s

	deadline := time.Now().Add(serveStartTimeout)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		select {
		case err := <-s.done:
			s.done <- err
			t.Errorf("%s: `%s` exited (%v) before %s accepted connections; output:\n%s",
				r.where(b), strings.TrimSpace(b.Body), err, addr, s.out)
			return
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: `%s` did not accept connections on %s within %v; output:\n%s",
				r.where(b), strings.TrimSpace(b.Body), addr, serveStartTimeout, s.out)
			return
		}
	}
}

// stopServer sends Ctrl-C's SIGINT to the running server, if any, and
// checks that it exits cleanly and frees its port.
func (r *runner) stopServer() {
	s := r.server
	if s == nil {
		return
	}
	r.server = nil
	t := r.t
	pgid := s.cmd.Process.Pid
	defer syscall.Kill(-pgid, syscall.SIGKILL) // anything it left behind
	command := strings.TrimSpace(s.block.Body)

	// A server that is gone already has failed, even if something else
	// answered on its port in the meantime.
	select {
	case err := <-s.done:
		t.Errorf("%s: `%s` exited (%v) before it was stopped; output:\n%s", r.where(s.block), command, err, s.out)
		return
	default:
	}
	syscall.Kill(-pgid, syscall.SIGINT)

	var err error
	select {
	case err = <-s.done:
	case <-time.After(serveStopTimeout):
		t.Errorf("%s: `%s` was still running %v after Ctrl-C (SIGINT); output:\n%s",
			r.where(s.block), command, serveStopTimeout, s.out)
		return
	}
	t.Logf("%s: `%s` stopped (%v) after printing:\n%s", r.where(s.block), command, err, s.out)
	if !stoppedByInterrupt(command, err, s.out.String()) {
		t.Errorf("%s: `%s` did not exit cleanly after Ctrl-C (SIGINT): %v; output:\n%s",
			r.where(s.block), command, err, s.out)
	}
	port := s.block.Port()
	for deadline := time.Now().Add(serveStopTimeout); portBusy(port); {
		if time.Now().After(deadline) {
			t.Errorf("%s: port %d still accepts connections after `%s` exited: a child process was left running",
				r.where(s.block), port, command)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stoppedByInterrupt reports whether a server's exit is what Ctrl-C should
// bring: a clean exit, or, for a program that does not handle SIGINT, its
// death by that signal.
//
// go run needs care: once it has received SIGINT it exits with status 1
// even when the program it runs exits cleanly. It reports the program's own
// failure on its last line, "exit status N", so that line tells them apart.
func stoppedByInterrupt(command string, err error, output string) bool {
	if err == nil {
		return true
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return false
	}
	status, ok := exit.Sys().(syscall.WaitStatus)
	switch {
	case ok && status.Signaled() && status.Signal() == syscall.SIGINT:
		return true
	case exit.ExitCode() == 130: // a shell's report of death by SIGINT
		return true
	case exit.ExitCode() == 1 && goRunRE.MatchString(command):
		out := lines(output)
		return len(out) == 0 || !programFailedRE.MatchString(out[len(out)-1])
	}
	return false
}

var (
	goRunRE         = regexp.MustCompile(`(^|\s)go (run|tool) `)
	programFailedRE = regexp.MustCompile(`^exit status \d+$`)
)

// portBusy reports whether something listens on port on the loopback
// interface or on all interfaces.
func portBusy(port int) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		return true
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return true
	}
	ln.Close()
	return false
}

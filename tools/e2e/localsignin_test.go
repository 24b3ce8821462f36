package e2e

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"example.com/radix-tutorial/tools/internal/repo"
	"example.com/radix-tutorial/tools/internal/signin"
	"example.com/radix-tutorial/tools/internal/syncbuf"
)

// localSignIn prepares the command a learner types, go run
// ./tools/cmd/localsignin, with the given ports, in its own process group
// like a job in a terminal.
func localSignIn(t *testing.T, out *syncbuf.Buffer, proxy, server, provider string) *exec.Cmd {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", "./tools/cmd/localsignin",
		"-proxy-port", port(t, proxy), "-server-port", port(t, server), "-provider-port", port(t, provider))
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

func TestLocalSignInRunsAndStopsOnCtrlC(t *testing.T) {
	if _, err := binaries(); err != nil { // builds oauth2-proxy, if need be, under its own deadline
		t.Fatal(err)
	}
	proxy, server, provider := freeAddr(t), freeAddr(t), freeAddr(t)
	var out syncbuf.Buffer
	cmd := localSignIn(t, &out, proxy, server, provider)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var started []int
	t.Cleanup(func() { // only if the test failed half-way
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		for _, pid := range started {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	// The command says so once everything is ready. Watching the port
	// instead could be fooled by another program that took it first.
	url := "http://" + proxy + "/"
	waitFor(t, 3*time.Minute, func() bool { return strings.Contains(out.String(), "Press Ctrl-C to stop.") }, exited, &out)
	c, err := signin.SignIn(t.Context(), url)
	if err != nil {
		t.Fatalf("%v\noutput:\n%s", err, out.String())
	}
	_, page := get(t, c, url, nil)
	assertShows(t, page, signin.Ada)

	started = descendants(cmd.Process.Pid)
	names := map[string]bool{}
	for _, pid := range started {
		names[program(pid)] = true
	}
	if !names["oauth2-proxy"] || !names[signin.DefaultStep+"-server"] {
		t.Errorf("processes started by the command: %v; want oauth2-proxy and the step server among them", names)
	}
	for _, want := range []string{"Open " + url, "signed in as " + signin.Ada.PreferredUsername, "offline_access"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output does not say %q:\n%s", want, out.String())
		}
	}

	// Ctrl-C in a terminal sends SIGINT to the whole foreground job.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		// go run itself exits with status 1 once interrupted, whatever the
		// program does; it prints "exit status N" when the program failed.
		if o := out.String(); !strings.Contains(o, "Stopping...") || strings.Contains(o, "localsignin: ") || strings.Contains(o, "\nexit status ") {
			t.Errorf("after Ctrl-C the command did not stop cleanly\noutput:\n%s", out.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("the command did not exit within a minute of Ctrl-C\noutput:\n%s", out.String())
	}
	for _, pid := range started {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d (%s) is still running after the command exited", pid, program(pid))
		}
	}
	for _, addr := range []string{proxy, server, provider} {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			t.Errorf("%s still accepts connections after the command exited", addr)
		}
	}
}

func TestLocalSignInReportsAPortInUse(t *testing.T) {
	for _, taken := range []string{"proxy", "server", "provider"} {
		t.Run(taken, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			addrs := map[string]string{"proxy": freeAddr(t), "server": freeAddr(t), "provider": freeAddr(t)}
			addrs[taken] = ln.Addr().String()

			var out syncbuf.Buffer
			cmd := localSignIn(t, &out, addrs["proxy"], addrs["server"], addrs["provider"])
			cmd.WaitDelay = time.Minute
			err = cmd.Run()

			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Errorf("with the %s port in use the command ended with %v, want exit status 1", taken, err)
			}
			want := "localsignin: port " + port(t, addrs[taken]) + " is in use: "
			if !strings.Contains(out.String(), want) {
				t.Errorf("the output does not say %q:\n%s", want, out.String())
			}
		})
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := signin.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitFor polls ready until it is true, failing the test if the command
// exits first or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, ready func() bool, exited <-chan error, out *syncbuf.Buffer) {
	t.Helper()
	deadline := time.After(timeout)
	for !ready() {
		select {
		case err := <-exited:
			t.Fatalf("the command exited (%v) before it was ready\noutput:\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("the command was not ready within %s\noutput:\n%s", timeout, out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// descendants returns the ids of every process below pid, read from /proc.
func descendants(pid int) []int {
	parents := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The fields after the command name, which is in parentheses and
		// may contain spaces, are: state, ppid, ...
		i := bytes.LastIndexByte(stat, ')')
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		parents[ppid] = append(parents[ppid], child)
	}
	var all []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		all = append(all, parents[p]...)
		queue = append(queue, parents[p]...)
	}
	return all
}

// program returns the file name of the program process pid runs, or "" if
// the process is gone.
func program(pid int) string {
	exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe"))
	if err != nil {
		return ""
	}
	return filepath.Base(exe)
}

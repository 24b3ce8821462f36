// Package images builds the root Dockerfile with podman, once for every
// step that Radix can deploy and once as it stands, and runs each image as
// Radix would: with a read-only file system, as its non-root user, and
// stopped with SIGTERM.
package images

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"example.com/radix-tutorial/tools/internal/dockerfile"
	"example.com/radix-tutorial/tools/internal/freeport"
	"example.com/radix-tutorial/tools/internal/image"
	"example.com/radix-tutorial/tools/internal/repo"
)

// root is the repository root, found once for all tests.
var root = repo.MustRoot()

// home is what each step answers on / to a visitor who has not signed in.
var home = map[string]struct {
	status int
	body   string // a part of the body
}{
	"02-radix":      {http.StatusOK, "Hello, World!"},
	"03-auth-proxy": {http.StatusUnauthorized, "Not signed in"},
}

// podman runs podman from the repository root, as a learner would.
type podman struct {
	env []string
}

func newPodman(t *testing.T) podman {
	start := time.Now()
	env := image.Env(t)
	t.Logf("podman and the stand-in base images ready in %s", time.Since(start).Round(time.Millisecond))
	return podman{env: append(os.Environ(), env...)}
}

// try runs podman with args and returns its standard output; an error
// carries its standard error.
func (p podman) try(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "podman", args...)
	cmd.Dir = root
	cmd.Env = p.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("podman %s: %v\n%s%s", strings.Join(args, " "), err, tail(string(out)), stderr.String())
	}
	return string(out), nil
}

func (p podman) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := p.try(time.Minute, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// build builds the root Dockerfile, or another one, with the repository
// root as the context, tags the image and removes it when the test ends.
func (p podman) build(t *testing.T, tag string, args ...string) time.Duration {
	t.Helper()
	start := time.Now()
	// The label makes the image's id this test's own: the builds are
	// reproducible, and another program building the same step at the same
	// time, then removing its image, would otherwise remove this one.
	args = append(args, "--label", "radix-tutorial.test="+tag, "-t", tag, ".")
	// Generous: without the stand-in's build cache, a build compiles the
	// standard library and Echo.
	_, err := p.try(8*time.Minute, append([]string{"build"}, args...)...)
	took := time.Since(start)
	t.Cleanup(func() {
		if _, err := p.try(time.Minute, "rmi", tag); err != nil {
			t.Errorf("removing the test image: %v", err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return took
}

// tail keeps the end of a long build log, where the error is.
func tail(s string) string {
	const keep = 4000
	if len(s) > keep {
		return "…" + s[len(s)-keep:]
	}
	return s
}

// unique makes names of test images and containers that no other run uses.
func unique(name string) string {
	return fmt.Sprintf("radix-tutorial-test-%s-%d-%d", name, os.Getpid(), time.Now().UnixNano()%1e6)
}

// contextFile matches every file the build context may hold: the steps' Go
// sources and templates (the test excludes their tests).
var contextFile = regexp.MustCompile(`^steps/[^/]+/(go\.mod|go\.sum|[^/]+\.go|[^/]+\.html|templates/.+)$`)

func TestBuildContextHoldsOnlyStepSources(t *testing.T) {
	p := newPodman(t)
	dockerfile := filepath.Join(t.TempDir(), "Dockerfile")
	if err := os.WriteFile(dockerfile, []byte("FROM "+image.Golang+"\nCOPY . /context/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tag := "localhost/" + unique("context")
	p.build(t, tag, "--file", dockerfile)
	out := p.run(t, "run", "--rm", "--network=host", tag, "find", "/context", "-type", "f", "-exec", "stat", "-c", "%s %n", "{}", "+")

	files := map[string]bool{}
	var bytes int
	for line := range strings.Lines(strings.TrimSpace(out)) {
		size, name, _ := strings.Cut(strings.TrimSpace(line), " ")
		n, _ := strconv.Atoi(size)
		bytes += n
		name = strings.TrimPrefix(name, "/context/")
		files[name] = true
		if !contextFile.MatchString(name) || strings.HasSuffix(name, "_test.go") {
			t.Errorf("the build context holds %s; .dockerignore should keep it out", name)
		}
	}
	t.Logf("build context: %d files, %d bytes", len(files), bytes)

	steps, err := repo.DeployableSteps(root)
	if err != nil || len(steps) == 0 {
		t.Fatalf("deployable steps = %v, %v; want at least one", steps, err)
	}
	for _, step := range steps {
		want, err := filepath.Glob(filepath.Join(root, "steps", step, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		want = slices.DeleteFunc(want, func(f string) bool { return strings.HasSuffix(f, "_test.go") })
		want = append(want, filepath.Join(root, "steps", step, "go.mod"), filepath.Join(root, "steps", step, "go.sum"))
		for _, f := range want {
			if rel, _ := filepath.Rel(root, f); !files[rel] {
				t.Errorf("the build context lacks %s, which the image needs", rel)
			}
		}
	}
}

// The stand-in base images must be the ones the Dockerfile names, or the
// builds below would try to pull from a registry.
func TestDockerfileUsesTheStandIns(t *testing.T) {
	f := rootDockerfile(t)
	var got []string
	for _, stage := range f.Stages {
		got = append(got, qualified(os.Expand(stage, func(k string) string { return f.Args[k] })))
	}
	if want := []string{image.Golang, image.Distroless}; !slices.Equal(got, want) {
		t.Errorf("the Dockerfile builds FROM %v, but the stand-ins are %v: update package image", got, want)
	}
}

// qualified spells an image name in full, as podman resolves a Docker Hub
// short name.
func qualified(name string) string {
	first, _, found := strings.Cut(name, "/")
	switch {
	case !found:
		return "docker.io/library/" + name
	case !strings.ContainsAny(first, ".:") && first != "localhost":
		return "docker.io/" + name
	}
	return name
}

func rootDockerfile(t *testing.T) *dockerfile.Facts {
	t.Helper()
	f, err := dockerfile.ParseFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestImages(t *testing.T) {
	p := newPodman(t)
	f := rootDockerfile(t)
	steps, err := repo.DeployableSteps(root)
	if err != nil || len(steps) == 0 {
		t.Fatalf("deployable steps = %v, %v; want at least one", steps, err)
	}
	type build struct {
		name, step string
		args       []string
	}
	var builds []build
	for _, step := range steps {
		builds = append(builds, build{step, step, []string{"--build-arg", "STEP=" + step}})
	}
	// Last, as a learner types it; its layers come from the cache.
	builds = append(builds, build{"default", f.Args["STEP"], nil})

	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) {
			tag := "localhost/" + unique(b.name)
			took := p.build(t, tag, b.args...)
			t.Logf("STEP=%s: built in %s", b.step, took.Round(100*time.Millisecond))
			checkConfig(t, p, tag, f)
			checkContainer(t, p, tag, b.step)
		})
	}
}

// checkConfig checks what Radix reads from the image: who it runs as, its
// port and how it starts.
func checkConfig(t *testing.T, p podman, tag string, f *dockerfile.Facts) {
	var inspected []struct {
		Size   int64
		Config struct {
			User         string
			ExposedPorts map[string]struct{}
			Entrypoint   []string
		}
	}
	if err := json.Unmarshal([]byte(p.run(t, "image", "inspect", tag)), &inspected); err != nil || len(inspected) != 1 {
		t.Fatalf("podman image inspect %s: %v, %d images", tag, err, len(inspected))
	}
	c := inspected[0].Config
	if want := fmt.Sprintf("%d:%d", image.NonRoot, image.NonRoot); c.User != want || !dockerfile.NumericNonRootUser(c.User) {
		t.Errorf("the image runs as user %q, want %q: Radix needs a numeric user that is not root", c.User, want)
	}
	if _, ok := c.ExposedPorts["5000/tcp"]; !ok || len(c.ExposedPorts) != 1 {
		t.Errorf("the image exposes %v, want 5000/tcp only", c.ExposedPorts)
	}
	if !f.ExecForm || !slices.Equal(c.Entrypoint, f.FinalEntrypoint) {
		t.Errorf("the image's entrypoint is %q; want %q in exec form, so that the server gets SIGTERM itself", c.Entrypoint, f.FinalEntrypoint)
	}
	// One line for each of the image's names, all alike.
	shown, _, _ := strings.Cut(p.run(t, "images", "--format", "{{.Size}}", tag), "\n")
	t.Logf("image size: %d bytes (podman images: %s)", inspected[0].Size, shown)
}

// checkContainer runs the image as Radix does and checks that it serves,
// as the non-root user, and stops cleanly on SIGTERM.
func checkContainer(t *testing.T, p podman, tag, step string) {
	want, ok := home[step]
	if !ok {
		t.Fatalf("no expectations for step %s: add what its / answers to home", step)
	}
	addr := freeAddr(t)
	name := unique("run")
	start := time.Now()
	// --read-only without the tmpfs folders podman adds: Radix's
	// readOnlyFileSystem gives the container no writable place at all.
	p.run(t, "run", "--detach", "--name", name, "--read-only", "--read-only-tmpfs=false",
		"--network=host", "--env", "LISTEN_ADDR="+addr, tag)
	t.Cleanup(func() {
		if _, err := p.try(time.Minute, "rm", "--force", "--time=0", name); err != nil {
			t.Errorf("removing the test container: %v", err)
		}
	})

	base := "http://" + addr
	if err := waitFor(base + "/healthz"); err != nil {
		logs, _ := p.try(time.Minute, "logs", name)
		t.Fatalf("the container does not answer: %v\nlogs:\n%s", err, logs)
	}
	t.Logf("first answer %s after podman run", time.Since(start).Round(time.Millisecond))

	for _, c := range []struct {
		path   string
		status int
		body   string
	}{{"/healthz", http.StatusOK, "ok"}, {"/", want.status, want.body}} {
		status, body, err := get(base + c.path)
		if err != nil || status != c.status || !strings.Contains(body, c.body) {
			t.Errorf("GET %s = %d %q, %v; want %d and a body with %q", c.path, status, body, err, c.status, c.body)
		}
	}

	pid := strings.TrimSpace(p.run(t, "inspect", "--format", "{{.State.Pid}}", name))
	ids := processIDs(t, pid)
	wantIDs := strings.TrimSpace(strings.Repeat(strconv.Itoa(image.NonRoot)+" ", 4))
	for _, line := range []string{"Uid", "Gid"} {
		if ids[line] != wantIDs {
			t.Errorf("the server process has %s %q, want %d for the real, effective, saved and file ids", line, ids[line], image.NonRoot)
		}
	}

	start = time.Now()
	p.run(t, "stop", "--time=30", name) // SIGTERM, then SIGKILL after 30 s, as Kubernetes does
	t.Logf("stopped %s after podman stop", time.Since(start).Round(time.Millisecond))
	state := strings.TrimSpace(p.run(t, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name))
	if state != "exited 0" {
		t.Errorf("after SIGTERM the container is %q, want %q", state, "exited 0")
	}
	checkLogs(t, p.run(t, "logs", name))
}

// checkLogs checks that every log line is JSON, as Radix's log view wants
// it, and that the server said it shut down gracefully.
func checkLogs(t *testing.T, logs string) {
	var msgs []string
	for line := range strings.Lines(logs) {
		var entry struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Errorf("log line %q is not JSON: %v", line, err)
			continue
		}
		if entry.Level == "ERROR" {
			t.Errorf("error in the logs: %s", line)
		}
		msgs = append(msgs, entry.Msg)
	}
	graceful := slices.DeleteFunc(slices.Clone(msgs), func(m string) bool { return m != "shutting down" && m != "stopped" })
	if !slices.Equal(graceful, []string{"shutting down", "stopped"}) {
		t.Errorf("log messages %q; want \"shutting down\" then \"stopped\" after SIGTERM", msgs)
	}
}

// processIDs returns the Uid, Gid and Groups lines of a process's status.
func processIDs(t *testing.T, pid string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("/proc", pid, "status"))
	if err != nil {
		t.Fatalf("reading the container's process: %v", err)
	}
	defer f.Close()
	ids := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		if key, value, ok := strings.Cut(s.Text(), ":"); ok {
			ids[key] = strings.Join(strings.Fields(value), " ")
		}
	}
	return ids
}

// freeAddr returns a loopback address with a port that nothing uses now.
func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := freeport.Addr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

var client = &http.Client{Timeout: 5 * time.Second}

func get(url string) (int, string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body), err
}

// waitFor polls url until it answers 200, for up to 30 seconds: a busy
// machine may be slow to start a container.
func waitFor(url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, _, err := get(url)
		if err == nil && status == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("GET %s: %d, %v", url, status, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

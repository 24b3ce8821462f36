package docs

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

// The checks' own helpers are tested here, so that a broken helper cannot
// make a wrong page pass.

func TestMatchLines(t *testing.T) {
	tests := []struct {
		want, got []string
		match     bool
	}{
		{[]string{"Hello, World!"}, []string{"Hello, World!"}, true},
		{[]string{"Hello, World!"}, []string{"Hello, world!"}, false},
		{[]string{"a"}, []string{"a", "b"}, false},
		{[]string{"a", "b"}, []string{"a"}, false},
		{nil, nil, true},
		{nil, []string{"unexpected"}, false},
		{[]string{"..."}, nil, true},
		{[]string{"..."}, []string{"x", "y"}, true},
		{[]string{"first", "...", "last"}, []string{"first", "x", "y", "last"}, true},
		{[]string{"first", "...", "last"}, []string{"first", "x", "y"}, false},
		{[]string{"ok  \tpkg\t..."}, []string{"ok  \tpkg\t0.004s"}, true},
		{[]string{"ok  \tpkg\t..."}, []string{"FAIL\tpkg\t0.004s"}, false},
		{[]string{`{"time":"...","msg":"stopped"}`}, []string{`{"time":"2026-01-01T00:00:00Z","msg":"stopped"}`}, true},
		{[]string{`{"time":"...","msg":"stopped"}`}, []string{`{"time":"2026","msg":"serving"}`}, false},
		{[]string{"a.c"}, []string{"abc"}, false}, // no other pattern characters
	}
	for _, tt := range tests {
		if got := matchLines(tt.want, tt.got); got != tt.match {
			t.Errorf("matchLines(%q, %q) = %v, want %v", tt.want, tt.got, got, tt.match)
		}
	}
}

func TestParseConsole(t *testing.T) {
	steps, err := parseConsole("$ curl localhost:5000\nHello, World!\n$ go build \\\n>   -o hello .\n$ echo done   \ndone\n\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []consoleStep{
		{"curl localhost:5000", []string{"Hello, World!"}},
		{"go build \\\n  -o hello .", nil},
		{"echo done", []string{"done"}},
	}
	if !slices.EqualFunc(steps, want, func(a, b consoleStep) bool {
		return a.command == b.command && slices.Equal(a.want, b.want)
	}) {
		t.Errorf("parseConsole = %q, want %q", steps, want)
	}
	for _, bad := range []string{"Hello\n$ curl x\n", "\n"} {
		if _, err := parseConsole(bad); err == nil {
			t.Errorf("parseConsole(%q) succeeded, want an error", bad)
		}
	}
}

func TestStoppedByInterrupt(t *testing.T) {
	exitWith := func(code string) error {
		err := exec.Command("bash", "-c", "exit "+code).Run()
		if code == "0" {
			return err
		}
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("exit %s: %v", code, err)
		}
		return err
	}
	tests := []struct {
		command string
		err     error
		output  string
		clean   bool
	}{
		{"./hello", nil, "", true},
		{"./hello", exitWith("130"), "", true},
		{"./hello", exitWith("1"), "", false},
		{"./hello", exitWith("2"), "", false},
		{"go run ./steps/02-radix", exitWith("1"), `{"msg":"stopped"}`, true},
		{"go run ./steps/01-local", exitWith("1"), "serving\nsignal: interrupt\n", true},
		{"go run ./steps/02-radix", exitWith("1"), `{"msg":"server stopped"}` + "\nexit status 1\n", false},
		{"podman run radix-tutorial", exitWith("1"), "", false},
	}
	for _, tt := range tests {
		if got := stoppedByInterrupt(tt.command, tt.err, tt.output); got != tt.clean {
			t.Errorf("stoppedByInterrupt(%q, %v, %q) = %v, want %v", tt.command, tt.err, tt.output, got, tt.clean)
		}
	}
}

func TestAnchorsAndLinks(t *testing.T) {
	page := []byte("# Step 2: Ready for Radix\n\n## The radixconfig.yaml\n\n### Build `it`\n\n## Build it\n\n" +
		"```sh\n# not a heading\n[not](a-link.md)\n```\n\nSee [step 1](01-local.md#run-it), `[code](x.md)` and ![pic](images/a.png).\n")
	got := anchors(page)
	for _, a := range []string{"step-2-ready-for-radix", "the-radixconfigyaml", "build-it", "build-it-1"} {
		if !got[a] {
			t.Errorf("anchors lack #%s; got %v", a, got)
		}
	}
	if got["not-a-heading"] {
		t.Error("a comment in a code block was taken for a heading")
	}
	var targets []string
	for _, ts := range links(page) {
		targets = append(targets, ts...)
	}
	slices.Sort(targets)
	if want := []string{"01-local.md#run-it", "images/a.png"}; !slices.Equal(targets, want) {
		t.Errorf("links = %q, want %q", targets, want)
	}
}

func TestScriptDoesNotWaitForBackgroundJobs(t *testing.T) {
	r := &runner{t: t, page: "page.md", dir: t.TempDir(), env: os.Environ()}
	start := time.Now()
	out, err := r.runScript("sleep 60 &\necho started")
	if err != nil || out != "started\n" {
		t.Errorf("runScript = %q, %v; want %q, nil", out, err, "started\n")
	}
	if waited := time.Since(start); waited > 30*time.Second {
		t.Errorf("runScript waited %v for a background job; want it killed when the script ends", waited)
	}
}

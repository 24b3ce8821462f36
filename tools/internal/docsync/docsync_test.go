package docsync

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goSrc = `package main

import "time"

// addr is where the server listens.
const addr = ":5000"

const (
	// first is documented.
	first = 1
	second = 2 // second has a line comment.
)

// Server serves.
type Server struct{ n int }

// hello greets.
func hello() string {
	return "hi"
}

// Run runs.
func (s *Server) Run() {}

var wait = time.Second
`

// tree writes files below a fresh folder and returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestDecl(t *testing.T) {
	tests := []struct{ name, want string }{
		{"addr", "// addr is where the server listens.\nconst addr = \":5000\""},
		{"first", "// first is documented.\nfirst = 1"},
		{"second", "second = 2 // second has a line comment."},
		{"Server", "// Server serves.\ntype Server struct{ n int }"},
		{"hello", "// hello greets.\nfunc hello() string {\n\treturn \"hi\"\n}"},
		{"Server.Run", "// Run runs.\nfunc (s *Server) Run() {}"},
		{"wait", "var wait = time.Second"},
	}
	for _, tt := range tests {
		got, err := Decl("main.go", []byte(goSrc), tt.name)
		if err != nil || got != tt.want {
			t.Errorf("Decl(%s) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := Decl("main.go", []byte(goSrc), "Run"); err == nil {
		t.Error("Decl(Run) found a method by its bare name; want an error")
	}
	if _, err := Decl("main.go", []byte(goSrc), "missing"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Decl(missing) error = %v, want one naming it", err)
	}
}

func TestSyncIncludesFilesDeclsAndDiffs(t *testing.T) {
	root := tree(t, map[string]string{
		"a/main.go":     goSrc,
		"b/main.go":     strings.Replace(goSrc, `":5000"`, `":8080"`, 1),
		"b/config.yaml": "port: 5000\n",
	})
	page := "# Page\n\n<!-- include: b/config.yaml -->\n```yaml\nstale\n```\n\n" +
		"<!-- include: a/main.go#hello -->\n```go\n```\n\n" +
		"<!-- diff: a/main.go b/main.go -->\n```diff\n```\n"
	got, drifts, err := Sync(root, "page.md", []byte(page))
	if err != nil {
		t.Fatal(err)
	}
	if len(drifts) != 3 {
		t.Errorf("got %d out-of-date blocks, want 3", len(drifts))
	}
	for _, want := range []string{
		"```yaml\nport: 5000\n```",
		"```go\n// hello greets.\nfunc hello() string {\n\treturn \"hi\"\n}\n```",
		"```diff\n--- a/main.go\n+++ b/main.go\n@@ -3,7 +3,7 @@\n",
		"-const addr = \":5000\"\n+const addr = \":8080\"\n",
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("synced page lacks %q; page:\n%s", want, got)
		}
	}

	// Syncing again changes nothing.
	again, drifts, err := Sync(root, "page.md", got)
	if err != nil || len(drifts) != 0 || string(again) != string(got) {
		t.Errorf("second Sync: %d drifts, err %v, page changed %v; want it idempotent", len(drifts), err, string(again) != string(got))
	}
}

func TestSyncDetectsDrift(t *testing.T) {
	root := tree(t, map[string]string{"main.go": goSrc})
	page := []byte("<!-- include: main.go#hello -->\n```go\n// hello greets.\nfunc hello() string {\n\treturn \"hi\"\n}\n```\n")
	if _, drifts, err := Sync(root, "page.md", page); err != nil || len(drifts) != 0 {
		t.Fatalf("Sync of an up-to-date page: %v, %v; want no drift", drifts, err)
	}
	// Change one line of the source: the block is now out of date.
	os.WriteFile(filepath.Join(root, "main.go"), []byte(strings.Replace(goSrc, `"hi"`, `"hello"`, 1)), 0o644)
	_, drifts, err := Sync(root, "page.md", page)
	if err != nil || len(drifts) != 1 || drifts[0].Block.Line != 2 || !strings.Contains(drifts[0].Want, `"hello"`) {
		t.Errorf("Sync after a source change = %+v, %v; want one drift at line 2", drifts, err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := map[string]string{
		"<!-- includ: main.go -->\n```go\n```\n":       "unknown marker",
		"<!-- just a comment -->\n":                    "unknown marker",
		"<!-- include: main.go -->\n\n```go\n```\n":    "directly followed",
		"<!-- include: main.go -->\n":                  "followed by a fenced code block",
		"<!-- include: a.go b.go -->\n```go\n```\n":    "want <!-- include",
		"<!-- include: main.go -->\n```yaml\n```\n":    "want a ```go block",
		"<!-- diff: a.go -->\n```diff\n```\n":          "want <!-- diff",
		"<!-- diff: a.go b.go -->\n```go\n```\n":       "want a ```diff block",
		"<!-- serve: http -->\n```sh\ngo run .\n```\n": "port must be a number",
		"<!-- serve: 5000 -->\n```sh\na\nb\n```\n":     "one command",
		"<!-- not run: -->\n```sh\nrx\n```\n":          "say why",
		"<!-- not run: needs Radix -->\n```go\n```\n":  "needs no marker",
		"```sh\nopen\n":                          "never closed",
		"- a list\n  ```sh\n  go run .\n  ```\n": "indented code block",
	}
	for page, want := range tests {
		_, err := Parse("page.md", []byte(page))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "page.md") {
			t.Errorf("Parse(%q) error = %v, want one naming page.md and containing %q", page, err, want)
		}
	}
}

func TestParseBlocks(t *testing.T) {
	page := "Text\n\n<!-- serve: 5000 -->\n```sh\ngo run ./steps/01-local\n```\n\n" +
		"<!-- not run: needs a Radix cluster -->\n```console\n$ rx get\n```\n\n" +
		"````markdown\n```sh\nnot a block\n```\n````\n"
	blocks, err := Parse("page.md", []byte(page))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 3 {
		t.Fatalf("got %d blocks, want 3: %+v", len(blocks), blocks)
	}
	if b := blocks[0]; b.Marker != Serve || b.Port() != 5000 || b.Body != "go run ./steps/01-local\n" || b.Line != 4 {
		t.Errorf("serve block = %+v", b)
	}
	if b := blocks[1]; b.Marker != NotRun || b.Args[0] != "needs a Radix cluster" || b.Lang != "console" {
		t.Errorf("not-run block = %+v", b)
	}
	if b := blocks[2]; b.Lang != "markdown" || b.Body != "```sh\nnot a block\n```\n" {
		t.Errorf("nested fence block = %+v", b)
	}
}

func TestCommands(t *testing.T) {
	got := Commands("# build it\ngo build \\\n  -o hello .\n\n./hello\n")
	want := []string{"go build \\\n  -o hello .", "./hello"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Commands = %q, want %q", got, want)
	}
}

func TestLang(t *testing.T) {
	for path, want := range map[string]string{
		"steps/02-radix/main.go": "go", "radixconfig.yaml": "yaml", "Dockerfile": "dockerfile",
		"x.diff": "diff", "test.sh": "bash", ".dockerignore": "gitignore",
	} {
		if got := Lang(path); got != want {
			t.Errorf("Lang(%s) = %s, want %s", path, got, want)
		}
	}
}

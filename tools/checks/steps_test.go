package checks

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"example.com/radix-tutorial/tools/internal/repo"
)

// A container build copies one step and nothing else, so each step must
// build and pass its tests on its own, with its own go.mod and go.sum. In
// the workspace, a missing requirement or go.sum line would go unnoticed.
func TestEachStepStandsAlone(t *testing.T) {
	steps, err := repo.Steps(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) < 2 {
		t.Fatalf("found steps %v, want at least 01-local and 02-radix", steps)
	}
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(root, "steps", step)
			goCmd(t, dir, true, "mod", "tidy", "-diff")
			goCmd(t, dir, true, "vet", "./...")
			goCmd(t, dir, true, "test", "./...")
		})
	}
}

// Official golang images set GOTOOLCHAIN=local, so a go line newer than
// the image's Go would break the image build.
func TestGoVersionLines(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "*", "*", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob(filepath.Join(root, "*", "go.mod"))
	files = append(files, more...)
	files = append(files, filepath.Join(root, "go.work"))
	goLine := regexp.MustCompile(`(?m)^go (\S+)$`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := goLine.FindSubmatch(data)
		if m == nil || string(m[1]) != "1.26.0" {
			t.Errorf("%s: go line %q, want \"go 1.26.0\"", rel(f), m)
		}
		if regexp.MustCompile(`(?m)^toolchain `).Match(data) {
			t.Errorf("%s has a toolchain line; remove it so builds use the local Go", rel(f))
		}
	}
}

func TestGofmt(t *testing.T) {
	out, err := exec.Command("gofmt", "-l", root).CombinedOutput()
	if err != nil {
		t.Fatalf("gofmt: %v\n%s", err, out)
	}
	if len(out) > 0 {
		t.Errorf("gofmt -l lists files that need formatting (run gofmt -w .):\n%s", out)
	}
}

func rel(path string) string {
	r, err := filepath.Rel(root, path)
	if err != nil {
		return path
	}
	return r
}

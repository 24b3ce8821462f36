// Package checks holds the repository-wide tests: every step builds on its
// own, the Radix configuration and the Dockerfile are sound, and the root
// files deploy the current step.
package checks

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"example.com/radix-tutorial/tools/internal/repo"
)

// root is the repository root, found once for all tests.
var root = repo.MustRoot()

// goCmd runs the go command in dir, outside the workspace when
// standalone is set, and fails the test with its output if it fails.
func goCmd(t *testing.T, dir string, standalone bool, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	if standalone {
		cmd.Env = append(cmd.Env, "GOWORK=off")
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

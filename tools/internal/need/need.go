// Package need lets a test ask for something outside Go, such as Chromium or
// podman. Where it is missing the test is skipped with a message that says
// how to install it; under CI (CI=true) it fails instead, because .ci/run
// installs everything and nothing may be skipped there.
package need

import (
	"os"
	"os/exec"
	"testing"
)

// Missing skips the test, or fails it under CI, explaining what is missing
// and how to get it.
func Missing(t testing.TB, what, install string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing; under CI nothing may be skipped (.ci/run should have installed it: %s)", what, install)
	}
	t.Skipf("SKIPPED: %s is missing; install it with: %s", what, install)
}

// Command returns the path of the named program, or skips the test (fails
// it under CI) when the program is not installed.
func Command(t testing.TB, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name, install)
	}
	return path
}

// Env returns the value of an environment variable, or skips the test
// (fails it under CI) when the variable is unset; help says what to set it to.
func Env(t testing.TB, name, help string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set; under CI nothing may be skipped. %s", name, help)
		}
		t.Skipf("SKIPPED: %s is not set. %s", name, help)
	}
	return v
}

// Package portlock serializes the tests that must use the tutorial's fixed
// ports (5000 for step 1, whose address is not configurable, and the ports the
// docs' commands use). go test runs packages in parallel, each in its own
// process, so the lock is a file lock that every such test takes.
package portlock

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Hold blocks until no other test process holds the fixed ports, then holds
// them until t and its subtests have finished.
func Hold(t testing.TB) {
	t.Helper()
	path := filepath.Join(os.TempDir(), "radix-tutorial-fixed-ports.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("port lock: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("port lock %s: %v", path, err)
	}
	t.Cleanup(func() { f.Close() }) // closing the file releases the lock
}

package portlock

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestHoldExcludesOthers(t *testing.T) {
	var holders, most atomic.Int32
	t.Run("group", func(t *testing.T) {
		for range 3 {
			t.Run("holder", func(t *testing.T) {
				t.Parallel()
				Hold(t)
				n := holders.Add(1)
				if n > most.Load() {
					most.Store(n)
				}
				time.Sleep(20 * time.Millisecond)
				holders.Add(-1)
			})
		}
	})
	if most.Load() != 1 {
		t.Errorf("%d tests held the lock at once, want 1", most.Load())
	}
}

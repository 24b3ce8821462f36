package docs

import (
	"testing"

	"example.com/radix-tutorial/tools/internal/image"
)

// podmanEnv prepares podman to build and run the tutorial's images on this
// machine, and returns the environment to run it with.
func podmanEnv(t *testing.T) []string { return image.Env(t) }

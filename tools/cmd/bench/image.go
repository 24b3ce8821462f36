package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"example.com/radix-tutorial/tools/internal/image"
)

// podmanEnv prepares podman to build the root Dockerfile on this machine,
// with local stand-ins of its base images, and returns the environment for
// podman; it is prepared once per run.
func (b *runner) podmanEnv() ([]string, error) {
	if b.podman == nil && b.podmanErr == nil {
		env, err := imageEnv()
		b.podman, b.podmanErr = append(os.Environ(), env...), err
	}
	return b.podman, b.podmanErr
}

// imageSize builds the step's container image from the root Dockerfile, as
// Radix does, and returns its size, or why there is none.
func (b *runner) imageSize(ctx context.Context, step string) string {
	if !b.opts.images {
		return "n/a (-images=false)"
	}
	env, err := b.podmanEnv()
	if err != nil {
		b.logf("not measuring image sizes: %v", err)
		return "n/a (no podman)"
	}
	b.logf("building the image of %s with podman", step)
	tag := "localhost/radix-tutorial-bench:" + step
	podman := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "podman", args...)
		cmd.Dir, cmd.Env = b.root, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out)), nil
	}
	if _, err := podman("build", "--quiet", "--build-arg", "STEP="+step, "-t", tag, "."); err != nil {
		b.logf("%s: %v", step, err)
		return "n/a (build failed)"
	}
	defer podman("rmi", tag)
	size, err := podman("image", "inspect", "--format", "{{.Size}}", tag)
	if err != nil {
		b.logf("%s: %v", step, err)
		return "n/a"
	}
	n, err := strconv.ParseInt(size, 10, 64)
	if err != nil {
		return "n/a"
	}
	if b.baseImage == "" {
		if s, err := podman("image", "inspect", "--format", "{{.Size}}", image.Distroless); err == nil {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				b.baseImage = fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
			}
		}
	}
	return mib(n)
}

// imageEnv calls image.Env, which is written for tests: it reports a
// missing program by skipping or failing its testing.TB. failer turns
// either into an error.
func imageEnv() (env []string, err error) {
	t := &failer{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		env = image.Env(t)
	}()
	<-done
	if t.err != nil {
		return nil, t.err
	}
	return env, nil
}

// failer is the part of testing.TB that image.Env uses. The embedded
// interface is nil: calling any other method panics, which a change to
// image.Env would show at once.
type failer struct {
	testing.TB
	err error
}

func (*failer) Helper() {}

func (f *failer) Fatalf(format string, args ...any) {
	f.err = fmt.Errorf(format, args...)
	runtime.Goexit()
}

func (f *failer) Skipf(format string, args ...any) { f.Fatalf(format, args...) }

package image

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"example.com/radix-tutorial/tools/internal/repo"
)

// podman runs podman with the environment Env prepared.
func podman(t *testing.T, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "podman", args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestGolangStandIn(t *testing.T) {
	env := Env(t)
	host, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Fatal(err)
	}
	got := podman(t, env, "run", "--rm", "--network=none", Golang, "go", "env", "GOVERSION", "GOTOOLCHAIN", "GOPATH", "GOPROXY")
	want := strings.TrimSpace(string(host)) + "\nlocal\n/go\nfile://" + goProxyDir
	if got != want {
		t.Errorf("go env in %s = %q, want %q", Golang, got, want)
	}

	// Each step's modules download without a network, as the build does.
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	steps, err := repo.Steps(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range steps {
		src := filepath.Join(root, "steps", step)
		podman(t, env, "run", "--rm", "--network=none", "--volume", src+":/src:ro", "--workdir", "/src", Golang,
			"go", "mod", "download")
	}
}

func TestDistrolessStandIn(t *testing.T) {
	env := Env(t)
	var inspected []struct {
		Config struct{ User, WorkingDir string }
	}
	if err := json.Unmarshal([]byte(podman(t, env, "image", "inspect", Distroless)), &inspected); err != nil || len(inspected) != 1 {
		t.Fatalf("podman image inspect %s: %v", Distroless, err)
	}
	if c := inspected[0].Config; c.User != "65532:65532" || c.WorkingDir != "/home/nonroot" {
		t.Errorf("%s has USER %q and WORKDIR %q, want 65532:65532 and /home/nonroot", Distroless, c.User, c.WorkingDir)
	}

	// The image has no shell; the machine's static busybox looks inside.
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatal(err)
	}
	got := podman(t, env, "run", "--rm", "--network=none", "--volume", busybox+":/busybox:ro", "--entrypoint", "/busybox",
		Distroless, "sh", "-c", `/busybox id && /busybox touch /tmp/x /home/nonroot/x && /busybox stat -c "%n %u:%g %a" /tmp /home/nonroot`)
	want := fmt.Sprintf("uid=%[1]d(nonroot) gid=%[1]d(nonroot) groups=%[1]d(nonroot)\n/tmp 0:0 1777\n/home/nonroot %[1]d:%[1]d 700", NonRoot)
	if got != want {
		t.Errorf("inside %s:\n%s\nwant:\n%s", Distroless, got, want)
	}
}

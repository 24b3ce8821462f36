package hostile

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"example.com/radix-tutorial/tools/internal/dockerfile"
	"example.com/radix-tutorial/tools/internal/radixconfig"
)

// Every module's dependencies are pinned by go.sum, and the module cache
// still holds exactly what go.sum says was downloaded.
func TestModulesAreVerified(t *testing.T) {
	mods, err := filepath.Glob(filepath.Join(root, "*", "*", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob(filepath.Join(root, "*", "go.mod"))
	mods = append(mods, more...)
	if len(mods) < 4 {
		t.Fatalf("found the modules %v, want at least the three steps and tools", mods)
	}
	for _, mod := range mods {
		dir := filepath.Dir(mod)
		name, _ := filepath.Rel(root, dir)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := os.Stat(filepath.Join(dir, "go.sum")); err != nil {
				t.Fatalf("%s has no go.sum: its dependencies are not pinned", name)
			}
			cmd := exec.Command("go", "mod", "verify")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOWORK=off")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("go mod verify in %s: %v\n%s", name, err, out)
			}
		})
	}
}

// Every image the app is built from or runs names a tag: latest, or no
// tag at all, would change under the app without a commit.
func TestImagesArePinned(t *testing.T) {
	facts, err := dockerfile.ParseFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var images []string
	for _, stage := range facts.Stages {
		images = append(images, os.Expand(stage, func(k string) string { return facts.Args[k] }))
	}
	for _, path := range radixConfigs(t) {
		cfg, err := radixconfig.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cfg.App.Spec.Components {
			if c.Image != "" {
				images = append(images, c.Image)
			}
		}
	}
	if len(images) < 3 {
		t.Fatalf("found the images %q, want the Dockerfile's two and oauth2-proxy", images)
	}
	for _, image := range images {
		if tag := imageTag(image); tag == "" || tag == "latest" {
			t.Errorf("image %q: name a version, such as golang:1.26, not %q", image, tag)
		}
	}
}

// imageTag returns the tag of an image reference, or its digest when it
// has one; "" when it has neither.
func imageTag(ref string) string {
	if _, digest, ok := strings.Cut(ref, "@"); ok {
		return digest
	}
	name := ref[strings.LastIndex(ref, "/")+1:] // a registry's host:port is no tag
	_, tag, _ := strings.Cut(name, ":")
	return tag
}

// Radix can run a component with a read-only file system, so that an
// attacker who gets in cannot change its programs or plant new ones. Every
// component asks for it; the image tests run the server image that way.
func TestComponentsHaveReadOnlyFileSystems(t *testing.T) {
	for _, path := range radixConfigs(t) {
		cfg, err := radixconfig.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, path)
		for _, c := range cfg.App.Spec.Components {
			if !c.ReadOnlyFileSystem {
				t.Errorf("%s: component %s lacks readOnlyFileSystem: true", rel, c.Name)
			}
		}
	}
}

// radixConfigs returns the root radixconfig.yaml and every step's.
func radixConfigs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "steps", "*", "radixconfig*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no radixconfig files in the steps: %v", err)
	}
	return append(files, filepath.Join(root, "radixconfig.yaml"))
}

package checks

import (
	"bytes"
	"example.com/radix-tutorial/tools/internal/need"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"example.com/radix-tutorial/tools/internal/dockerfile"
	"example.com/radix-tutorial/tools/internal/radixconfig"
	"example.com/radix-tutorial/tools/internal/repo"
)

// radixConfigs returns every radixconfig in the repository: the root one
// and each step's copies.
func radixConfigs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "steps", "*", "radixconfig*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(root, "radixconfig.yaml"))
	return files
}

func loadConfig(t *testing.T, path string) *radixconfig.File {
	t.Helper()
	f, err := radixconfig.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRadixConfigsMatchOfficialSchema(t *testing.T) {
	path := need.Env(t, radixconfig.SchemaEnv, radixconfig.SchemaHelp)
	schema, err := radixconfig.LoadSchema(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range radixConfigs(t) {
		for _, p := range schema.Check(loadConfig(t, file)) {
			t.Errorf("%s: %s", rel(file), p)
		}
	}
}

func TestRadixConfigRules(t *testing.T) {
	for _, file := range radixConfigs(t) {
		f := loadConfig(t, file)
		for _, p := range radixconfig.Rules(f) {
			t.Errorf("%s: %s", rel(file), p)
		}
		data, _ := os.ReadFile(file)
		if !bytes.HasPrefix(data, []byte("# yaml-language-server: $schema=https://raw.githubusercontent.com/equinor/radix-operator/release/json-schema/radixapplication.json\n")) {
			t.Errorf("%s: the first line should point editors at Radix's published schema", rel(file))
		}
	}
}

// The root Dockerfile and radixconfig.yaml are what Radix builds: both must
// deploy the current step, the last one that has a radixconfig of its own.
func TestRootFilesDeployCurrentStep(t *testing.T) {
	steps, err := repo.DeployableSteps(root)
	if err != nil || len(steps) == 0 {
		t.Fatalf("deployable steps = %v, %v; want at least one step with a radixconfig.yaml", steps, err)
	}
	current := steps[len(steps)-1]

	if got := rootDockerfile(t).Args["STEP"]; got != current {
		t.Errorf("Dockerfile: ARG STEP=%s, want the current step %s (go run ./tools/cmd/deploystep %s)", got, current, current)
	}
	// The root radixconfig.yaml is a copy of one of the step's radixconfig
	// files: the standalone one, or an alternative such as step 3's built-in
	// sign-in.
	rootConfig, err := os.ReadFile(filepath.Join(root, "radixconfig.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	stepConfigs, err := filepath.Glob(filepath.Join(root, "steps", current, "radixconfig*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(stepConfigs, func(path string) bool {
		data, err := os.ReadFile(path)
		return err == nil && bytes.Equal(data, rootConfig)
	}) {
		t.Errorf("radixconfig.yaml differs from every radixconfig file in steps/%s (go run ./tools/cmd/deploystep %s)", current, current)
	}
}

func rootDockerfile(t *testing.T) *dockerfile.Facts {
	t.Helper()
	facts, err := dockerfile.ParseFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	return facts
}

func TestDockerfileRunsAsNumericNonRootUser(t *testing.T) {
	facts := rootDockerfile(t)
	if !dockerfile.NumericNonRootUser(facts.FinalUser) {
		t.Errorf("final stage USER %q: Radix needs a numeric user id other than 0, such as 65532:65532", facts.FinalUser)
	}
	if !facts.ExecForm || len(facts.FinalEntrypoint) == 0 {
		t.Errorf("ENTRYPOINT %q: use the exec form, [\"/hello\"], so the server itself receives SIGTERM", facts.FinalEntrypoint)
	}
}

// The port must agree everywhere: the server listens on it, the image
// exposes it, and radixconfig routes traffic and probes to it.
func TestPortAgreesAcrossServerDockerfileAndRadixConfig(t *testing.T) {
	facts := rootDockerfile(t)
	steps, err := repo.DeployableSteps(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range steps {
		serverPort := defaultPort(t, filepath.Join(root, "steps", step, "main.go"))
		if !slices.Contains(facts.FinalExpose, strconv.Itoa(serverPort)) {
			t.Errorf("steps/%s listens on %d by default, but the Dockerfile exposes %v", step, serverPort, facts.FinalExpose)
		}
		for _, c := range loadConfig(t, filepath.Join(root, "steps", step, "radixconfig.yaml")).App.Spec.Components {
			if c.Image != "" {
				continue // not built from our Dockerfile
			}
			if len(c.Ports) != 1 || c.Ports[0].Port != serverPort {
				t.Errorf("steps/%s/radixconfig.yaml: component %s has ports %v, want the server's port %d", step, c.Name, c.Ports, serverPort)
			}
		}
	}
}

// defaultPort reads the port of the defaultAddr constant in a step's main.go.
func defaultPort(t *testing.T, path string) int {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	obj := f.Scope.Lookup("defaultAddr")
	if obj == nil {
		t.Fatalf("%s: no defaultAddr constant", rel(path))
	}
	lit, ok := obj.Decl.(*ast.ValueSpec).Values[0].(*ast.BasicLit)
	if !ok {
		t.Fatalf("%s: defaultAddr is not a string literal", rel(path))
	}
	addr, _ := strconv.Unquote(lit.Value)
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%s: defaultAddr %q: %v", rel(path), addr, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("%s: defaultAddr %q: %v", rel(path), addr, err)
	}
	return n
}

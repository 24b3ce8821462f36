// Command deploystep makes the root Dockerfile and radixconfig.yaml deploy
// the given step, the one change needed to put another step on Radix:
//
//	go run ./tools/cmd/deploystep 02-radix
//
// A second argument picks another of the step's radixconfig files:
//
//	go run ./tools/cmd/deploystep 03-auth-proxy radixconfig.builtin.yaml
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"example.com/radix-tutorial/tools/internal/repo"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "deploystep:", err)
		os.Exit(1)
	}
}

// stepArg is the line in the root Dockerfile that names the step to build.
var stepArg = regexp.MustCompile(`(?m)^ARG STEP=.*$`)

func run(args []string) error {
	root, err := repo.Root()
	if err != nil {
		return err
	}
	steps, err := repo.DeployableSteps(root)
	if err != nil {
		return err
	}
	if len(args) < 1 || len(args) > 2 || !slices.Contains(steps, args[0]) {
		return fmt.Errorf("usage: deploystep STEP [CONFIG], where STEP is one of %v and CONFIG is one of the step's radixconfig files", steps)
	}
	step, configName := args[0], "radixconfig.yaml"
	if len(args) == 2 {
		configName = args[1]
	}
	if ok, _ := filepath.Match("radixconfig*.yaml", configName); !ok {
		return fmt.Errorf("%s: name one of the radixconfig*.yaml files in steps/%s", configName, step)
	}

	config, err := os.ReadFile(filepath.Join(root, "steps", step, configName))
	if err != nil {
		return err
	}
	dockerfilePath := filepath.Join(root, "Dockerfile")
	dockerfile, err := os.ReadFile(dockerfilePath)
	if err != nil {
		return err
	}
	if len(stepArg.FindAll(dockerfile, -1)) != 1 {
		return fmt.Errorf("%s: want exactly one line ARG STEP=...", dockerfilePath)
	}
	dockerfile = stepArg.ReplaceAll(dockerfile, []byte("ARG STEP="+step))

	if err := os.WriteFile(dockerfilePath, dockerfile, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, "radixconfig.yaml"), config, 0o644); err != nil {
		return err
	}
	what := "steps/" + step
	if configName != "radixconfig.yaml" {
		what += " with its " + configName
	}
	fmt.Printf("Dockerfile and radixconfig.yaml now deploy %s; commit and push them to the config branch.\n", what)
	return nil
}

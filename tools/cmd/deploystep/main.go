// Command deploystep makes the root Dockerfile and radixconfig.yaml deploy
// the given step, the one change needed to put another step on Radix:
//
//	go run ./tools/cmd/deploystep 02-radix
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
	if len(args) != 1 || !slices.Contains(steps, args[0]) {
		return fmt.Errorf("usage: deploystep STEP, where STEP is one of %v", steps)
	}
	step := args[0]

	config, err := os.ReadFile(filepath.Join(root, "steps", step, "radixconfig.yaml"))
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
	fmt.Printf("Dockerfile and radixconfig.yaml now deploy steps/%s; commit and push them to the config branch.\n", step)
	return nil
}

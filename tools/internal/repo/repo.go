// Package repo locates the tutorial's files: the repository root, the steps
// and the step that the root Dockerfile and radixconfig.yaml deploy.
package repo

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
)

// Root returns the repository root: the nearest folder above the working
// directory that holds go.work.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work above the working directory: run this inside the tutorial repository")
		}
		dir = parent
	}
}

// MustRoot is Root for tests, which cannot run outside the repository.
func MustRoot() string {
	root, err := Root()
	if err != nil {
		panic(err)
	}
	return root
}

// Steps returns the step folder names under steps/, in order.
func Steps(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "steps"))
	if err != nil {
		return nil, err
	}
	var steps []string
	for _, e := range entries {
		if e.IsDir() {
			steps = append(steps, e.Name())
		}
	}
	slices.Sort(steps)
	return steps, nil
}

// DeployableSteps returns the steps that have a radixconfig.yaml of their
// own, in order. The last of them is the one the root files should deploy.
func DeployableSteps(root string) ([]string, error) {
	steps, err := Steps(root)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(steps, func(step string) bool {
		_, err := os.Stat(filepath.Join(root, "steps", step, "radixconfig.yaml"))
		return err != nil
	}), nil
}

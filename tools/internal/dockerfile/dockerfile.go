// Package dockerfile reads the facts the tests check from a Dockerfile, with
// the same parser BuildKit uses.
package dockerfile

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Facts are what a Dockerfile says about the image it builds.
type Facts struct {
	// Args maps each ARG, global or in any stage, to its default value.
	Args map[string]string
	// Stages are the base image names of each stage, unexpanded.
	Stages []string
	// FinalUser is the USER of the last stage, "" when it has none.
	FinalUser string
	// FinalExpose lists the ports the last stage exposes.
	FinalExpose []string
	// FinalEntrypoint is the last stage's ENTRYPOINT; ExecForm tells
	// whether it was written as a JSON array.
	FinalEntrypoint []string
	ExecForm        bool
}

// ParseFile reads the Dockerfile at path.
func ParseFile(path string) (*Facts, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	facts, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return facts, nil
}

// Parse reads a Dockerfile.
func Parse(r io.Reader) (*Facts, error) {
	res, err := parser.Parse(r)
	if err != nil {
		return nil, err
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, err
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("no FROM: the Dockerfile builds nothing")
	}
	f := &Facts{Args: map[string]string{}}
	addArgs := func(args []instructions.KeyValuePairOptional) {
		for _, a := range args {
			f.Args[a.Key] = a.ValueString()
		}
	}
	for _, a := range metaArgs {
		addArgs(a.Args)
	}
	for i, s := range stages {
		f.Stages = append(f.Stages, s.BaseName)
		last := i == len(stages)-1
		for _, c := range s.Commands {
			switch c := c.(type) {
			case *instructions.ArgCommand:
				addArgs(c.Args)
			case *instructions.UserCommand:
				if last {
					f.FinalUser = c.User
				}
			case *instructions.ExposeCommand:
				if last {
					f.FinalExpose = append(f.FinalExpose, c.Ports...)
				}
			case *instructions.EntrypointCommand:
				if last {
					f.FinalEntrypoint = c.CmdLine
					f.ExecForm = !c.PrependShell
				}
			}
		}
	}
	return f, nil
}

// NumericNonRootUser reports whether user (USER's value, "uid" or
// "uid:gid") names a numeric user id other than 0, which Kubernetes can
// verify is not root.
func NumericNonRootUser(user string) bool {
	uid, _, _ := strings.Cut(user, ":")
	if uid == "" || strings.Trim(uid, "0123456789") != "" {
		return false
	}
	return strings.TrimLeft(uid, "0") != ""
}

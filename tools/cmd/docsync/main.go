// Command docsync rewrites the code blocks of README.md and docs/*.md that
// are marked <!-- include: ... --> or <!-- diff: ... --> from the sources
// they show. Run it from anywhere in the repository after changing a step:
//
//	go run ./tools/cmd/docsync
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"example.com/radix-tutorial/tools/internal/docsync"
	"example.com/radix-tutorial/tools/internal/repo"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "docsync:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := repo.Root()
	if err != nil {
		return err
	}
	pages, err := docsync.Pages(root)
	if err != nil {
		return err
	}
	for _, page := range pages {
		path := filepath.Join(root, page)
		old, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		updated, drifts, err := docsync.Sync(root, page, old)
		if err != nil {
			return err
		}
		if len(drifts) == 0 {
			continue
		}
		if err := os.WriteFile(path, updated, 0o644); err != nil {
			return err
		}
		for _, d := range drifts {
			fmt.Printf("%s:%d: updated %s\n", page, d.Block.Line, d.Block.MarkerText())
		}
	}
	return nil
}

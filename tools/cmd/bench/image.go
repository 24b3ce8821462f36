package main

import "context"

// imageSize builds the step's container image and returns its size.
func (b *runner) imageSize(ctx context.Context, step string) string {
	if !b.opts.images {
		return "n/a (-images=false)"
	}
	return "n/a (TODO)"
}

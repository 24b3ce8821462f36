// Package bench holds the measuring parts of the tutorial's benchmark
// (tools/cmd/bench): a load generator, readings from /proc, statistics over
// rounds and the Markdown table the results are printed as.
package bench

import (
	"math"
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest value that at least p% of the values
// are less than or equal to. It is always one of the measured values, never
// an interpolation between two. It returns 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// Spread summarises one figure measured once per round: the median says
// what to expect, min and max how much the rounds disagreed.
type Spread struct {
	Median, Min, Max float64
}

// Summarize returns the spread of values, which need not be sorted. The
// median of an even number of values is the mean of the middle two.
func Summarize(values []float64) Spread {
	if len(values) == 0 {
		return Spread{}
	}
	s := slices.Clone(values)
	slices.Sort(s)
	mid := len(s) / 2
	median := s[mid]
	if len(s)%2 == 0 {
		median = (s[mid-1] + s[mid]) / 2
	}
	return Spread{Median: median, Min: s[0], Max: s[len(s)-1]}
}

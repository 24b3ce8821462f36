package bench

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Table is a Markdown table. The first column names the rows and is
// left-aligned; the others hold figures and are right-aligned, so that the
// numbers line up.
type Table struct {
	Header []string
	Rows   [][]string
}

// Markdown renders the table with its columns padded to a common width, so
// that it reads well as plain text too. Rows shorter than the header are
// padded with empty cells; longer ones are an error in the caller.
func (t Table) Markdown() (string, error) {
	width := make([]int, len(t.Header))
	for i, h := range t.Header {
		width[i] = max(utf8.RuneCountInString(h), 3)
	}
	for n, row := range t.Rows {
		if len(row) > len(t.Header) {
			return "", fmt.Errorf("row %d has %d cells, the header %d", n+1, len(row), len(t.Header))
		}
		for i, cell := range row {
			if strings.ContainsAny(cell, "|\n") {
				return "", fmt.Errorf("row %d, cell %d: %q holds a | or a line break", n+1, i+1, cell)
			}
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}

	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for i := range t.Header {
			var cell string
			if i < len(cells) {
				cell = cells[i]
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell))
			if i > 0 {
				b.WriteString(" " + pad + cell + " |")
			} else {
				b.WriteString(" " + cell + pad + " |")
			}
		}
		b.WriteString("\n")
	}
	line(t.Header)
	rule := make([]string, len(t.Header))
	for i := range rule {
		rule[i] = strings.Repeat("-", width[i])
		if i > 0 {
			rule[i] = rule[i][1:] + ":"
		}
	}
	line(rule)
	for _, row := range t.Rows {
		line(row)
	}
	return b.String(), nil
}

// FormatSpread writes a spread as "median (min–max)", each value written
// by format; when all rounds agree it is just the median.
func FormatSpread(s Spread, format func(float64) string) string {
	median, lo, hi := format(s.Median), format(s.Min), format(s.Max)
	if lo == hi {
		return median
	}
	return fmt.Sprintf("%s (%s–%s)", median, strings.TrimSuffix(lo, unit(lo)), hi)
}

// unit returns the unit at the end of a formatted value, such as " MiB", so
// that a range says it once: "7.1–7.4 MiB".
func unit(s string) string {
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		if _, err := strconv.ParseFloat(s[i+1:], 64); err != nil {
			return s[i:]
		}
	}
	return ""
}

// Count writes a number of things with thousands separators: 31,250.
func Count(v float64) string {
	digits := strconv.FormatInt(int64(math.Round(v)), 10)
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 && digits[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return b.String()
}

// MiB writes a number of bytes in mebibytes, the unit of Kubernetes'
// memory requests (Mi).
func MiB(bytes float64) string {
	return fmt.Sprintf("%.1f MiB", bytes/(1<<20))
}

// Millis writes a number of seconds in milliseconds, with two significant
// decimals below 1 ms.
func Millis(seconds float64) string {
	ms := seconds * 1000
	switch {
	case ms < 1:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 10:
		return fmt.Sprintf("%.1f ms", ms)
	default:
		return fmt.Sprintf("%.0f ms", ms)
	}
}

// Micros writes a number of seconds in microseconds.
func Micros(seconds float64) string {
	return fmt.Sprintf("%.0f µs", seconds*1e6)
}

// Ratio writes how many times a value is its baseline: 0.87×.
func Ratio(value, baseline float64) string {
	if baseline == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", value/baseline)
}

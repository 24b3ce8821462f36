// Package secretscan finds values in text that look like credentials: a
// private key, an Entra ID client secret, an Azure storage account key,
// an oauth2-proxy secret with a value, or a long random-looking value
// assigned to a name such as password or token. Secrets belong in the
// Radix Web Console or in variables made up at run time, never in the
// repository, where every clone and every fork keeps them for ever.
package secretscan

import (
	"bytes"
	"math"
	"regexp"
	"strings"
)

// Finding is one secret-looking value in a file.
type Finding struct {
	Path  string
	Line  int
	Rule  string // what it looks like
	Value string // the value found
}

// Redacted shows enough of the value to find it, but not enough to use it,
// so that test output and CI logs do not spread it further.
func (f Finding) Redacted() string {
	if len(f.Value) <= 8 {
		return strings.Repeat("*", len(f.Value))
	}
	return f.Value[:4] + "…(" + strings.Repeat("*", 3) + ")"
}

type rule struct {
	name string
	re   *regexp.Regexp // the value is the last submatch, or the whole match
	// looksReal, if set, must also accept the value: it tells random
	// values from names and prose.
	looksReal func(string) bool
}

// oauth2ProxySecret names the two secrets of oauth2-proxy's configuration,
// as environment variables, flags or configuration file keys.
const oauth2ProxySecret = `(?:OAUTH2_PROXY_(?:CLIENT|COOKIE)_SECRET|(?:client|cookie)[_-]secret)`

var rules = []rule{
	{name: "private key", re: regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----`)},
	// Entra ID client secrets: three characters, a digit, Q~, then 31 to
	// 34 more from the same alphabet.
	{name: "Entra ID client secret", re: regexp.MustCompile(`(?:^|[^A-Za-z0-9_~.-])([A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34})(?:[^A-Za-z0-9_~.-]|$)`)},
	{name: "Azure storage account key", re: regexp.MustCompile(`(?i)AccountKey=([A-Za-z0-9+/]{20,}={0,2})`)},
	// NAME=value, NAME: value, "NAME": "value", --name=value, --name value.
	{name: "oauth2-proxy secret", re: regexp.MustCompile(
		`(?m)(?:^|[\s"'{,-])` + oauth2ProxySecret + `["']?(?:[ \t]*[=:][ \t]*|[ \t]+)["']?([^\s"',}]+)`),
		looksReal: notPlaceholder},
	{name: "random value for a secret name", re: regexp.MustCompile(
		`(?i)[a-z0-9_.-]*(?:secret|passw(?:or)?d|pwd|token|api[_-]?key|access[_-]?key|private[_-]?key|credential)[a-z0-9_.-]*` +
			`["'\x60]?[ \t]*(?::=|=|:)[ \t]*["'\x60]?([A-Za-z0-9+/_=-]{20,})`),
		looksReal: random},
}

// Scan returns the secret-looking values in data, the contents of the file
// at path. A file with a NUL byte is taken as binary and skipped.
func Scan(path string, data []byte) []Finding {
	if bytes.IndexByte(data, 0) >= 0 {
		return nil
	}
	var found []Finding
	for i, line := range strings.Split(string(data), "\n") {
		seen := map[string]bool{} // a value is reported once, by the first rule
		for _, r := range rules {
			for _, m := range r.re.FindAllStringSubmatch(line, -1) {
				value := m[len(m)-1]
				if value == "" {
					value = m[0]
				}
				if seen[value] || r.looksReal != nil && !r.looksReal(value) {
					continue
				}
				seen[value] = true
				found = append(found, Finding{Path: path, Line: i + 1, Rule: r.name, Value: value})
			}
		}
	}
	return found
}

// notPlaceholder rejects the values that stand for a secret in docs and
// examples: <angle brackets>, $VARIABLES, ${...}, $(commands), %s and the
// like, and prose such as "the output of...".
func notPlaceholder(v string) bool {
	if strings.ContainsAny(v[:1], "<$%{(*`.") || strings.HasSuffix(v, ">") {
		return false
	}
	// A word of prose, a Go identifier or a field name, not a value.
	return len(v) >= 8 || strings.ContainsAny(v, "0123456789")
}

// constantName matches names such as OAUTH2_PROXY_CLIENT_ID.
var constantName = regexp.MustCompile(`^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$`)

// random accepts values that look generated: letters and digits mixed,
// with the spread of characters of a random string rather than of a name.
func random(v string) bool {
	if constantName.MatchString(v) {
		return false
	}
	digit := strings.ContainsAny(v, "0123456789")
	lower := strings.ContainsAny(v, "abcdefghijklmnopqrstuvwxyz")
	upper := strings.ContainsAny(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
	h := entropy(v)
	switch {
	case strings.Trim(strings.ToLower(v), "0123456789abcdef") == "":
		// Hex has only 16 characters to spread over.
		return digit && (lower || upper) && h >= 3
	case digit:
		return (lower || upper) && h >= 3.5
	default:
		// Without digits, only a wide spread of both cases tells a
		// random value from a CamelCase name.
		return lower && upper && h >= 3.8
	}
}

// entropy is the Shannon entropy of s in bits per character: up to 4 for
// random hex, 4 to 6 for random base64 (the longer, the more), and less
// for words.
func entropy(s string) float64 {
	counts := map[rune]float64{}
	for _, r := range s {
		counts[r]++
	}
	var h float64
	n := float64(len(s))
	for _, c := range counts {
		p := c / n
		h -= p * math.Log2(p)
	}
	return h
}

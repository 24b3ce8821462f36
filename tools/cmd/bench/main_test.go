package main

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
)

// TestSmoke runs the whole command briefly on the baseline alone. It checks
// that a report comes out, never how fast anything was.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a server")
	}
	var out strings.Builder
	args := []string{"-rounds=1", "-duration=300ms", "-connections=4", "-only=net/http", "-images=false", "-pin=false"}
	if err := run(context.Background(), args, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	report := out.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile("with `go run ./tools/cmd/bench -rounds=1 "),
		regexp.MustCompile(`(?m)^\| net/http +\| +[\d,]+ \| +1\.00× \| +[\d.]+ ms \|`),
		regexp.MustCompile(`(?m)^\| net/http +\| +[\d.]+ MiB \| +[\d.]+ MiB \| +1\.00× \| +[\d.]+ ms \| +[\d.]+ MiB \|`),
	} {
		if !want.MatchString(report) {
			t.Errorf("report does not match %s:\n%s", want, report)
		}
	}
	if strings.Contains(report, "01-local") {
		t.Errorf("-only=net/http ran other rows too:\n%s", report)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-rounds=0"},
		{"-duration=-1s"},
		{"-connections=0"},
		{"extra"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted them, want an error", args)
		}
	}
	o, err := parseFlags([]string{"-only=net/http,02-radix"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.rounds != 5 || len(o.only) != 2 || o.only[1] != "02-radix" {
		t.Errorf("parseFlags = %+v, want 5 rounds and two rows", o)
	}
}

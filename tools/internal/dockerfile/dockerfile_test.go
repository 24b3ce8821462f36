package dockerfile

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	f, err := Parse(strings.NewReader(`ARG GO_VERSION=1.26
FROM golang:${GO_VERSION} AS build
ARG STEP=02-radix
RUN go build -o /hello .
FROM scratch
COPY --from=build /hello /hello
USER 65532:65532
EXPOSE 5000
ENTRYPOINT ["/hello"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Args["STEP"] != "02-radix" || f.Args["GO_VERSION"] != "1.26" {
		t.Errorf("Args = %v, want STEP=02-radix and GO_VERSION=1.26", f.Args)
	}
	if f.FinalUser != "65532:65532" || !slices.Equal(f.FinalExpose, []string{"5000"}) {
		t.Errorf("USER %q, EXPOSE %v; want 65532:65532 and [5000]", f.FinalUser, f.FinalExpose)
	}
	if !f.ExecForm || !slices.Equal(f.FinalEntrypoint, []string{"/hello"}) {
		t.Errorf("ENTRYPOINT %q exec form %v, want [/hello] in exec form", f.FinalEntrypoint, f.ExecForm)
	}
}

func TestNumericNonRootUser(t *testing.T) {
	for user, want := range map[string]bool{
		"65532:65532": true, "1000": true, "0": false, "000": false, "root": false,
		"nonroot:nonroot": false, "": false, "0:1000": false, "1000:root": true,
	} {
		if got := NumericNonRootUser(user); got != want {
			t.Errorf("NumericNonRootUser(%q) = %v, want %v", user, got, want)
		}
	}
}

package radixconfig

import (
	"example.com/radix-tutorial/tools/internal/need"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const good = `apiVersion: radix.equinor.com/v1
kind: RadixApplication
metadata:
  name: app
spec:
  environments:
    - name: dev
      build:
        from: main
  components:
    - name: server
      src: .
      ports:
        - name: http
          port: 5000
      publicPort: http
      variables:
        GREETING: hello
`

func load(t *testing.T, yaml string) *File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "radixconfig.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func schema(t *testing.T) *Schema {
	t.Helper()
	path := need.Env(t, SchemaEnv, SchemaHelp)
	s, err := LoadSchema(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSchemaFindsMistakes(t *testing.T) {
	s := schema(t)
	if p := s.Check(load(t, good)); len(p) != 0 {
		t.Fatalf("the good config has problems: %v", p)
	}
	tests := map[string]struct{ old, new, want string }{
		"privileged port":   {"port: 5000", "port: 80", "minimum"},
		"bad port name":     {"- name: http", "- name: HTTP_PORT", "pattern"},
		"typo in a field":   {"publicPort: http", "publicPorts: http", "publicPorts is not a field"},
		"deprecated public": {"publicPort: http", "public: true", "public is deprecated"},
		"removed field":     {"  environments:", "  build:\n    useBuildKit: true\n  environments:", "useBuildKit is not a field"},
		"unquoted boolean":  {"GREETING: hello", "GREETING: true", "string"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			problems := strings.Join(s.Check(load(t, strings.Replace(good, tt.old, tt.new, 1))), "\n")
			if !strings.Contains(problems, tt.want) {
				t.Errorf("problems = %q, want one mentioning %q", problems, tt.want)
			}
		})
	}
}

func TestRulesFindWhatTheSchemaCannot(t *testing.T) {
	for _, ok := range []string{good, strings.Replace(good, "GREETING: hello", `PASS_ACCESS_TOKEN: "true"`, 1)} {
		if p := Rules(load(t, ok)); len(p) != 0 {
			t.Fatalf("a good config has problems: %v\n%s", p, ok)
		}
	}
	tests := map[string]struct{ old, new, want string }{
		"public port not in ports":  {"publicPort: http", "publicPort: web", `publicPort "web" names no port`},
		"secret value in variables": {"GREETING: hello", "OAUTH2_PROXY_CLIENT_SECRET: s3cr3t", "looks like a secret"},
		"probe on another port": {"publicPort: http", "publicPort: http\n      healthChecks:\n        readinessProbe:\n          httpGet:\n            port: 8080",
			"readiness probe uses port 8080"},
		"image without a tag":    {"src: .", "image: quay.io/oauth2-proxy/oauth2-proxy", "has no version"},
		"image tagged latest":    {"src: .", "image: localhost:5000/proxy:latest", "has no version"},
		"proxy without address":  {"GREETING: hello", "OAUTH2_PROXY_PROVIDER: oidc", "empty or missing means 127.0.0.1:4180"},
		"proxy on empty address": {"GREETING: hello", "OAUTH2_PROXY_HTTP_ADDRESS: ''", "empty or missing"},
		"proxy on loopback":      {"GREETING: hello", "OAUTH2_PROXY_HTTP_ADDRESS: http://127.0.0.1:5000", "loopback only"},
		"proxy on another port":  {"GREETING: hello", "OAUTH2_PROXY_HTTP_ADDRESS: 0.0.0.0:4180", "port 4180 is not in ports"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			problems := strings.Join(Rules(load(t, strings.Replace(good, tt.old, tt.new, 1))), "\n")
			if !strings.Contains(problems, tt.want) {
				t.Errorf("problems = %q, want one mentioning %q", problems, tt.want)
			}
		})
	}
}

func TestRulesAcceptPinnedImagesAndReachableProxies(t *testing.T) {
	for _, change := range []struct{ old, new string }{
		{"src: .", "image: quay.io/oauth2-proxy/oauth2-proxy:v7.15.6"},
		{"src: .", "image: localhost:5000/proxy@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		{"GREETING: hello", "OAUTH2_PROXY_HTTP_ADDRESS: 0.0.0.0:5000"},
		{"GREETING: hello", "OAUTH2_PROXY_HTTP_ADDRESS: http://:5000"},
		{"GREETING: hello", "OAUTH2_PROXY_HTTP_ADDRESS: HTTP://[::]:5000"},
	} {
		if p := Rules(load(t, strings.Replace(good, change.old, change.new, 1))); len(p) != 0 {
			t.Errorf("with %q: problems %v, want none", change.new, p)
		}
	}
}

package signin

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"example.com/radix-tutorial/tools/internal/radixconfig"
)

// ProxyComponent is the radixconfig component that runs oauth2-proxy.
const ProxyComponent = "auth-proxy"

// proxyModuleDir is the Go module that pins the oauth2-proxy version. It is
// kept out of go.work, so that oauth2-proxy's hundred-odd dependencies do not
// raise the versions the steps are built and tested with.
const proxyModuleDir = "tools/oauth2-proxy"

const proxyModulePath = "github.com/oauth2-proxy/oauth2-proxy/v7"

// ProxyVersion returns the oauth2-proxy version that tools/oauth2-proxy pins,
// such as v7.15.6.
func ProxyVersion(ctx context.Context, root string) (string, error) {
	out, err := goCmd(ctx, filepath.Join(root, proxyModuleDir), "list", "-m", "-f", "{{.Version}}", proxyModulePath)
	return strings.TrimSpace(out), err
}

// ProxyBinary returns the path of the oauth2-proxy that tools/oauth2-proxy
// pins, building it first if the build cache does not hold it yet; that
// first build takes a minute or more. Run the binary itself, not `go tool`:
// go would run it as a child, which a SIGKILL sent to go leaves running.
func ProxyBinary(ctx context.Context, root string) (string, error) {
	out, err := goCmd(ctx, filepath.Join(root, proxyModuleDir), "tool", "-n", "oauth2-proxy")
	return strings.TrimSpace(out), err
}

// BuildServer builds steps/<step> on its own, as the Dockerfile does, into
// dir and returns the binary's path.
func BuildServer(ctx context.Context, root, step, dir string) (string, error) {
	bin := filepath.Join(dir, step+"-server")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	_, err := goCmd(ctx, filepath.Join(root, "steps", step), "build", "-o", bin, ".")
	return bin, err
}

// goCmd runs the go command in dir with the workspace off, so that each
// module is built with exactly the versions its own go.mod names.
func goCmd(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s in %s: %w\n%s", strings.Join(args, " "), dir, err, stderr.Bytes())
	}
	return string(out), nil
}

// Local is what differs on this machine from Radix and Entra ID.
type Local struct {
	Issuer, ClientID, ClientSecret string
	ProxyAddr                      string // host:port oauth2-proxy listens on
	ServerURL                      string // the step server, oauth2-proxy's upstream
}

// Setting is one environment variable of oauth2-proxy.
type Setting struct {
	Name, Value string
	Radix       string // its value in radixconfig.yaml, if any
	Why         string // why it differs locally
	Secret      bool   // a Radix secret: do not print the value
}

// ProxyEnv returns the environment variables of the auth-proxy component in
// the radixconfig at path, as Radix sets them, with the local differences
// applied; changes lists those differences.
func ProxyEnv(path string, local Local) (env []string, changes []Setting, err error) {
	f, err := radixconfig.Load(path)
	if err != nil {
		return nil, nil, err
	}
	i := slices.IndexFunc(f.App.Spec.Components, func(c radixconfig.Component) bool { return c.Name == ProxyComponent })
	if i < 0 {
		return nil, nil, fmt.Errorf("%s: no component named %s", path, ProxyComponent)
	}
	c := f.App.Spec.Components[i]
	vars := map[string]string{}
	for name, value := range c.Variables {
		vars[name] = fmt.Sprint(value)
	}

	cookieSecret := make([]byte, 32)
	rand.Read(cookieSecret)
	changes = []Setting{
		{Name: "OAUTH2_PROXY_OIDC_ISSUER_URL", Value: local.Issuer, Why: "the local provider instead of Entra ID"},
		{Name: "OAUTH2_PROXY_CLIENT_ID", Value: local.ClientID, Why: "the local provider's client"},
		{Name: "OAUTH2_PROXY_CLIENT_SECRET", Value: local.ClientSecret, Why: "made up for this run", Secret: true},
		{Name: "OAUTH2_PROXY_COOKIE_SECRET", Value: base64.URLEncoding.EncodeToString(cookieSecret), Why: "random for this run", Secret: true},
		{Name: "OAUTH2_PROXY_REDIRECT_URL", Value: "http://" + local.ProxyAddr + "/oauth2/callback", Why: "this machine instead of the Radix host name"},
		{Name: "OAUTH2_PROXY_UPSTREAMS", Value: local.ServerURL, Why: "the server on this machine instead of the server component"},
		{Name: "OAUTH2_PROXY_HTTP_ADDRESS", Value: local.ProxyAddr, Why: "loopback only"},
	}
	if scope, ok := vars["OAUTH2_PROXY_SCOPE"]; ok {
		kept, dropped := splitScopes(scope)
		if len(dropped) > 0 {
			changes = append(changes, Setting{Name: "OAUTH2_PROXY_SCOPE", Value: strings.Join(kept, " "),
				Why: "the local provider rejects " + strings.Join(dropped, ", ") + " with invalid_scope"})
		}
	}

	for _, name := range c.Secrets {
		if !slices.ContainsFunc(changes, func(s Setting) bool { return s.Name == name }) {
			return nil, nil, fmt.Errorf("%s: component %s has a secret %s that has no local value", path, ProxyComponent, name)
		}
	}
	for i := range changes {
		changes[i].Radix = vars[changes[i].Name]
		vars[changes[i].Name] = changes[i].Value
	}

	// Settings from the caller's shell would silently override the file.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OAUTH2_PROXY_") {
			env = append(env, kv)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		env = append(env, name+"="+vars[name])
	}
	return env, changes, nil
}

// splitScopes separates the scopes the local provider accepts from those
// it would reject.
func splitScopes(scope string) (kept, dropped []string) {
	for _, s := range strings.Fields(scope) {
		if slices.Contains(ProviderScopes, s) {
			kept = append(kept, s)
		} else {
			dropped = append(dropped, s)
		}
	}
	return kept, dropped
}

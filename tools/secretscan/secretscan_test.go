package secretscan

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"example.com/radix-tutorial/tools/internal/need"
	"example.com/radix-tutorial/tools/internal/repo"
)

// allowed are the secret-looking values the repository holds on purpose,
// each a made-up value that a test needs written down.
var allowed = []struct{ path, value, why string }{
	{"tools/internal/radixconfig/radixconfig_test.go", "s3cr3t",
		"a made-up value that the radixconfig rules must refuse to see in variables"},
}

// TestRepositoryHoldsNoSecrets scans every file git tracks, and every new
// file it would add, for values that look like credentials.
func TestRepositoryHoldsNoSecrets(t *testing.T) {
	git := need.Command(t, "git", "apt-get install git")
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(git, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	files := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(files) < 10 {
		t.Fatalf("git lists %d files, want the whole repository", len(files))
	}
	used := map[string]bool{}
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(root, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range Scan(name, data) {
			if why := allowedWhy(f); why != "" {
				used[f.Path+f.Value] = true
				continue
			}
			t.Errorf("%s:%d: %s %s; if it is real, revoke it, remove it and keep it in the Radix Web Console instead",
				f.Path, f.Line, f.Rule, f.Redacted())
		}
	}
	for _, a := range allowed {
		if !used[a.path+a.value] {
			t.Errorf("the allowed value in %s is no longer there: remove it from the allowed list", a.path)
		}
	}
}

func allowedWhy(f Finding) string {
	for _, a := range allowed {
		if a.path == filepath.ToSlash(f.Path) && a.value == f.Value {
			return a.why
		}
	}
	return ""
}

// TestScanFindsPlantedSecrets plants secrets made up at run time, in the
// shapes they take in real files, and checks that each is found; and that
// the placeholders the docs use are not. No secret-looking value is
// written in this file, so the repository scan does not trip on it.
func TestScanFindsPlantedSecrets(t *testing.T) {
	key := privateKeyPEM(t)
	entra := randomFrom(t, 3, entraAlphabet) + "8Q~" + randomFrom(t, 34, entraAlphabet)
	accountKey := base64.StdEncoding.EncodeToString(randomBytes(t, 64))
	cookieSecret := base64.URLEncoding.EncodeToString(randomBytes(t, 32))
	hexToken := hex.EncodeToString(randomBytes(t, 20))
	b64Password := base64.RawStdEncoding.EncodeToString(randomBytes(t, 32))
	// Short values count when they hold a digit; words of prose do not.
	short := hexToken[:5] + "0"

	planted := []struct {
		name, text, rule, value string
	}{
		{"PEM private key", "config:\n" + key, "private key", "-----BEGIN " + "PRIVATE KEY-----"},
		{"Entra ID secret in YAML", "  clientSecret: " + entra + "\n", "Entra ID client secret", entra},
		{"Entra ID secret in a URL", "https://example.com/?s=" + entra + "&x=1", "Entra ID client secret", entra},
		{"storage connection string", "DefaultEndpointsProtocol=https;AccountName=demo;AccountKey=" + accountKey + ";EndpointSuffix=core.windows.net",
			"Azure storage account key", accountKey},
		{"oauth2-proxy env", "export OAUTH2_PROXY_COOKIE_SECRET=" + cookieSecret, "oauth2-proxy secret", cookieSecret},
		{"oauth2-proxy env, short", "OAUTH2_PROXY_CLIENT_SECRET=" + short, "oauth2-proxy secret", short},
		{"oauth2-proxy in radixconfig variables", "        OAUTH2_PROXY_CLIENT_SECRET: \"" + hexToken + "\"", "oauth2-proxy secret", hexToken},
		{"oauth2-proxy flag", "oauth2-proxy --cookie-secret " + cookieSecret + " --upstream=x", "oauth2-proxy secret", cookieSecret},
		{"oauth2-proxy config file", "cookie_secret = \"" + cookieSecret + "\"", "oauth2-proxy secret", cookieSecret},
		{"hex token in Go", "const apiToken = \"" + hexToken + "\"", "random value for a secret name", hexToken},
		{"password in YAML", "db_password: " + b64Password, "random value for a secret name", b64Password},
		{"JSON access key", `{"accessKey": "` + b64Password + `"}`, "random value for a secret name", b64Password},
	}
	for _, p := range planted {
		found := Scan("planted", []byte(p.text))
		ok := false
		for _, f := range found {
			if f.Rule == p.rule && f.Value == p.value {
				ok = true
			} else {
				t.Errorf("%s: found %s %s as well", p.name, f.Rule, f.Redacted())
			}
		}
		if !ok {
			t.Errorf("%s: the scan missed the %s", p.name, p.rule)
		}
		if r := (Finding{Value: p.value}).Redacted(); len(p.value) > 8 && strings.Contains(r, p.value[4:]) {
			t.Errorf("%s: Redacted() = %q shows the value", p.name, r)
		}
	}

	placeholders := []string{
		"        OAUTH2_PROXY_CLIENT_ID: \"<client-id>\"",
		"      secrets:\n        - OAUTH2_PROXY_CLIENT_SECRET\n        - OAUTH2_PROXY_COOKIE_SECRET",
		"OAUTH2_PROXY_COOKIE_SECRET=<the output of the command above>",
		"OAUTH2_PROXY_COOKIE_SECRET=$(openssl rand -base64 32 | tr -- '+/' '-_')",
		"OAUTH2_PROXY_CLIENT_SECRET=${CLIENT_SECRET}",
		"--client-secret=%s",
		"- `OAUTH2_PROXY_CLIENT_SECRET`: the client secret's Value from Entra ID;",
		"The cookie-secret is the key that encrypts the cookie.",
		"OAUTH2_PROXY_CLIENT_SECRET is a secret",
		`{Name: "OAUTH2_PROXY_COOKIE_SECRET", Value: base64.URLEncoding.EncodeToString(cookieSecret), Secret: true},`,
		"m.ClientSecret = rand.Text()",
		"var secretName = regexp.MustCompile(`(?i)(secret|password|token)`)",
		"token := req.Header.Get(\"X-Forwarded-Access-Token\")",
		"password: OAUTH2_PROXY_PASSWORD_FROM_CONSOLE",
		"h1:" + b64Password + "=",
	}
	for _, text := range placeholders {
		for _, f := range Scan("placeholder", []byte(text)) {
			t.Errorf("%q: found %s %q, but it is a placeholder", text, f.Rule, f.Value)
		}
	}
}

func TestScanSkipsBinaryFiles(t *testing.T) {
	data := append([]byte("\x00\x01"), privateKeyPEM(t)...)
	if found := Scan("binary", data); len(found) != 0 {
		t.Errorf("Scan of a binary file = %v, want nothing", found)
	}
}

const entraAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_~.-"

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func randomFrom(t *testing.T, n int, alphabet string) string {
	t.Helper()
	var s strings.Builder
	for _, b := range randomBytes(t, n) {
		s.WriteByte(alphabet[int(b)%len(alphabet)])
	}
	return s.String()
}

// privateKeyPEM makes a new key, as a careless commit would hold one.
func privateKeyPEM(t *testing.T) string {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

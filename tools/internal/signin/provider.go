package signin

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"syscall"

	"github.com/oauth2-proxy/mockoidc"

	"example.com/radix-tutorial/tools/internal/freeport"
)

// User is who the local provider signs in. Entra ID would take these from
// the organisation's directory.
type User struct {
	Subject           string // the sub claim; oauth2-proxy passes it as X-Forwarded-User
	Email             string
	PreferredUsername string
	Groups            []string
}

// Ada is the user the local run signs in by default.
var Ada = User{
	Subject:           "ada-lovelace",
	Email:             "ada.lovelace@example.com",
	PreferredUsername: "ada",
}

func (u User) String() string {
	return fmt.Sprintf("%s (email %s, subject %s)", u.PreferredUsername, u.Email, u.Subject)
}

func (u User) mock() *mockoidc.MockUser {
	return &mockoidc.MockUser{
		Subject:           u.Subject,
		Email:             u.Email,
		EmailVerified:     true,
		PreferredUsername: u.PreferredUsername,
		Groups:            u.Groups,
	}
}

// Provider is a local OpenID Connect provider that stands in for Entra ID.
// It has no sign-in page: each authorization request signs in the next
// queued user at once, or the default user when none is queued.
type Provider struct {
	oidc        *mockoidc.MockOIDC
	addr        string
	defaultUser User
	// mockoidc keeps its sessions in a map without a lock, so requests
	// are served one at a time.
	serial sync.Mutex
}

// ProviderScopes are the scopes the local provider accepts; it answers
// any other, such as offline_access, with invalid_scope.
var ProviderScopes = mockoidc.ScopesSupported

// StartProvider starts a provider on addr (host:port) that signs in
// defaultUser unless another user is queued.
func StartProvider(addr string, defaultUser User) (*Provider, error) {
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		return nil, err
	}
	// The client credentials are made up per run, like the cookie secret,
	// so none is ever written down.
	m.ClientID = "local-" + rand.Text()[:8]
	m.ClientSecret = rand.Text()
	ln, err := listen(addr)
	if err != nil {
		return nil, err
	}
	p := &Provider{oidc: m, addr: ln.Addr().String(), defaultUser: defaultUser}
	if err := m.AddMiddleware(p.serve); err != nil {
		ln.Close()
		return nil, err
	}
	if err := m.Start(ln, nil); err != nil {
		ln.Close()
		return nil, err
	}
	return p, nil
}

func (p *Provider) serve(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.serial.Lock()
		defer p.serial.Unlock()
		if r.URL.Path == mockoidc.AuthorizationEndpoint {
			q := p.oidc.UserQueue
			q.Lock()
			if len(q.Queue) == 0 {
				q.Queue = append(q.Queue, p.defaultUser.mock())
			}
			q.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// QueueUser makes u the user of the next sign-in instead of the default.
func (p *Provider) QueueUser(u User) { p.oidc.QueueUser(u.mock()) }

// Issuer is the issuer URL, the local OAUTH2_PROXY_OIDC_ISSUER_URL.
func (p *Provider) Issuer() string { return p.oidc.Issuer() }

// Addr is the host:port the provider listens on.
func (p *Provider) Addr() string { return p.addr }

// ClientID and ClientSecret are the credentials oauth2-proxy must present.
func (p *Provider) ClientID() string     { return p.oidc.ClientID }
func (p *Provider) ClientSecret() string { return p.oidc.ClientSecret }

// Close stops the provider.
func (p *Provider) Close() error { return p.oidc.Shutdown() }

// listen listens on addr and says plainly when the port is taken.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, portError(addr, err)
	}
	return ln, nil
}

func portError(addr string, err error) error {
	_, port, _ := net.SplitHostPort(addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("port %s is in use: %w", port, err)
	}
	return fmt.Errorf("cannot listen on %s: %w", addr, err)
}

// checkFree fails when addr cannot be listened on, so that a taken port is
// reported before a child process starts and fails with a vaguer message.
func checkFree(addr string) error {
	ln, err := listen(addr)
	if err != nil {
		return err
	}
	return ln.Close()
}

// FreeAddr returns a loopback address with a port that is free now.
func FreeAddr() (string, error) { return freeport.Addr() }

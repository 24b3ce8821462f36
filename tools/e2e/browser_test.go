package e2e

import (
	"bytes"
	"context"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"example.com/radix-tutorial/tools/internal/need"
	"example.com/radix-tutorial/tools/internal/repo"
	"example.com/radix-tutorial/tools/internal/signin"
)

var update = flag.Bool("update", false, "write the browser test's screenshot to "+screenshotPath)

// screenshotPath is the screenshot in the docs, relative to the repository
// root. go test ./tools/e2e -run Browser -update rewrites it.
const screenshotPath = "docs/images/03-signed-in.png"

func TestBrowserSignIn(t *testing.T) {
	need.Command(t, "chromium", "apt-get install chromium")
	t.Parallel()
	s := startStack(t)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	ctx, cancel = chromedp.NewExecAllocator(ctx,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // running as root, as in CI containers
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		// Nothing but the sign-in may use the network.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(800, 450),
	)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()

	began := time.Now()
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	started := time.Now()
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL()),
		chromedp.WaitVisible(chromedp.CSS("a[href='/oauth2/sign_out']")),
	)
	if err != nil {
		t.Fatalf("signing in with Chromium: %v", err)
	}
	t.Logf("Chromium started in %s; signing in took %s", started.Sub(began), time.Since(started))
	location, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if location != s.URL() {
		t.Errorf("the browser ended at %s, want %s", location, s.URL())
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	assertShows(t, text, signin.Ada)
	cookie, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.cookie"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cookie, "_oauth2_proxy") {
		t.Errorf("page scripts can read the session cookie (%q); it must be HttpOnly", cookie)
	}

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 gives a PNG
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.DecodeConfig(bytes.NewReader(shot)); err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}

	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	committed := filepath.Join(root, screenshotPath)
	if *update {
		if err := os.WriteFile(committed, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", screenshotPath)
	} else {
		tmp := filepath.Join(t.TempDir(), "03-signed-in.png")
		if err := os.WriteFile(tmp, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(committed)
	if err != nil {
		t.Fatalf("%v; create it with: go test ./tools/e2e -run Browser -update", err)
	}
	defer f.Close()
	if _, err := png.DecodeConfig(f); err != nil {
		t.Errorf("%s is not a PNG: %v", screenshotPath, err)
	}
}

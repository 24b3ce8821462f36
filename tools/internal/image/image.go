// Package image prepares a machine to build and run the tutorial's root
// Dockerfile with podman, as a learner would type it from the repository
// root: podman build -t radix-tutorial . and podman run radix-tutorial.
//
// The tests run where no container registry can be reached, so the two base
// images the Dockerfile names cannot be pulled. Env makes stand-ins under
// the same names from the machine's own files instead:
//
//   - docker.io/library/golang:1.26 holds the machine's Go toolchain in
//     /usr/local/go, a static busybox as /bin/sh and the usual commands,
//     the CA certificates, /etc/passwd and /etc/group, and sets PATH,
//     GOPATH=/go, GOTOOLCHAIN=local and WORKDIR /go like the official
//     image. Unlike it, it also holds the modules that the steps' go.sum
//     files list, as a module proxy on disk in /usr/local/share/go-proxy
//     that GOPROXY points at: the build's go mod download then works
//     offline. Env fetches those modules on the machine, from its module
//     cache or through its own GOPROXY. It also holds a Go build cache with
//     the standard library and those modules compiled as the Dockerfile
//     compiles them (CGO_ENABLED=0, -trimpath), so that a build takes
//     seconds instead of minutes on a small machine; the binaries are the
//     same, byte for byte.
//   - gcr.io/distroless/static-debian12:nonroot holds /etc/passwd and
//     /etc/group with the user and group nonroot (65532), the CA
//     certificates, /tmp and /home/nonroot, and sets USER 65532:65532,
//     WORKDIR /home/nonroot, PATH and SSL_CERT_FILE like the real image.
//     It lacks the real one's time zone data and os-release, so images
//     built on it are about 2 MB smaller than on Radix.
//
// Podman's own settings go to a containers.conf, because its defaults fail
// on such machines: the runtime is runc, as crun refuses hybrid cgroups;
// containers get nofile and nproc limits of 1024, as podman's defaults are
// above hard limits that a process without CAP_SYS_RESOURCE cannot raise;
// and containers share the host's network, so that no bridge with private
// addresses is set up and a server listening on 127.0.0.1 stays on
// loopback. Builds run RUN steps with chroot isolation, as Radix's builder
// does.
//
// Everything lives in one folder in the user's cache directory
// (radix-tutorial-images), apart from podman's run-time state, and is
// made once per machine: later calls, from any test binary, find it ready
// and only check that it is still up to date. Env needs root, as CI has:
// podman without root needs subordinate user ids set up, which it does not
// do.
package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"example.com/radix-tutorial/tools/internal/need"
	"example.com/radix-tutorial/tools/internal/repo"
)

// The base images, named as the root Dockerfile names them.
const (
	Golang     = "docker.io/library/golang:1.26"
	Distroless = "gcr.io/distroless/static-debian12:nonroot"
)

// NonRoot is the user and group id of distroless's nonroot user.
const NonRoot = 65532

// recipe changes whenever the way the stand-ins are made changes, so that
// machines remake them.
const recipe = "3"

const (
	install    = "apt-get install podman buildah runc busybox-static ca-certificates"
	caBundle   = "/etc/ssl/certs/ca-certificates.crt"
	goProxyDir = "/usr/local/share/go-proxy"
	// toolchain is the golang stand-in without the modules, kept so that a
	// change to a go.sum only adds a small layer on top of it.
	toolchain = "localhost/radix-tutorial-stand-in/go-toolchain"
)

var (
	mu       sync.Mutex
	prepared []string
)

// Env returns the environment variables, as KEY=value, that make podman
// and buildah build and run the root Dockerfile on this machine; append
// them to os.Environ(). They are CONTAINERS_CONF, CONTAINERS_STORAGE_CONF
// and BUILDAH_ISOLATION. The first call on a machine makes the stand-in
// base images, which takes up to a minute; later calls, from this or
// any other test binary, wait for a call in progress and then reuse its
// work, and they remake what is out of date when the Go toolchain or a
// step's modules change. Env skips the test (fails it under CI) when
// podman or its helpers are missing.
func Env(t testing.TB) []string {
	t.Helper()
	for _, cmd := range []string{"podman", "buildah", "runc"} {
		need.Command(t, cmd, install)
	}
	if os.Geteuid() != 0 {
		need.Missing(t, "root, which podman needs here,", "run the tests as root, as .ci/run does: sudo -E ./test.sh")
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil || !static(busybox) {
		need.Missing(t, "a statically linked busybox, the stand-in Go image's shell,", "apt-get install busybox-static")
	}
	if _, err := os.Stat(caBundle); err != nil {
		need.Missing(t, "the CA certificates "+caBundle, "apt-get install ca-certificates")
	}
	out, err := command(nil, "go", "env", "-json", "GOROOT", "GOVERSION", "GOMODCACHE", "GOPROXY")
	var g goEnv
	if err == nil {
		err = json.Unmarshal([]byte(out), &g)
	}
	if err != nil {
		t.Fatalf("asking go about this machine's Go: %v", err)
	}
	// The stand-in holds this machine's Go, so it must be the Go its name says.
	tag := Golang[strings.LastIndex(Golang, ":")+1:]
	if v := strings.TrimPrefix(g.GOVERSION, "go"); v != tag && !strings.HasPrefix(v, tag+".") {
		need.Missing(t, "Go "+tag+" (this machine has "+g.GOVERSION+"), the Go of the stand-in "+Golang+",", "https://go.dev/dl/")
	}

	mu.Lock()
	defer mu.Unlock()
	if prepared == nil {
		env, err := prepare(g, busybox)
		if err != nil {
			t.Fatalf("preparing podman and the stand-in base images: %v", err)
		}
		prepared = env
	}
	return slices.Clone(prepared)
}

// static reports whether the program at path needs no dynamic loader, so
// that it runs in an image without a C library.
func static(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return !slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP })
}

// goEnv is what the stand-in Go image needs to know about the machine's Go.
type goEnv struct {
	GOROOT, GOVERSION, GOMODCACHE, GOPROXY string
}

func prepare(g goEnv, busybox string) ([]string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cache, "radix-tutorial-images")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// One preparation at a time per machine: test binaries run in parallel.
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("locking %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	env, err := writeConfig(dir)
	if err != nil {
		return nil, err
	}

	b := &builder{env: append(os.Environ(), env...), dir: dir, state: filepath.Join(dir, "stand-ins.json")}
	tc := toolchain + ":" + strings.TrimPrefix(g.GOVERSION, "go")
	tools := hash(recipe, g.GOVERSION, g.GOROOT, file(busybox), file(caBundle))
	modules, err := moduleFiles()
	if err != nil {
		return nil, err
	}
	for _, img := range []struct {
		name, inputs string
		build        func() (string, error)
	}{
		{tc, tools, func() (string, error) { return b.toolchain(tc, g, busybox) }},
		{Golang, hash(append([]string{tools}, modules...)...), func() (string, error) { return b.golang(tc, g) }},
		{Distroless, hash(recipe, file(caBundle)), b.distroless},
	} {
		if err := b.ensure(img.name, img.inputs, img.build); err != nil {
			return nil, fmt.Errorf("%s: %w", img.name, err)
		}
	}
	return env, nil
}

// writeConfig writes containers.conf and storage.conf into dir and returns
// the variables that point podman and buildah at them.
func writeConfig(dir string) ([]string, error) {
	// Podman's run-time state belongs where a reboot clears it, in a folder
	// of this storage's own: root may have other cache folders, as sudo -E
	// keeps the user's HOME. Podman remembers the folders its storage was
	// made with, so a change of these paths needs a new storage folder.
	run := filepath.Join("/run", "radix-tutorial-images", hash(dir)[:12])
	driver := "overlay"
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err == nil && fs.Type == 0x794c7630 {
		driver = "vfs" // overlay cannot stack on overlayfs, as in a container
	}
	containers := fmt.Sprintf(`[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "host"
log_driver = "k8s-file"

[engine]
runtime = "runc"
tmp_dir = %q
`, filepath.Join(run, "libpod"))
	storage := fmt.Sprintf(`[storage]
driver = %q
graphroot = %q
runroot = %q
`, driver, filepath.Join(dir, driver), filepath.Join(run, "storage"))

	files := map[string]string{"containers.conf": containers, "storage.conf": storage}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if old, err := os.ReadFile(path); err == nil && string(old) == content {
			continue
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return nil, err
		}
	}
	return []string{
		"CONTAINERS_CONF=" + filepath.Join(dir, "containers.conf"),
		"CONTAINERS_STORAGE_CONF=" + filepath.Join(dir, "storage.conf"),
		"BUILDAH_ISOLATION=chroot",
	}, nil
}

// moduleFiles returns, for each step, its name and the contents of its
// go.mod and go.sum: what decides which modules the Go stand-in holds.
func moduleFiles() ([]string, error) {
	root, err := repo.Root()
	if err != nil {
		return nil, err
	}
	steps, err := repo.Steps(root)
	if err != nil {
		return nil, err
	}
	var parts []string
	for _, step := range steps {
		parts = append(parts, step)
		for _, name := range []string{"go.mod", "go.sum"} {
			parts = append(parts, file(filepath.Join(root, "steps", step, name)))
		}
	}
	return parts, nil
}

// builder makes the stand-in images and remembers what it made them from.
type builder struct {
	env   []string
	dir   string
	state string // a JSON file: image name -> made
}

type made struct {
	Inputs string // hash of what the image was made from
	ID     string
}

// ensure makes the image called name unless the one in storage was made
// from the same inputs.
func (b *builder) ensure(name, inputs string, build func() (string, error)) error {
	state := map[string]made{}
	if data, err := os.ReadFile(b.state); err == nil {
		_ = json.Unmarshal(data, &state) // a damaged file only costs a remake
	}
	old, _ := command(b.env, "podman", "image", "inspect", "--format", "{{.Id}}", name)
	old = strings.TrimSpace(old)
	if m, ok := state[name]; ok && m.Inputs == inputs && m.ID == old {
		return nil
	}
	id, err := build()
	if err != nil {
		return err
	}
	if old != "" && old != id {
		// It may still be the base of cached build layers; then it stays.
		command(b.env, "podman", "rmi", old)
	}
	state[name] = made{Inputs: inputs, ID: id}
	data, err := json.MarshalIndent(state, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(b.state, data, 0o600)
}

// copySpec copies a folder, or a tar archive's contents, from the machine
// into an image.
type copySpec struct {
	from, to string
}

// image builds an image with buildah from base: it copies files in, sets
// config, and commits the result as name. It returns the image id.
func (b *builder) image(base, name string, copies []copySpec, config []string) (id string, err error) {
	ctr, err := command(b.env, "buildah", "from", "--pull=never", "--quiet", base)
	if err != nil {
		return "", err
	}
	ctr = strings.TrimSpace(ctr)
	defer func() {
		if err != nil {
			command(b.env, "buildah", "rm", ctr)
		}
	}()
	for _, c := range copies {
		// add unpacks an archive; copy would copy it as a file.
		verb := "copy"
		if strings.HasSuffix(c.from, ".tar") {
			verb = "add"
		}
		if _, err := command(b.env, "buildah", verb, "--quiet", ctr, c.from, c.to); err != nil {
			return "", err
		}
	}
	if _, err := command(b.env, "buildah", append(append([]string{"config"}, config...), ctr)...); err != nil {
		return "", err
	}
	out, err := command(b.env, "buildah", "commit", "--quiet", "--rm", ctr, name)
	return strings.TrimSpace(out), err
}

func (b *builder) toolchain(name string, g goEnv, busybox string) (string, error) {
	applets, err := command(nil, busybox, "--list")
	if err != nil {
		return "", err
	}
	l := b.layer()
	defer l.remove()
	l.dir("bin", 0o755, 0)
	l.copy("bin/busybox", busybox, 0o755)
	for _, applet := range strings.Fields(applets) {
		if applet != "busybox" {
			l.link("bin/"+applet, "busybox")
		}
	}
	l.dir("etc", 0o755, 0)
	l.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
	l.file("etc/group", "root:x:0:\nnogroup:x:65534:\n")
	l.certificates()
	l.dir("root", 0o700, 0)
	l.dir("tmp", 0o1777, 0)
	// As in the official image: any user may use GOPATH.
	for _, dir := range []string{"go", "go/bin", "go/src"} {
		l.dir(dir, 0o1777, 0)
	}
	if err := l.close(); err != nil {
		return "", err
	}
	return b.image("scratch", name, []copySpec{
		{from: g.GOROOT, to: "/usr/local/go"},
		{from: l.path, to: "/"},
	}, []string{
		"--env", "PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"--env", "GOLANG_VERSION=" + strings.TrimPrefix(g.GOVERSION, "go"),
		"--env", "GOTOOLCHAIN=local",
		"--env", "GOPATH=/go",
		"--workingdir", "/go",
	})
}

// golang adds to the toolchain image a module proxy holding what each
// step's go mod download fetches, taken from the machine's module cache
// where it can be, and from the machine's GOPROXY where not, and a build
// cache filled by building each step.
func (b *builder) golang(toolchain string, g goEnv) (string, error) {
	root, err := repo.Root()
	if err != nil {
		return "", err
	}
	steps, err := repo.Steps(root)
	if err != nil {
		return "", err
	}
	work, err := os.MkdirTemp(b.dir, "go-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	modcache, gocache := filepath.Join(work, "mod"), filepath.Join(work, "cache")
	local := url.URL{Scheme: "file", Path: filepath.Join(g.GOMODCACHE, "cache", "download")}
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-modcacherw -buildvcs=false", "GOTOOLCHAIN=local",
		"CGO_ENABLED=0", "GOMODCACHE="+modcache, "GOCACHE="+gocache, "GOPROXY="+local.String()+","+g.GOPROXY)
	for _, step := range steps {
		dir := filepath.Join(root, "steps", step)
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
			continue
		}
		if _, err := commandIn(dir, env, "go", "mod", "download"); err != nil {
			return "", fmt.Errorf("step %s: %w", step, err)
		}
		// A step that does not compile still gets its modules; the image
		// build will show the error.
		commandIn(dir, env, "go", "build", "-trimpath", "-o", os.DevNull, ".")
	}
	proxy := filepath.Join(modcache, "cache", "download")
	if err := os.RemoveAll(filepath.Join(proxy, "sumdb")); err != nil {
		return "", err
	}
	if err := os.MkdirAll(proxy, 0o755); err != nil { // no step needs a module
		return "", err
	}
	if err := os.MkdirAll(gocache, 0o755); err != nil {
		return "", err
	}
	return b.image(toolchain, Golang, []copySpec{
		{from: proxy, to: goProxyDir},
		{from: gocache, to: "/root/.cache/go-build"},
	}, []string{
		"--env", "GOPROXY=file://" + goProxyDir,
	})
}

func (b *builder) distroless() (string, error) {
	l := b.layer()
	defer l.remove()
	l.dir("etc", 0o755, 0)
	l.file("etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"+
		fmt.Sprintf("nonroot:x:%[1]d:%[1]d:nonroot:/home/nonroot:/sbin/nologin\n", NonRoot))
	l.file("etc/group", fmt.Sprintf("root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:%d:\n", NonRoot))
	l.certificates()
	l.dir("home", 0o755, 0)
	l.dir("home/nonroot", 0o700, NonRoot)
	l.dir("tmp", 0o1777, 0)
	if err := l.close(); err != nil {
		return "", err
	}
	return b.image("scratch", Distroless, []copySpec{{from: l.path, to: "/"}}, []string{
		"--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"--env", "SSL_CERT_FILE=" + caBundle,
		"--user", fmt.Sprintf("%d:%d", NonRoot, NonRoot),
		"--workingdir", "/home/nonroot",
	})
}

// layer is a tar archive of files for an image. Written by hand rather
// than copied from a folder, it keeps exact modes, such as /tmp's sticky
// bit, and owners, such as nonroot's home, whoever runs the tests. The
// first error is kept and returned by close.
type layer struct {
	path string
	f    *os.File
	w    *tar.Writer
	err  error
}

func (b *builder) layer() *layer {
	f, err := os.CreateTemp(b.dir, "layer-*.tar")
	if err != nil {
		return &layer{err: err}
	}
	return &layer{path: f.Name(), f: f, w: tar.NewWriter(f)}
}

func (l *layer) add(h *tar.Header, body io.Reader) {
	if l.err != nil {
		return
	}
	if l.err = l.w.WriteHeader(h); l.err == nil && body != nil {
		_, l.err = io.Copy(l.w, body)
	}
}

func (l *layer) dir(name string, mode int64, owner int) {
	l.add(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: owner, Gid: owner}, nil)
}

func (l *layer) file(name, content string) {
	l.add(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(content))}, strings.NewReader(content))
}

func (l *layer) link(name, target string) {
	l.add(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}, nil)
}

// copy adds the machine's file from as name.
func (l *layer) copy(name, from string, mode int64) {
	if l.err != nil {
		return
	}
	f, err := os.Open(from)
	if err != nil {
		l.err = err
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		l.err = err
		return
	}
	l.add(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: info.Size()}, f)
}

// certificates adds the machine's CA bundle where Debian keeps it.
func (l *layer) certificates() {
	for _, dir := range []string{"etc/ssl", "etc/ssl/certs"} {
		l.dir(dir, 0o755, 0)
	}
	l.copy(strings.TrimPrefix(caBundle, "/"), caBundle, 0o644)
}

func (l *layer) close() error {
	if l.w != nil {
		if err := l.w.Close(); l.err == nil {
			l.err = err
		}
		if err := l.f.Close(); l.err == nil {
			l.err = err
		}
	}
	return l.err
}

func (l *layer) remove() {
	if l.f != nil {
		l.f.Close()
		os.Remove(l.path)
	}
}

// file returns a hash of the file at path, or of the error reading it, so
// that a file that appears or goes away changes the inputs too.
func file(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "error: " + err.Error()
	}
	return hash(string(data))
}

func hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// command runs a program with env (nil: this process's environment) and
// returns its standard output; an error carries its standard error.
func command(env []string, name string, args ...string) (string, error) {
	return commandIn("", env, name, args...)
}

func commandIn(dir string, env []string, name string, args ...string) (string, error) {
	// Generous: copying the Go toolchain into an image takes half a minute
	// on a quiet machine.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

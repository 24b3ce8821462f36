// Package docs checks that the tutorial's pages (README.md and docs/*.md)
// tell the truth: the code they show is the code in the repository, the
// commands they show run and print what the pages say, and their links lead
// somewhere. The conventions are described in tools/internal/docsync.
package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"example.com/radix-tutorial/tools/internal/docsync"
	"example.com/radix-tutorial/tools/internal/repo"
)

// root is the repository root, found once for all tests.
var root = repo.MustRoot()

func pages(t *testing.T) []string {
	t.Helper()
	ps, err := docsync.Pages(root)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func read(t *testing.T, page string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, page))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func parse(t *testing.T, page string) []docsync.Block {
	t.Helper()
	blocks, err := docsync.Parse(page, read(t, page))
	if err != nil {
		t.Fatal(err)
	}
	return blocks
}

// TestCodeInDocsMatchesSources fails when a file, declaration or diff shown
// in the docs no longer matches the repository.
func TestCodeInDocsMatchesSources(t *testing.T) {
	for _, page := range pages(t) {
		_, drifts, err := docsync.Sync(root, page, read(t, page))
		if err != nil {
			t.Error(err)
			continue
		}
		for _, d := range drifts {
			t.Errorf("%s:%d: the block under %s is out of date (%s); to fix it, run: go run ./tools/cmd/docsync",
				page, d.Block.Line, d.Block.MarkerText(), firstDifference(d.Block.Body, d.Want))
		}
	}
}

// firstDifference describes the first line where the page and the source
// disagree.
func firstDifference(page, source string) string {
	p, s := strings.Split(page, "\n"), strings.Split(source, "\n")
	for i := 0; i < len(p) || i < len(s); i++ {
		var pl, sl string
		if i < len(p) {
			pl = p[i]
		}
		if i < len(s) {
			sl = s[i]
		}
		if pl != sl {
			return "line " + strconv.Itoa(i+1) + " of the block is " + quote(pl) + ", the source has " + quote(sl)
		}
	}
	return "they differ"
}

func quote(s string) string { return "`" + s + "`" }

var (
	// linkRE finds Markdown links and images: [text](target) and ![alt](src),
	// with an optional "title".
	linkRE = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	// refRE finds reference definitions: [name]: target.
	refRE = regexp.MustCompile(`(?m)^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)`)
	// htmlRE finds links and images in inline HTML.
	htmlRE     = regexp.MustCompile(`(?:href|src)="([^"]+)"`)
	headingRE  = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	codeSpanRE = regexp.MustCompile("`[^`]*`")
	schemeRE   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// prose returns the lines of a page outside code blocks, with inline code
// removed, so that code is never mistaken for a link or heading.
func prose(page []byte) []string {
	var out []string
	fence := ""
	for _, line := range strings.Split(string(page), "\n") {
		trimmed := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, "`~") == "" {
				fence = ""
			}
			out = append(out, "")
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			out = append(out, "")
			continue
		}
		out = append(out, line)
	}
	return out
}

// links returns the link targets of a page with the line each is on.
func links(page []byte) map[int][]string {
	found := map[int][]string{}
	for i, line := range prose(page) {
		line = codeSpanRE.ReplaceAllString(line, "")
		for _, re := range []*regexp.Regexp{linkRE, refRE, htmlRE} {
			for _, m := range re.FindAllStringSubmatch(line, -1) {
				found[i+1] = append(found[i+1], m[1])
			}
		}
	}
	return found
}

// anchors returns the GitHub anchors of a page's headings.
func anchors(page []byte) map[string]bool {
	seen := map[string]int{}
	out := map[string]bool{}
	for _, line := range prose(page) {
		m := headingRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		slug := slugify(m[1])
		if n := seen[slug]; n > 0 {
			out[slug+"-"+strconv.Itoa(n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

var (
	mdLinkText = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	notSlug    = regexp.MustCompile(`[^\p{L}\p{M}\p{N}\p{Pc} -]`)
)

// slugify turns heading text into its anchor the way GitHub does: the
// rendered text, lowercased, without punctuation, spaces made hyphens.
func slugify(heading string) string {
	text := mdLinkText.ReplaceAllString(heading, "$1")
	text = strings.NewReplacer("`", "", "*", "").Replace(text)
	text = notSlug.ReplaceAllString(strings.ToLower(text), "")
	return strings.ReplaceAll(text, " ", "-")
}

// TestLinksResolve checks every relative link and image of every page: the
// file exists in the repository, and an #anchor names a heading there.
// External links are not fetched.
func TestLinksResolve(t *testing.T) {
	for _, page := range pages(t) {
		for line, targets := range links(read(t, page)) {
			for _, target := range targets {
				if err := checkLink(page, target); err != "" {
					t.Errorf("%s:%d: link %s: %s", page, line, target, err)
				}
			}
		}
	}
}

func checkLink(page, target string) string {
	if schemeRE.MatchString(target) || strings.HasPrefix(target, "//") {
		return "" // external, such as https: or mailto:
	}
	path, anchor, _ := strings.Cut(target, "#")
	file := page
	if path != "" {
		if strings.HasPrefix(path, "/") {
			return "use a path relative to the page, not one starting with /"
		}
		file = filepath.ToSlash(filepath.Join(filepath.Dir(page), path))
		if strings.HasPrefix(file, "../") {
			return "leads outside the repository"
		}
		if _, err := os.Stat(filepath.Join(root, file)); err != nil {
			return "no such file or folder: " + file
		}
	}
	if anchor == "" {
		return ""
	}
	if !strings.HasSuffix(file, ".md") {
		return "an #anchor needs a Markdown page, not " + file
	}
	data, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		return err.Error()
	}
	if !anchors(data)[anchor] {
		return "no heading in " + file + " has the anchor #" + anchor
	}
	return ""
}

// stepPageRE matches the step pages, docs/NN-name.md.
var stepPageRE = regexp.MustCompile(`^docs/\d\d-[^/]+\.md$`)

// TestStepPagesLinkToTheirNeighbours checks that a reader can walk the
// steps in order: each step page links back to the one before (the first
// to the README) and on to the one after.
func TestStepPagesLinkToTheirNeighbours(t *testing.T) {
	var steps []string
	for _, p := range pages(t) {
		if stepPageRE.MatchString(p) {
			steps = append(steps, p)
		}
	}
	if len(steps) == 0 {
		t.Fatal("no step pages docs/NN-name.md")
	}
	for i, page := range steps {
		var targets []string
		for _, ts := range links(read(t, page)) {
			for _, target := range ts {
				path, _, _ := strings.Cut(target, "#")
				if path != "" && !schemeRE.MatchString(path) {
					targets = append(targets, filepath.ToSlash(filepath.Join(filepath.Dir(page), path)))
				}
			}
		}
		prev := "README.md"
		if i > 0 {
			prev = steps[i-1]
		}
		if !slices.Contains(targets, prev) {
			t.Errorf("%s does not link back to %s", page, prev)
		}
		if i+1 < len(steps) && !slices.Contains(targets, steps[i+1]) {
			t.Errorf("%s does not link on to %s", page, steps[i+1])
		}
	}
}

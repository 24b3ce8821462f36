// Package docsync reads the markers in the tutorial's Markdown pages and
// keeps the code blocks under them equal to the sources:
//
//	<!-- include: PATH -->       the whole file at PATH
//	<!-- include: PATH#Name -->  one Go declaration from PATH
//	<!-- diff: OLD NEW -->       the unified diff from OLD to NEW
//	<!-- serve: PORT -->         a command that starts a server on PORT
//	<!-- not run: REASON -->     a command the tests cannot run
//
// Paths are relative to the repository root. Every marker must be directly
// followed by a fenced code block. Any other HTML comment on a line of its
// own is an error, so that a misspelt marker cannot silently do nothing.
package docsync

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// Marker kinds.
const (
	Include = "include"
	Diff    = "diff"
	Serve   = "serve"
	NotRun  = "not run"
)

// Block is one fenced code block of a page, with the marker above it if any.
type Block struct {
	Marker string   // one of the marker kinds, or "" for none
	Args   []string // the marker's arguments: PATH[#Name], OLD NEW, PORT, or REASON
	Lang   string   // the fence's info string, such as go or console
	Body   string   // the lines between the fences, each ending in "\n"
	Line   int      // the 1-based line of the opening fence

	// Byte offsets of Body in the page, for rewriting it.
	start, end int
}

// Port is the port of a serve block.
func (b Block) Port() int {
	n, _ := strconv.Atoi(b.Args[0]) // checked by Parse
	return n
}

// MarkerText is the marker as written, for error messages.
func (b Block) MarkerText() string {
	if b.Marker == "" {
		return "```" + b.Lang
	}
	return "<!-- " + b.Marker + ": " + strings.Join(b.Args, " ") + " -->"
}

var (
	fenceRE  = regexp.MustCompile("^(`{3,})\\s*([^`\\s]*)\\s*$")
	markerRE = regexp.MustCompile(`^<!--\s*([a-z][a-z ]*?)\s*:\s*(.*?)\s*-->$`)
)

// Parse returns the fenced code blocks of a Markdown page. name is used in
// error messages only.
func Parse(name string, page []byte) ([]Block, error) {
	var (
		blocks  []Block
		pending *Block // a marker waiting for its fence on the next line
		inFence string // the opening fence while inside a block
		cur     Block
	)
	off := 0
	lines := strings.SplitAfter(string(page), "\n")
	for i, line := range lines {
		n := i + 1
		next := off + len(line)
		text := strings.TrimRight(line, "\r\n")
		trimmed := strings.TrimSpace(text)

		if inFence != "" {
			if strings.HasPrefix(trimmed, inFence) && strings.Trim(trimmed, "`") == "" {
				cur.end = off
				cur.Body = string(page[cur.start:cur.end])
				blocks = append(blocks, cur)
				inFence = ""
			}
			off = next
			continue
		}

		if strings.HasPrefix(trimmed, "```") && !strings.HasPrefix(text, "```") {
			return nil, fmt.Errorf("%s:%d: indented code block: start its fence at the beginning of the line, so that the checks see it", name, n)
		}
		if m := fenceRE.FindStringSubmatch(text); m != nil {
			cur = Block{Lang: m[2], Line: n, start: next}
			if pending != nil {
				cur.Marker, cur.Args = pending.Marker, pending.Args
				pending = nil
			}
			inFence = m[1]
			off = next
			continue
		}
		if pending != nil {
			return nil, fmt.Errorf("%s:%d: %s must be directly followed by a fenced code block", name, n-1, pending.MarkerText())
		}
		if strings.HasPrefix(trimmed, "<!--") {
			b, err := parseMarker(trimmed)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", name, n, err)
			}
			pending = &b
		}
		off = next
	}
	if inFence != "" {
		return nil, fmt.Errorf("%s:%d: code block is never closed", name, cur.Line)
	}
	if pending != nil {
		return nil, fmt.Errorf("%s: %s at the end of the page must be followed by a fenced code block", name, pending.MarkerText())
	}
	for _, b := range blocks {
		if err := checkBlock(b); err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %v", name, b.Line, b.MarkerText(), err)
		}
	}
	return blocks, nil
}

func parseMarker(line string) (Block, error) {
	m := markerRE.FindStringSubmatch(line)
	if m == nil {
		return Block{}, fmt.Errorf("unknown marker %s: want <!-- include: PATH[#Name] -->, <!-- diff: OLD NEW -->, <!-- serve: PORT --> or <!-- not run: REASON -->", line)
	}
	kind, args := m[1], strings.Fields(m[2])
	switch kind {
	case Include:
		if len(args) != 1 {
			return Block{}, fmt.Errorf("%s: want <!-- include: PATH --> or <!-- include: PATH#Name -->", line)
		}
	case Diff:
		if len(args) != 2 {
			return Block{}, fmt.Errorf("%s: want <!-- diff: OLD NEW -->", line)
		}
	case Serve:
		if len(args) != 1 {
			return Block{}, fmt.Errorf("%s: want <!-- serve: PORT -->", line)
		}
		if n, err := strconv.Atoi(args[0]); err != nil || n < 1 || n > 65535 {
			return Block{}, fmt.Errorf("%s: the port must be a number from 1 to 65535", line)
		}
	case NotRun:
		if len(args) == 0 {
			return Block{}, fmt.Errorf("%s: say why the command cannot be run", line)
		}
		args = []string{strings.Join(args, " ")}
	default:
		return Block{}, fmt.Errorf("unknown marker %q in %s", kind, line)
	}
	return Block{Marker: kind, Args: args}, nil
}

// checkBlock checks that a marker sits on a block it makes sense for.
func checkBlock(b Block) error {
	switch b.Marker {
	case Diff:
		if b.Lang != "diff" {
			return fmt.Errorf("want a ```diff block, not ```%s", b.Lang)
		}
	case Include:
		path, _, _ := strings.Cut(b.Args[0], "#")
		if want := Lang(path); b.Lang != want {
			return fmt.Errorf("want a ```%s block, not ```%s", want, b.Lang)
		}
	case Serve:
		if b.Lang != "sh" || len(Commands(b.Body)) != 1 {
			return fmt.Errorf("want a ```sh block with one command")
		}
	case NotRun:
		if !Runnable(b.Lang) {
			return fmt.Errorf("only ```console and ```sh blocks are run; a ```%s block needs no marker", b.Lang)
		}
	}
	return nil
}

// Runnable reports whether a block in this language holds commands that the
// tests run.
func Runnable(lang string) bool { return lang == "console" || lang == "sh" }

// Lang is the fence language for a file, from its name.
func Lang(path string) string {
	base := filepath.Base(path)
	switch {
	case base == "Dockerfile" || strings.HasSuffix(base, ".Dockerfile"):
		return "dockerfile"
	case base == ".dockerignore" || base == ".gitignore":
		return "gitignore"
	case base == "go.mod" || base == "go.work":
		return "go-mod"
	}
	switch filepath.Ext(base) {
	case ".go":
		return "go"
	case ".yaml", ".yml":
		return "yaml"
	case ".sh":
		return "bash" // not sh: an included script is shown, not run
	case ".json":
		return "json"
	case ".html", ".tmpl":
		return "html"
	case ".diff", ".patch":
		return "diff"
	}
	return "text"
}

// Commands splits a block's body into commands: one per line, a line ending
// in a backslash continuing on the next. Blank lines and comments are left
// out.
func Commands(body string) []string {
	var cmds []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		if cur.Len() == 0 && (strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#")) {
			continue
		}
		cur.WriteString(line)
		if strings.HasSuffix(line, "\\") {
			cur.WriteString("\n")
			continue
		}
		cmds = append(cmds, cur.String())
		cur.Reset()
	}
	if cur.Len() > 0 {
		cmds = append(cmds, cur.String())
	}
	return cmds
}

// Generate returns what the body of a generated block must be: the file,
// declaration or diff named by its marker, read below root.
func Generate(root string, b Block) (string, error) {
	var text string
	switch b.Marker {
	case Include:
		path, name, isDecl := strings.Cut(b.Args[0], "#")
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path)))
		if err != nil {
			return "", err
		}
		text = string(src)
		if isDecl {
			if text, err = Decl(path, src, name); err != nil {
				return "", err
			}
		}
	case Diff:
		var err error
		if text, err = unifiedDiff(root, b.Args[0], b.Args[1]); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("%s is not generated", b.MarkerText())
	}
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return text, nil
}

// Decl returns the source of the Go declaration name in src, with its doc
// comment: a func (or a method, as Type.Method), a type, or one const or var.
// Inside a parenthesised group only that one spec is returned, unindented.
func Decl(filename string, src []byte, name string) (string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, src, parser.ParseComments)
	if err != nil {
		return "", err
	}
	text := func(from, to token.Pos) string {
		start, end := fset.Position(from).Offset, fset.Position(to).Offset
		// Whole lines: back up to the start of the first one, and take the
		// rest of the last, which may hold a line comment.
		start = bytes.LastIndexByte(src[:start], '\n') + 1
		if i := bytes.IndexByte(src[end:], '\n'); i >= 0 {
			end += i
		} else {
			end = len(src)
		}
		return string(src[start:end])
	}
	withDoc := func(doc *ast.CommentGroup, n ast.Node) token.Pos {
		if doc != nil {
			return doc.Pos()
		}
		return n.Pos()
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if funcName(d) == name {
				return text(withDoc(d.Doc, d), d.End()), nil
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				var doc *ast.CommentGroup
				var names []*ast.Ident
				switch s := spec.(type) {
				case *ast.TypeSpec:
					doc, names = s.Doc, []*ast.Ident{s.Name}
				case *ast.ValueSpec:
					doc, names = s.Doc, s.Names
				}
				for _, id := range names {
					if id.Name != name {
						continue
					}
					if !d.Lparen.IsValid() {
						return text(withDoc(d.Doc, d), d.End()), nil
					}
					return unindent(text(withDoc(doc, spec), spec.End())), nil
				}
			}
		}
	}
	return "", fmt.Errorf("%s has no declaration %s", filename, name)
}

func funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	t := d.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	switch t := t.(type) {
	case *ast.IndexExpr:
		t0, _ := t.X.(*ast.Ident)
		if t0 != nil {
			return t0.Name + "." + d.Name.Name
		}
	case *ast.IndexListExpr:
		t0, _ := t.X.(*ast.Ident)
		if t0 != nil {
			return t0.Name + "." + d.Name.Name
		}
	case *ast.Ident:
		return t.Name + "." + d.Name.Name
	}
	return d.Name.Name
}

// unindent removes one leading tab from every line, as gofmt indents the
// specs of a group.
func unindent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "\t")
	}
	return strings.Join(lines, "\n")
}

// unifiedDiff is the diff from old to new with enough context to read the
// changes in place.
func unifiedDiff(root, old, new string) (string, error) {
	a, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(old)))
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(new)))
	if err != nil {
		return "", err
	}
	text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        difflib.SplitLines(string(a)),
		B:        difflib.SplitLines(string(b)),
		FromFile: old,
		ToFile:   new,
		Context:  3,
	})
	if err != nil {
		return "", err
	}
	if text == "" {
		return "", fmt.Errorf("%s and %s are the same: there is no diff to show", old, new)
	}
	return text, nil
}

// Drift is a generated block whose body differs from its source.
type Drift struct {
	Block Block
	Want  string
}

// Sync returns the page with every generated block rewritten from its
// source, and the blocks that were out of date.
func Sync(root, name string, page []byte) ([]byte, []Drift, error) {
	blocks, err := Parse(name, page)
	if err != nil {
		return nil, nil, err
	}
	var out bytes.Buffer
	var drifts []Drift
	last := 0
	for _, b := range blocks {
		if b.Marker != Include && b.Marker != Diff {
			continue
		}
		want, err := Generate(root, b)
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %s: %v", name, b.Line, b.MarkerText(), err)
		}
		if fenceLen(want) > 3 {
			return nil, nil, fmt.Errorf("%s:%d: %s: the source holds ``` and cannot be shown in a ``` block", name, b.Line, b.MarkerText())
		}
		if want == b.Body {
			continue
		}
		drifts = append(drifts, Drift{Block: b, Want: want})
		out.Write(page[last:b.start])
		out.WriteString(want)
		last = b.end
	}
	out.Write(page[last:])
	return out.Bytes(), drifts, nil
}

// fenceLen is the length of the longest run of backquotes at the start of
// a line in s.
func fenceLen(s string) int {
	longest := 0
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		n := len(l) - len(strings.TrimLeft(l, "`"))
		longest = max(longest, n)
	}
	return longest
}

// Pages returns the pages the conventions apply to, relative to root:
// README.md and every .md file in docs/.
func Pages(root string) ([]string, error) {
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		return nil, err
	}
	pages := []string{"README.md"}
	for _, d := range docs {
		rel, err := filepath.Rel(root, d)
		if err != nil {
			return nil, err
		}
		pages = append(pages, filepath.ToSlash(rel))
	}
	return pages, nil
}

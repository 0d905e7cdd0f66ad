package app_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// unboundedHTTP finds the outbound HTTP calls in a file that nothing bounds
// in time: net/http's DefaultClient and its helpers (http.Get, Post, Head,
// PostForm), which have no timeout, and an http.Client made without one.
// Each finding is "file:line: what".
func unboundedHTTP(fset *token.FileSet, f *ast.File) []string {
	pkg := ""
	for _, imp := range f.Imports {
		if path, _ := strconv.Unquote(imp.Path.Value); path == "net/http" {
			pkg = "http"
			if imp.Name != nil {
				pkg = imp.Name.Name
			}
		}
	}
	if pkg == "" || pkg == "_" {
		return nil
	}
	isHTTP := func(e ast.Expr, names ...string) bool {
		sel, ok := e.(*ast.SelectorExpr)
		if !ok {
			return false
		}
		x, ok := sel.X.(*ast.Ident)
		return ok && x.Name == pkg && slices.Contains(names, sel.Sel.Name)
	}
	var found []string
	report := func(n ast.Node, format string, args ...any) {
		found = append(found, fmt.Sprintf("%s: %s", fset.Position(n.Pos()), fmt.Sprintf(format, args...)))
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if isHTTP(n, "DefaultClient", "Get", "Post", "Head", "PostForm") {
				report(n, "%s.%s has no timeout; use a client with one (notify.NewHTTPClient)", pkg, n.Sel.Name)
			}
		case *ast.CompositeLit:
			if isHTTP(n.Type, "Client") && !slices.ContainsFunc(n.Elts, isTimeoutField) {
				report(n, "%s.Client without a Timeout", pkg)
			}
		case *ast.CallExpr:
			if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "new" && len(n.Args) == 1 && isHTTP(n.Args[0], "Client") {
				report(n, "new(%s.Client) has no Timeout", pkg)
			}
		}
		return true
	})
	return found
}

func isTimeoutField(e ast.Expr) bool {
	kv, ok := e.(*ast.KeyValueExpr)
	if !ok {
		return false
	}
	key, ok := kv.Key.(*ast.Ident)
	return ok && key.Name == "Timeout"
}

// TestOutboundCallsHaveTimeouts: no code Klaxon runs makes an HTTP request
// that could hang forever on a platform, an identity provider or a webhook
// that stops answering. Tests may; testdata is not Klaxon's code.
func TestOutboundCallsHaveTimeouts(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		for _, problem := range unboundedHTTP(fset, f) {
			t.Error(problem)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("scanned %d Go files under %s; want the whole module", files, root)
	}
}

// TestUnboundedHTTPFinds: the scanner sees each way of making an
// unbounded call, under any import name, and passes bounded ones.
func TestUnboundedHTTPFinds(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"DefaultClient", `func f(r *http.Request) { http.DefaultClient.Do(r) }`, []string{"http.DefaultClient has no timeout"}},
		{"http.Get", `func f() { http.Get("https://example.test") }`, []string{"http.Get has no timeout"}},
		{"http.Post", `func f() { http.Post("https://example.test", "text/plain", nil) }`, []string{"http.Post has no timeout"}},
		{"http.Head", `func f() { http.Head("https://example.test") }`, []string{"http.Head has no timeout"}},
		{"http.PostForm", `func f() { http.PostForm("https://example.test", nil) }`, []string{"http.PostForm has no timeout"}},
		{"a client passed on", `var use = http.DefaultClient`, []string{"http.DefaultClient has no timeout"}},
		{"an empty client", `var c = &http.Client{}`, []string{"http.Client without a Timeout"}},
		{"a client with a transport only", `var c = http.Client{Transport: http.DefaultTransport}`, []string{"http.Client without a Timeout"}},
		{"new client", `var c = new(http.Client)`, []string{"new(http.Client) has no Timeout"}},
		{"a client with a timeout", `var c = &http.Client{Timeout: time.Second}`, nil},
		{"a client with a computed timeout", `func f(d time.Duration) *http.Client { return &http.Client{Transport: nil, Timeout: d} }`, nil},
		{"a request made with a bounded client", `func f(c *http.Client, r *http.Request) { c.Do(r) }`, nil},
		{"another package's Get", `func f(m map[string]int) { other.Get(m) }`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "package p\n\nimport (\n\t\"net/http\"\n\t\"time\"\n\t\"example.test/other\"\n)\n\nvar _, _ = time.Second, other.X\n\n" + tt.body + "\n"
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "p.go", src, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := unboundedHTTP(fset, f)
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %d findings %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("finding %d: got %q, want it to say %q", i, got[i], w)
				}
			}
		})
	}
	t.Run("under another import name", func(t *testing.T) {
		src := "package p\n\nimport nethttp \"net/http\"\n\nfunc f() { nethttp.Get(\"https://example.test\") }\n"
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "p.go", src, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := unboundedHTTP(fset, f); len(got) != 1 || !strings.Contains(got[0], "nethttp.Get has no timeout") {
			t.Errorf("got %q, want nethttp.Get found", got)
		}
	})
}

package webui

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"

	"github.com/klaxon-oss/klaxon/internal/auth"
)

// postmortemData is the postmortem page: the draft rendered, with the
// incident it is about.
type postmortemData struct {
	ID       int64
	Title    string
	Resolved bool
	Due      bool // a postmortem is required (at this severity)
	Done     bool
	HTML     template.HTML
}

func (u *UI) postmortemPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if u.Incidents == nil {
		u.fail(w, r, p, errNoIncidents)
		return
	}
	id, err := incidentID(r)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	inc, err := u.Incidents.Incident(r.Context(), id)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	md, err := u.Incidents.Postmortem(r.Context(), id, p.Name)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	html, err := renderPostmortem(md)
	if err != nil {
		u.fail(w, r, p, fmt.Errorf("render postmortem of incident %d: %w", id, err))
		return
	}
	data := &postmortemData{ID: id, Title: inc.Title, Resolved: !inc.Open(), Due: !inc.PostmortemDue.IsZero(), Done: !inc.PostmortemDone.IsZero(), HTML: html}
	u.render(w, r, http.StatusOK, "postmortem.html", view{Title: fmt.Sprintf("Postmortem of #%d", id), Nav: "incidents", User: p, Data: data})
}

// postmortemMarkdown serves the draft as a Markdown file to finish in an
// editor or a wiki.
func (u *UI) postmortemMarkdown(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if u.Incidents == nil {
		u.fail(w, r, p, errNoIncidents)
		return
	}
	id, err := incidentID(r)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	md, err := u.Incidents.Postmortem(r.Context(), id, p.Name)
	if err != nil {
		u.fail(w, r, p, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/markdown; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="incident-%d-postmortem.md"`, id))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.Write(md)
}

// postmortemDialect is the draft's Markdown dialect: GitHub's, with
// goldmark's safe defaults (raw HTML dropped, dangerous links not linked),
// except that an HTML comment, which the draft uses for the parts still
// to write, is shown as an escaped hint.
var postmortemDialect = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(hintRenderer{}, 100))),
)

func renderPostmortem(md []byte) (template.HTML, error) {
	var b bytes.Buffer
	if err := postmortemDialect.Convert(md, &b); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil // goldmark escaped the text; hintRenderer escapes the hints
}

// hintRenderer renders raw HTML: a comment's text as a hint, escaped;
// any other markup not at all. Registered ahead of goldmark's HTML
// renderer, it replaces that renderer's handling of raw HTML.
type hintRenderer struct{}

func (hintRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindRawHTML, renderInlineHint)
	reg.Register(ast.KindHTMLBlock, renderBlockHint)
}

func renderInlineHint(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	n := node.(*ast.RawHTML)
	var raw bytes.Buffer
	for i := 0; i < n.Segments.Len(); i++ {
		seg := n.Segments.At(i)
		raw.Write(seg.Value(src))
	}
	if hint, ok := commentText(raw.String()); ok {
		fmt.Fprintf(w, `<span class="hint">%s</span>`, template.HTMLEscapeString(hint))
	}
	return ast.WalkSkipChildren, nil
}

func renderBlockHint(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.HTMLBlock)
	var raw bytes.Buffer
	for i := 0; i < n.Lines().Len(); i++ {
		seg := n.Lines().At(i)
		raw.Write(seg.Value(src))
	}
	if n.HasClosure() {
		raw.Write(n.ClosureLine.Value(src))
	}
	if hint, ok := commentText(raw.String()); ok {
		fmt.Fprintf(w, "<p class=\"hint\">%s</p>\n", template.HTMLEscapeString(hint))
	}
	return ast.WalkContinue, nil
}

// commentText is the text of an HTML comment, and whether s is one.
func commentText(s string) (string, bool) {
	s = strings.TrimSpace(s)
	inner, ok := strings.CutPrefix(s, "<!--")
	if !ok {
		return "", false
	}
	inner, ok = strings.CutSuffix(inner, "-->")
	return strings.TrimSpace(inner), ok
}

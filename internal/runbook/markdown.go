package runbook

import (
	"bytes"
	"html/template"
	"sort"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// newMarkdown is the one Markdown dialect of runbooks. It keeps goldmark's
// safe default of dropping raw HTML and dangerous links: runbook files are
// only semi-trusted and their HTML is served on Klaxon's origin.
func newMarkdown() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()), // so a chat message can link to #escalate
	)
}

// parseBody finds the body's title, sections and code blocks, and renders
// it. offset is the number of file lines before the body's first line.
func parseBody(r *Runbook, src []byte, offset int, diagnose bool) {
	md := newMarkdown()
	doc := md.Parser().Parse(text.NewReader(src))
	lines := newLineIndex(src, offset)

	var (
		kind  SectionKind // of the section we are in; "" before the first
		level int         // of its heading
	)
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			if n.Parent() != doc {
				// A heading in a list or a quote does not structure the runbook.
				return ast.WalkSkipChildren, nil
			}
			heading := headingText(n, src)
			line := lines.of(nodePos(n))
			switch {
			case n.Level == 1:
				if !r.titled && heading != "" {
					r.Title, r.titled, r.titleLine = heading, true, line
				}
				kind, level = "", 1
			case kind != "" && kind != SectionOther && n.Level > level:
				// A subsection belongs to its section, whatever it is called.
			default:
				kind, level = classify(heading), n.Level
				r.Sections = append(r.Sections, Section{Kind: kind, Heading: heading, Line: line})
			}
			return ast.WalkSkipChildren, nil
		case *ast.FencedCodeBlock:
			b := codeBlock(n, src, lines, diagnose)
			b.kind = kind
			r.blocks = append(r.blocks, b)
			if kind == SectionDiagnose {
				r.Steps = append(r.Steps, b.Step)
			}
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})

	var buf bytes.Buffer
	if err := md.Renderer().Render(&buf, src, doc); err == nil {
		r.html = template.HTML(buf.String()) // goldmark escaped the text and dropped raw HTML
	}
}

func codeBlock(n *ast.FencedCodeBlock, src []byte, lines lineIndex, diagnose bool) block {
	var b strings.Builder
	segs := n.Lines()
	for i := 0; i < segs.Len(); i++ {
		seg := segs.At(i)
		b.Write(seg.Value(src))
	}
	line := lines.of(nodePos(n)) + 1 // the line after the opening fence
	if segs.Len() > 0 {
		line = lines.of(segs.At(0).Start)
	}
	lang := string(n.Language(src))
	code := strings.TrimRight(strings.ReplaceAll(b.String(), "\r\n", "\n"), "\n")
	return block{Step: Step{Text: code, Lang: lang, Line: line, Run: lang == "diagnose" || diagnose}}
}

// nodePos is where a block starts in the source.
func nodePos(n ast.Node) int {
	if p := n.Pos(); p >= 0 {
		return p
	}
	if segs := n.Lines(); segs != nil && segs.Len() > 0 {
		return segs.At(0).Start
	}
	return 0
}

// headingText is a heading's text with inline markup dropped.
func headingText(n ast.Node, src []byte) string {
	var b strings.Builder
	inlineText(n, src, &b)
	return strings.TrimSpace(b.String())
}

func inlineText(n ast.Node, src []byte, b *strings.Builder) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Value(src))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.AutoLink:
			b.Write(c.Label(src))
		case *ast.RawHTML:
			// dropped, as in the HTML
		default:
			inlineText(c, src, b)
		}
	}
}

// classify says what a section is for from its heading's words. The order
// matters: "Verify the fix" is verify, "Escalation if not fixed" escalate.
func classify(heading string) SectionKind {
	h := normalize(heading)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(h, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("escalat", "who to call", "contact"):
		return SectionEscalate
	case has("verif", "confirm", "validat", "check it worked"):
		return SectionVerify
	case has("diagnos", "investigat", "triage", "first steps", "what to check"):
		return SectionDiagnose
	case has("cause", "fix", "remediat", "mitigat", "resolution", "resolve"):
		return SectionCauses
	}
	return SectionOther
}

// normalize lowercases s and keeps only letters and digits, other runs
// (punctuation, emoji, spaces) becoming one space; apostrophes go, so
// "What's" is "whats".
func normalize(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '\'' || r == '’':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

// lineIndex turns byte offsets of the body into file lines.
type lineIndex struct {
	starts []int // offset of each line's first byte
	offset int   // file lines before the body
}

func newLineIndex(src []byte, offset int) lineIndex {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return lineIndex{starts: starts, offset: offset}
}

func (l lineIndex) of(pos int) int {
	return sort.Search(len(l.starts), func(i int) bool { return l.starts[i] > pos }) + l.offset
}

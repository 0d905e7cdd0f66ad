package diagnose_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/klaxon-oss/klaxon/internal/diagnose"
)

func TestCommands(t *testing.T) {
	tests := []struct {
		name, step string
		want       []string
	}{
		{"one", "kubectl get pods", []string{"kubectl get pods"}},
		{"blank lines and comments", "\n# first look\nkubectl get pods\n\n   # indented comment\n  kubectl top pods  \n\n", []string{"kubectl get pods", "kubectl top pods"}},
		{"continuation", "kubectl -n {{ .Labels.namespace }} logs {{ .Labels.pod }} --tail=50 \\\n    --previous\nuptime", []string{"kubectl -n {{ .Labels.namespace }} logs {{ .Labels.pod }} --tail=50 --previous", "uptime"}},
		{"continuation glues words", "echo abc\\\ndef", []string{"echo abcdef"}},
		{"several continuations", "a \\\n  b \\\n  c", []string{"a b c"}},
		{"escaped backslash is no continuation", `echo a\\` + "\nb", []string{`echo a\\`, "b"}},
		{"continuation at the end", "a \\", []string{"a"}},
		{"continuation into a blank line", "a \\\n\nb", []string{"a", "b"}},
		{"CRLF", "a\r\nb \\\r\n c\r\n", []string{"a", "b c"}},
		{"only comments", "# nothing to run\n\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := diagnose.Commands(tt.step); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPrepare(t *testing.T) {
	v := labels("pod", "web-1", "ns", "prod", "spaced", "a b", "quote", `it's "x"`)
	v.Annotations["runbook"] = "https://x/y?z=1"
	tests := []struct {
		name, line string
		want       []string
	}{
		{"plain", "kubectl get pods", []string{"kubectl", "get", "pods"}},
		{"placeholders", "kubectl -n {{ .Labels.ns }} describe pod {{ $labels.pod }}", []string{"kubectl", "-n", "prod", "describe", "pod", "web-1"}},
		{"index placeholder", `echo {{ index .Labels "pod" }}`, []string{"echo", "web-1"}},
		{"annotation", "curl -s {{ .Annotations.runbook }}", []string{"curl", "-s", "https://x/y?z=1"}},
		{"value with spaces", "echo {{ .Labels.spaced }}", []string{"echo", "a b"}},
		{"value with quotes", "echo {{ .Labels.quote }}", []string{"echo", `it's "x"`}},
		{"placeholder inside a word", "echo --selector=app={{ .Labels.pod }},x", []string{"echo", "--selector=app=web-1,x"}},
		{"two placeholders in a word", "echo {{ .Labels.ns }}/{{ .Labels.pod }}", []string{"echo", "prod/web-1"}},
		{"single quotes", `echo 'a $b * {c} ~'`, []string{"echo", "a $b * {c} ~"}},
		{"double quotes", `echo "a \"b\" \$c \x"`, []string{"echo", `a "b" $c \x`}},
		{"backslashes", `echo a\ b \* \~ c\\d`, []string{"echo", "a b", "*", "~", `c\d`}},
		{"empty argument", `echo ''`, []string{"echo", ""}},
		{"trailing comment", "kubectl get pods # which?", []string{"kubectl", "get", "pods"}},
		{"lone dollar", "echo $ a$", []string{"echo", "$", "a$"}},
		{"tilde inside a word", "echo a~b", []string{"echo", "a~b"}},
		{"marker-like text", "echo KLAXONPH0X {{ .Labels.pod }}", []string{"echo", "KLAXONPH0X", "web-1"}},
		{"escaped marker-like text", `echo KLAXON\PH0X {{ .Labels.pod }}`, []string{"echo", "KLAXONPH0X", "web-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := diagnose.Prepare(tt.line, v)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestPrepareRefusesShell(t *testing.T) {
	v := labels("pod", "web-1")
	tests := []struct {
		name, line, reason string
	}{
		{"pipe", "kubectl get pods | grep web", "refused: pipes need a shell; diagnostics never run one"},
		{"pipe with stderr", "kubectl get pods |& grep web", "refused: pipes need a shell; diagnostics never run one"},
		{"and", "kubectl get pods && rm -rf /", "refused: && needs a shell; diagnostics never run one"},
		{"or", "kubectl get pods || true", "refused: || needs a shell; diagnostics never run one"},
		{"list", "kubectl get pods; rm -rf /", "refused: ; (more than one command) needs a shell; diagnostics never run one"},
		{"background", "kubectl get pods &", "refused: & (running in the background) needs a shell; diagnostics never run one"},
		{"background list", "sleep 1 & rm x", "refused: & (running in the background) needs a shell; diagnostics never run one"},
		{"redirect", "kubectl get pods > /tmp/x", `refused: redirection ">" needs a shell; diagnostics never run one`},
		{"input redirect", "kubectl apply -f - < x", `refused: redirection "<" needs a shell; diagnostics never run one`},
		{"fd redirect", "kubectl get pods 2>&1", `refused: redirection ">&" needs a shell; diagnostics never run one`},
		{"here string", "cat <<< x", `refused: redirection "<<<" needs a shell; diagnostics never run one`},
		{"command substitution", "echo $(id)", `refused: "$(id)" needs a shell; diagnostics never run one`},
		{"backticks", "echo `id`", "refused: \"`id`\" needs a shell; diagnostics never run one"},
		{"variable", "echo $HOME", `refused: "$HOME" needs a shell; diagnostics never run one`},
		{"variable in braces", "echo ${HOME}", `refused: "${HOME}" needs a shell; diagnostics never run one`},
		{"variable in double quotes", `echo "at $HOME"`, `refused: "$HOME" needs a shell; diagnostics never run one`},
		{"substitution in double quotes", `echo "$(id)"`, `refused: "$(id)" needs a shell; diagnostics never run one`},
		{"arithmetic", "echo $((1+1))", `refused: "$((1+1))" needs a shell; diagnostics never run one`},
		{"process substitution", "diff <(ls a) b", `refused: "<(ls a)" needs a shell; diagnostics never run one`},
		{"ANSI-C quotes", `echo $'\x41'`, `refused: "$'\\x41'" needs a shell; diagnostics never run one`},
		{"glob star", "ls /etc/*.conf", `refused: glob "*" would need a shell to expand; quote it to pass it as is`},
		{"glob question mark", "ls /etc/host?", `refused: glob "?" would need a shell to expand; quote it to pass it as is`},
		{"glob bracket", "ls /etc/[ab]", `refused: glob "[" would need a shell to expand; quote it to pass it as is`},
		{"extended glob", "ls @(a|b)", `refused: glob "@(a|b)" would need a shell to expand; quote it to pass it as is`},
		{"braces", "echo {a,b}", `refused: brace "{" would need a shell to expand; quote it to pass it as is`},
		{"tilde", "ls ~/x", `refused: "~" would need a shell to expand; quote it to pass it as is`},
		{"tilde after =", "echo --kubeconfig=~/k", `refused: "~" would need a shell to expand; quote it to pass it as is`},
		{"subshell", "(kubectl get pods)", "refused: subshells ( … ) need a shell; diagnostics never run one"},
		{"block", "{ kubectl get pods; }", `refused: "{ kubectl get pods; }" needs a shell; diagnostics never run one`},
		{"assignment prefix", "KUBECONFIG=/x kubectl get pods", `refused: assignment "KUBECONFIG=/x" needs a shell; diagnostics never run one`},
		{"assignment alone", "X=1", `refused: assignment "X=1" needs a shell; diagnostics never run one`},
		{"negation", "! kubectl get pods", "refused: ! needs a shell; diagnostics never run one"},
		{"if", "if true; then id; fi", `refused: "if true; then id; fi" needs a shell; diagnostics never run one`},
		{"for", "for i in a; do id; done", `refused: "for i in a; do id; done" needs a shell; diagnostics never run one`},
		{"function", "f() { id; }", `refused: "f() { id; }" needs a shell; diagnostics never run one`},
		{"export", "export A=1", `refused: "export A=1" needs a shell; diagnostics never run one`},
		{"test", "[[ -f x ]]", `refused: "[[ -f x ]]" needs a shell; diagnostics never run one`},
		{"placeholder quoted back", "echo {{ .Labels.pod }}$(id {{ .Labels.pod }})", `refused: "$(id {{ .Labels.pod }})" needs a shell; diagnostics never run one`},
		{"unclosed quote", `echo "abc`, "refused: not a command a shell could parse: 1:6: reached EOF without closing quote `\"`"},
		{"unsupported placeholder", "echo {{ .Labels.pod | printf }}", `refused: unsupported placeholder "{{ .Labels.pod | printf }}": use {{ .Labels.name }} or {{ .Annotations.name }}`},
		{"control character", "echo a\x00b", `refused: control character "\x00" in the command`},
		{"two lines", "echo a\nrm -rf /", `refused: control character "\n" in the command`},
		{"empty", "   ", "refused: no command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := diagnose.Prepare(tt.line, v)
			if err == nil {
				t.Fatalf("got %q, want refused: %s", got, tt.reason)
			}
			if err.Error() != tt.reason {
				t.Errorf("reason:\ngot  %s\nwant %s", err, tt.reason)
			}
		})
	}
}

// FuzzPrepareValue checks that whatever a label holds, it either becomes
// exactly one argument, as is, or the command is refused.
func FuzzPrepareValue(f *testing.F) {
	for _, s := range []string{"web-1", "a b", "$(id)", "`id`", "a; rm -rf /", "*", "-rf", "--all", "x\ny", "'\"", "KLAXONPH0X", "{{ .Labels.x }}", "\\", "~", "\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, val string) {
		v := labels("x", val)
		for _, tc := range []struct {
			line string
			want []string
		}{
			{"prog {{ .Labels.x }} end", []string{"prog", val, "end"}},
			{`prog "{{ .Labels.x }}"`, []string{"prog", val}},
			{"prog '{{ .Labels.x }}'", []string{"prog", val}},
			{"{{ .Labels.x }} end", []string{val, "end"}},
		} {
			got, err := diagnose.Prepare(tc.line, v)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "refused: ") || !strings.Contains(err.Error(), `"x"`) {
					t.Errorf("Prepare(%q) with x=%q: reason %q does not name the label", tc.line, val, err)
				}
				continue
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Prepare(%q) with x=%q: got %q, want %q", tc.line, val, got, tc.want)
			}
			if strings.HasPrefix(val, "-") {
				t.Errorf("Prepare(%q) accepted x=%q", tc.line, val)
			}
		}
	})
}

// FuzzPrepareLine checks that no line makes Prepare panic, and that what
// it accepts has a program.
func FuzzPrepareLine(f *testing.F) {
	for _, s := range []string{"kubectl get pods", "a | b", "echo $(x)", "echo 'a", `echo "a\"`, "x {{ .Labels.x }}", "{{", "a\\", "$'", "<<EOF", "x=1 y", "echo \"${a:-$(b)}\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		argv, err := diagnose.Prepare(line, labels("x", "v"))
		if err == nil && len(argv) == 0 {
			t.Errorf("Prepare(%q): no error and no argv", line)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "refused: ") {
			t.Errorf("Prepare(%q): reason %q", line, err)
		}
	})
}

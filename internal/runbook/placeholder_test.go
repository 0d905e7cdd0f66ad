package runbook

import (
	"strings"
	"testing"
)

func TestFill(t *testing.T) {
	v := Vars{
		Labels:      map[string]string{"namespace": "prod", "pod": "api-7d9", "app.kubernetes.io/name": "api", "evil": "x`; rm -rf /\n`"},
		Annotations: map[string]string{"summary": "API down"},
	}
	for _, tc := range []struct{ in, want string }{
		{"kubectl -n {{ .Labels.namespace }} logs {{ .Labels.pod }}", "kubectl -n prod logs api-7d9"},
		{"kubectl -n {{$labels.namespace}} get pods", "kubectl -n prod get pods"},
		{`kubectl get deploy -l app={{ index .Labels "app.kubernetes.io/name" }}`, "kubectl get deploy -l app=api"},
		{"echo {{- .Annotations.summary -}}", "echo API down"},
		{"kubectl describe node {{ .Labels.node }}", "kubectl describe node <node>"},
		{"echo {{ .Labels.evil }}", "echo x'; rm -rf / '"},
		{"no placeholders", "no placeholders"},
		{"{{ .Labels.pod | printf }}", "{{ .Labels.pod | printf }}"},
	} {
		if got := Fill(tc.in, v); got != tc.want {
			t.Errorf("Fill(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPlaceholdersRefuseTemplates(t *testing.T) {
	for _, in := range []string{
		`{{ .Labels.pod | printf "%s" }}`,
		`{{ template "x" }}`,
		`{{ .Values.x }}`,
		`{{ call .Labels.pod }}`,
	} {
		_, err := Placeholders("kubectl " + in)
		if err == nil || !strings.Contains(err.Error(), "unsupported placeholder") {
			t.Errorf("Placeholders(%q) error = %v, want unsupported placeholder", in, err)
		}
	}
	ps, err := Placeholders("a {{ .Labels.x }} b {{ $annotations.y }}")
	if err != nil || len(ps) != 2 || ps[0].Name != "x" || ps[0].Annotation || ps[1].Name != "y" || !ps[1].Annotation {
		t.Fatalf("Placeholders = %+v, %v", ps, err)
	}
}

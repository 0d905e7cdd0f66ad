package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// maxFuzzConfig bounds a fuzzed file: the parser's cost, not its limits,
// is what a longer input would test.
const maxFuzzConfig = 64 << 10

// fuzzEnv sets every KLAXON_* variable to a distinct value long enough for
// a token, and nothing else, so ${…} expansion is exercised both ways.
func fuzzEnv(name string) (string, bool) {
	if !strings.HasPrefix(name, "KLAXON_") {
		return "", false
	}
	return "env-" + strings.ToLower(name) + "-0123456789abcdef", true
}

// commentedKey is a line of the example file that is YAML commented out:
// "# key: …", "#   - item", "#     key: …".
var commentedKey = regexp.MustCompile(`(?m)^# ( *[a-z_]+:(?: |$)| *- |  +)`)

// exampleSeeds are the example configuration as shipped and with every
// commented-out setting turned on (its runbook directory made one that
// exists, so that it loads).
func exampleSeeds(f *testing.F) [][]byte {
	b, err := os.ReadFile("../../klaxon.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	all := commentedKey.ReplaceAllString(string(b), "$1")
	return [][]byte{b, []byte(strings.Replace(all, "dir: /srv/runbooks", "dir: .", 1))}
}

// FuzzParse parses configuration files. An error is an *Error listing
// problems with messages; a configuration that loads validates again as
// it is, prints as YAML with every secret redacted, and parsing is
// deterministic: the same file gives the same answer.
func FuzzParse(f *testing.F) {
	for _, b := range exampleSeeds(f) {
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	for _, s := range []string{
		"listen: 127.0.0.1:8080\n",
		"",
		"---\n",
		"null\n",
		"[]\n",
		"listen: ${HOST}:${PORT}\ndatabase: sqlite://${DIR}/klaxon.db\n",
		"api_tokens:\n  - name: ops\n    token: $${KLAXON_X}0123456789abcdef\n    role: viewer\n",
		"api_tokens:\n  - {name: a, token: aaaaaaaaaaaaaaaa}\n  - {name: b, token: aaaaaaaaaaaaaaaa, role: root}\n",
		"database: postgres://klaxon:${KLAXON_PG}@db.internal:5432/klaxon?sslmode=require\n",
		"database: postgres://u:p@ss:w0rd@h/d\nurl: https://klaxon.example.org/\n",
		"database: sqlite://\nlisten: nowhere\n",
		"heartbeats:\n  - {name: x, timeout: 1ns}\n  - {name: x, timeout: 99999999999h, alertname: W}\n  - {name: y, timeout: -5m, alertname: W}\n",
		"severity:\n  label: priority\n  default: P9\n  levels:\n    - {name: P0, values: [critical, CRITICAL]}\n  ack_deadlines: {P0: 15m, P7: forever}\n",
		"channels:\n  - {name: ops, type: slack, bot_token: ${KLAXON_SLACK}}\n  - {name: ops, type: matrix}\nroutes:\n  receiver: [ops, nobody]\n  routes:\n    - {matchers: ['a=~\"(\"'], receiver: ops, group_wait: 1e99s}\n",
		"routes:\n  routes:\n" + strings.Repeat("    - routes:\n", 1) + "        - {receiver: x}\n",
		"users:\n  - {name: alice, slack: U1, matrix: '@a:x'}\n  - {name: bob, slack: U1}\nschedules:\n  - name: p\n    time_zone: Mars/Olympus\n    rotations:\n      - {participants: [alice, carol], shift: 0h, handoff: '25:61', start: 2026-02-30}\n    overrides:\n      - {user: alice, start: '2026-12-24 09:00:00', end: 2026-12-24T09:00:00+01:00}\n",
		"escalation_policies:\n  - {name: d, repeat: 1000000, steps: [{targets: [{schedule: nope}, {user: x, channel: y}]}]}\n",
		"business_hours: {days: [sun-sat, 'mon-', xyz], start: '9'}\ncalendar: {secret: short}\n",
		"incidents:\n  names: [A, A, '']\n  update_every: {SEV9: 2m}\n  checklists: {default: [x], SEV1: []}\n",
		"status_page:\n  components: [{name: API}, {name: API, services: [a]}]\n  maintenance: [{title: t, start: 2026-12-01T06:30:00Z, end: 2026-12-01T06:00:00Z}]\n",
		"diagnostics: {enabled: true, allow: ['', 'a|', '|b'], redact: ['(', '(?i)password=\\S+'], timeout: 0s, concurrency: -1}\nrunbooks: {dir: ''}\n",
		"auth:\n  session_ttl: 1s\n  trusted_proxies: [10.0.0.0/33, '::1', x]\n  oidc: {issuer: 'http://evil.example', client_id: k, client_secret: s, default_role: god}\n",
		"a: &a [*a]\n",
		"listen: &x 127.0.0.1:8080\nurl: *x\napi_tokens: &t [{name: a, token: aaaaaaaaaaaaaaaa}]\n",
		"k: &a [&b [&c [x, x, x, x, x, x, x, x, x], *c, *c, *c, *c, *c, *c, *c, *c], *b, *b, *b, *b, *b, *b, *b, *b]\nlisten: *a\n",
		"listen: " + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + "\n",
		"listen: \"\\0\\xff\"\nurl: \"\\ud800\"\n",
		"listen: \x00\n",
		"\xef\xbb\xbflisten: :8080\n",
		"listen: 127.0.0.1:8080\nlisten: 127.0.0.1:9090\n",
		"api_tokens: {name: a}\nintegrations: x\nheartbeats: [1]\n",
		"!!binary aGVsbG8=\n",
		"%YAML 1.1\n---\nlisten: :1\n...\n---\nlisten: :2\n",
		"<script>alert(1)</script>: 1\n",
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzConfig {
			t.Skip()
		}
		cfg, err := Parse("klaxon.yaml", data, fuzzEnv)
		again, errAgain := Parse("klaxon.yaml", data, fuzzEnv)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || len(e.Problems) == 0 {
				t.Fatalf("error %T %v: want an *Error with problems", err, err)
			}
			for _, p := range e.Problems {
				if p.Message == "" || p.Line < 0 {
					t.Errorf("problem %+v: want a message and a line ≥ 0", p)
				}
			}
			if cfg != nil {
				t.Fatal("got a configuration with an error")
			}
			if errAgain == nil || errAgain.Error() != err.Error() {
				t.Fatalf("parsing again gave another answer:\n%v\nthen\n%v", err, errAgain)
			}
			return
		}
		if cfg == nil {
			t.Fatal("got nil configuration and nil error")
		}
		printed := cfg.String()
		if errAgain != nil || again.String() != printed {
			t.Fatalf("parsing again gave another answer:\n%s\nthen\n%v%v", printed, errAgain, again)
		}

		// Validation reads where keys were (whether url was written),
		// so the document is walked again as Parse walks it.
		d := &doc{name: "klaxon.yaml", lines: map[string]int{}}
		var root yaml.Node
		if err := yaml.Unmarshal(data, &root); err != nil {
			t.Fatalf("Parse loaded YAML that yaml.v3 refuses: %v", err)
		}
		if len(root.Content) > 0 {
			d.walk(root.Content[0], "", typeOfConfig, fuzzEnv)
		}
		d.problems = nil
		cfg.validate(d)
		if len(d.problems) > 0 {
			t.Fatalf("a configuration that loaded does not validate again: %v", (&Error{File: "klaxon.yaml", Problems: d.problems}).Error())
		}

		var back Config
		if err := yaml.Unmarshal([]byte(printed), &back); err != nil {
			t.Fatalf("String is not YAML a Config decodes (%v):\n%s", err, printed)
		}
		secrets := map[string]Secret{"calendar.secret": back.Calendar.Secret}
		for i, tok := range back.APITokens {
			secrets[fmt.Sprintf("api_tokens[%d].token", i)] = tok.Token
		}
		for i, in := range back.Integrations {
			secrets[fmt.Sprintf("integrations[%d].token", i)] = in.Token
		}
		if back.Auth.OIDC != nil {
			secrets["auth.oidc.client_secret"] = back.Auth.OIDC.ClientSecret
		}
		for key, s := range secrets {
			if s != "" && s != "<redacted>" {
				t.Errorf("String shows %s as %q, want it redacted", key, s)
			}
		}
		if u, err := url.Parse(cfg.Database); err == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok && pw != "" && pw != "<redacted>" {
				if b, err := url.Parse(back.Database); err == nil && b.User != nil {
					if got, _ := b.User.Password(); got == pw {
						t.Errorf("String shows the database password: %q", back.Database)
					}
				}
			}
		}
		for i, ch := range back.Channels {
			if ch.node == nil || len(ch.node.Content) > 4 {
				t.Errorf("String shows channels[%d] with more than its name and type", i)
			}
		}
	})
}

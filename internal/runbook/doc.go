// Package runbook loads runbooks kept as code: Markdown files in a
// directory (a git checkout in practice), one runbook per file, each with
// YAML front matter naming the alerts it covers.
//
//	---
//	title: Pod crash-looping
//	alerts: [KubePodCrashLooping, "Kube*Restarting"]
//	matchers: ['namespace=~"prod-.*"']
//	owner: platform-team
//	---
//	## Diagnose
//	```diagnose
//	kubectl -n {{ .Labels.namespace }} get pod {{ .Labels.pod }}
//	```
//	## Common causes and fixes
//	## Escalate
//
// # Which runbook an alert gets
//
// A runbook matches an alert when one of its alerts patterns matches the
// alertname label (a pattern is an exact name, or a glob as in path.Match
// when it has any of * ? [) and every one of its matchers matches the
// alert's labels (Alertmanager matcher syntax; a label the alert lacks is
// the empty string). An alert gets at most one runbook: of those that
// match, the most specific, compared in this order:
//
//  1. a pattern that is an exact name beats a glob;
//  2. more matchers beat fewer;
//  3. between globs, the one with more literal (non-wildcard) characters
//     wins: "KubePod*" beats "Kube*";
//  4. then the file whose path sorts first wins. Lint reports two runbooks
//     with the same name or glob and as many matchers (unless an equality
//     matcher on the same label keeps them apart), since only this last
//     rule separates them: a conflict to resolve.
//
// Sections are found by their headings (level 2 or deeper), in any words:
// "Diagnose", "Triage", "First steps" are the diagnose section; "Common
// causes", "Fixes", "Mitigation" the causes section; "Escalate", "Who to
// call" the escalate section; "Verify", "Check it worked" the verify
// section. The fenced code blocks of the diagnose section are its steps,
// shown in chat with the alert's labels filled in; ```diagnose blocks (or
// all of them, with "diagnose: true" in the front matter) are the ones
// Klaxon may run as diagnostics.
package runbook

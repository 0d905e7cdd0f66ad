package runbook

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Rule is a Prometheus alerting rule, as far as coverage needs it.
type Rule struct {
	Name, Group, File string
	Line              int // of the rule's alert: key
	Labels            map[string]string
	Annotations       map[string]string
}

// LoadRules reads the alerting rules in paths, each a file or a directory
// (whose *.yaml and *.yml files are read, hidden directories skipped). A
// file may hold several YAML documents; those that are Prometheus rule
// files (groups: at the top) or Kubernetes PrometheusRule manifests
// (spec.groups) are read, any other (a ConfigMap next to them) is
// skipped. Recording rules are ignored.
func LoadRules(paths ...string) ([]Rule, []Problem) {
	var (
		rules    []Rule
		problems []Problem
	)
	read := func(file string) {
		rs, ps := loadRuleFile(file)
		rules = append(rules, rs...)
		problems = append(problems, ps...)
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			problems = append(problems, Problem{File: filepath.ToSlash(p), Message: err.Error()})
			continue
		}
		if !fi.IsDir() {
			read(p)
			continue
		}
		err = filepath.WalkDir(p, func(f string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				problems = append(problems, Problem{File: filepath.ToSlash(f), Message: err.Error()})
			case d.IsDir() && f != p && strings.HasPrefix(d.Name(), "."):
				return filepath.SkipDir
			case !d.IsDir() && isRuleFile(d.Name()):
				read(f)
			}
			return nil
		})
		if err != nil {
			problems = append(problems, Problem{File: filepath.ToSlash(p), Message: err.Error()})
		}
	}
	return rules, problems
}

func isRuleFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

func loadRuleFile(file string) ([]Rule, []Problem) {
	rf := ruleFile{file: filepath.ToSlash(file)}
	f, err := os.Open(file)
	if err != nil {
		rf.errorf(0, "%v", err)
		return nil, rf.problems
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, msg := yamlErrorLine(err)
			rf.errorf(line, "%s", msg)
			break // the decoder cannot go on past a syntax error
		}
		if len(doc.Content) > 0 {
			rf.document(rf.follow(doc.Content[0]))
		}
	}
	return rf.rules, rf.problems
}

// ruleFile gathers the rules and problems of one file.
type ruleFile struct {
	file     string
	rules    []Rule
	problems []Problem
	aliases  int // followed so far, see follow
}

// maxRuleFileAliases bounds the YAML aliases followed in one rule file's
// lists, groups and rules. Real rule files use none there; without a bound
// an alias to itself recurses forever, and aliases of aliases multiply a
// few hundred bytes into millions of rules.
const maxRuleFileAliases = 100

// follow is deref for the nodes that make up the file's structure, within
// the alias budget; nil once the budget is spent (reported once).
func (rf *ruleFile) follow(n *yaml.Node) *yaml.Node {
	if n == nil || n.Kind != yaml.AliasNode {
		return n
	}
	if rf.aliases++; rf.aliases == maxRuleFileAliases+1 {
		rf.errorf(n.Line, "more than %d YAML aliases in lists of rules; the rest of the file is skipped", maxRuleFileAliases)
	}
	if rf.aliases > maxRuleFileAliases {
		return nil
	}
	return deref(n)
}

func (rf *ruleFile) errorf(line int, format string, args ...any) {
	rf.problems = append(rf.problems, Problem{File: rf.file, Line: line, Message: fmt.Sprintf(format, args...)})
}

func (rf *ruleFile) document(root *yaml.Node) {
	if root == nil || root.Kind != yaml.MappingNode {
		return
	}
	if _, groups := rf.field(root, "groups"); groups != nil {
		rf.groups(groups)
		return
	}
	_, kind := lookup(root, "kind")
	switch {
	case kind == nil:
	case kind.Value == "PrometheusRule":
		if _, spec := rf.field(root, "spec"); spec != nil {
			if _, groups := rf.field(spec, "groups"); groups != nil {
				rf.groups(groups)
			}
		}
	case kind.Value == "List": // kubectl get -o yaml
		if _, items := rf.field(root, "items"); items != nil && items.Kind == yaml.SequenceNode {
			for _, it := range items.Content {
				rf.document(rf.follow(it))
			}
		}
	}
}

func (rf *ruleFile) groups(groups *yaml.Node) {
	if groups.Kind != yaml.SequenceNode {
		rf.errorf(groups.Line, "groups must be a list")
		return
	}
	for _, g := range groups.Content {
		if g = rf.follow(g); g == nil {
			return
		}
		if g.Kind != yaml.MappingNode {
			rf.errorf(g.Line, "a rule group must be a mapping with name and rules")
			continue
		}
		_, name := lookup(g, "name")
		_, rules := rf.field(g, "rules")
		if rules == nil {
			continue
		}
		if rules.Kind != yaml.SequenceNode {
			rf.errorf(rules.Line, "rules must be a list")
			continue
		}
		for _, r := range rules.Content {
			if r = rf.follow(r); r == nil {
				return
			}
			rf.rule(scalarValue(name), r)
		}
	}
}

func (rf *ruleFile) rule(group string, r *yaml.Node) {
	if r.Kind != yaml.MappingNode {
		rf.errorf(r.Line, "a rule must be a mapping")
		return
	}
	key, alert := lookup(r, "alert")
	if alert == nil {
		return // a recording rule
	}
	if alert.Kind != yaml.ScalarNode || alert.Value == "" {
		rf.errorf(key.Line, "alert must be a name")
		return
	}
	_, lbls := lookup(r, "labels")
	_, anns := lookup(r, "annotations")
	rf.rules = append(rf.rules, Rule{
		Name: alert.Value, Group: group, File: rf.file, Line: key.Line,
		Labels: rf.stringMap("labels", lbls), Annotations: rf.stringMap("annotations", anns),
	})
}

func (rf *ruleFile) stringMap(key string, m *yaml.Node) map[string]string {
	out := map[string]string{}
	if m == nil || (m.Kind == yaml.ScalarNode && m.Tag == "!!null") {
		return out
	}
	if m.Kind != yaml.MappingNode {
		rf.errorf(m.Line, "%s must be a mapping", key)
		return out
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		out[m.Content[i].Value] = scalarValue(deref(m.Content[i+1]))
	}
	return out
}

// lookup is the key and value nodes of key in mapping m, or nils.
func lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	k, v = lookupRaw(m, key)
	return k, deref(v)
}

// field is lookup for the file's structure (spec, groups, items, rules):
// an alias there counts against the file's budget.
func (rf *ruleFile) field(m *yaml.Node, key string) (k, v *yaml.Node) {
	k, v = lookupRaw(m, key)
	return k, rf.follow(v)
}

func lookupRaw(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

func scalarValue(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

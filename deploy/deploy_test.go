// Package deploy_test keeps the files in deploy/ honest: the Kubernetes
// manifests parse and fit together, their probes ask for routes the server
// serves, the configuration they ship loads, and the systemd unit, the
// manifests and docs/deploy.md agree on where the configuration lives.
package deploy_test

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/klaxon-oss/klaxon/internal/app"
	"github.com/klaxon-oss/klaxon/internal/config"
)

const (
	kubernetesDir = "kubernetes"
	// configPath is where every deployment keeps the configuration.
	configPath = "/etc/klaxon/klaxon.yaml"
	// shutdownTimeout is how long Klaxon lets in-flight requests finish
	// after SIGTERM (the default of app.Options.ShutdownTimeout).
	shutdownTimeout = 30 * time.Second
)

// manifests is what deploy/kubernetes holds, one of each kind.
type manifests struct {
	kustomization kustomization
	deployment    deployment
	service       service
	budget        budget
	cluster       cluster
	clusterName   string
	// files maps each file to the kinds of the resources in it.
	files map[string][]string
}

type kustomization struct {
	Resources       []string `yaml:"resources"`
	SecretGenerator []struct {
		Name  string   `yaml:"name"`
		Files []string `yaml:"files"`
	} `yaml:"secretGenerator"`
}

type labelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

type deployment struct {
	Spec struct {
		Replicas int           `yaml:"replicas"`
		Selector labelSelector `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				TerminationGracePeriodSeconds int         `yaml:"terminationGracePeriodSeconds"`
				Containers                    []container `yaml:"containers"`
				Volumes                       []struct {
					Name   string `yaml:"name"`
					Secret struct {
						SecretName string `yaml:"secretName"`
					} `yaml:"secret"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type container struct {
	Name string `yaml:"name"`
	Env  []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom struct {
			SecretKeyRef struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	StartupProbe   *probe `yaml:"startupProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	Lifecycle      struct {
		PreStop struct {
			Sleep struct {
				Seconds int `yaml:"seconds"`
			} `yaml:"sleep"`
		} `yaml:"preStop"`
	} `yaml:"lifecycle"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

type service struct {
	Spec struct {
		Selector map[string]string `yaml:"selector"`
		Ports    []struct {
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type budget struct {
	Spec struct {
		MinAvailable   *int          `yaml:"minAvailable"`
		MaxUnavailable *int          `yaml:"maxUnavailable"`
		Selector       labelSelector `yaml:"selector"`
	} `yaml:"spec"`
}

type cluster struct {
	Spec struct {
		Instances int `yaml:"instances"`
		Bootstrap struct {
			Initdb struct {
				Database string `yaml:"database"`
				Owner    string `yaml:"owner"`
			} `yaml:"initdb"`
		} `yaml:"bootstrap"`
	} `yaml:"spec"`
}

// loadManifests parses every YAML document under deploy/kubernetes and
// decodes the one resource of each kind the tests look at.
func loadManifests(t *testing.T) *manifests {
	t.Helper()
	m := &manifests{files: map[string][]string{}}
	seen := map[string]int{}
	err := filepath.WalkDir(kubernetesDir, func(file string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(file) != ".yaml" {
			return err
		}
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, _ := filepath.Rel(kubernetesDir, file)
		dec := yaml.NewDecoder(f)
		for {
			var doc yaml.Node
			if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			var head struct {
				APIVersion string `yaml:"apiVersion"`
				Kind       string `yaml:"kind"`
				Metadata   struct {
					Name string `yaml:"name"`
				} `yaml:"metadata"`
			}
			if err := doc.Decode(&head); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			var into any
			switch head.Kind {
			case "":
				continue // not a resource: the Klaxon configuration
			case "Kustomization":
				into = &m.kustomization
			case "Deployment":
				into = &m.deployment
			case "Service":
				into = &m.service
			case "PodDisruptionBudget":
				into = &m.budget
			case "Cluster":
				if head.APIVersion != "postgresql.cnpg.io/v1" {
					return fmt.Errorf("%s: Cluster %s: apiVersion %q, want postgresql.cnpg.io/v1", file, head.Metadata.Name, head.APIVersion)
				}
				into, m.clusterName = &m.cluster, head.Metadata.Name
			}
			m.files[rel] = append(m.files[rel], head.Kind)
			if into == nil {
				continue
			}
			if seen[head.Kind]++; seen[head.Kind] > 1 {
				return fmt.Errorf("%s: a second %s; the tests expect one", file, head.Kind)
			}
			if err := doc.Decode(into); err != nil {
				return fmt.Errorf("%s: %s %s: %w", file, head.Kind, head.Metadata.Name, err)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"Kustomization", "Deployment", "Service", "PodDisruptionBudget", "Cluster"} {
		if seen[kind] == 0 {
			t.Fatalf("no %s in %s", kind, kubernetesDir)
		}
	}
	if n := len(m.deployment.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("Deployment has %d containers, want 1 (klaxon)", n)
	}
	return m
}

func (m *manifests) klaxon() container { return m.deployment.Spec.Template.Spec.Containers[0] }

func (m *manifests) podLabels() map[string]string {
	return m.deployment.Spec.Template.Metadata.Labels
}

// selects reports whether a non-empty selector matches labels.
func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return len(selector) > 0
}

// env returns the container's environment variable called name.
func env(t *testing.T, c container, name string) (value, secret, key string) {
	t.Helper()
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key
		}
	}
	t.Fatalf("container %s sets no %s", c.Name, name)
	return "", "", ""
}

// port returns the container's port called name (or numbered so).
func port(c container, name string) (int, bool) {
	for _, p := range c.Ports {
		if p.Name == name || strconv.Itoa(p.ContainerPort) == name {
			return p.ContainerPort, true
		}
	}
	return 0, false
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	m := loadManifests(t)
	for _, r := range m.kustomization.Resources {
		if len(m.files[r]) == 0 {
			t.Errorf("kustomization.yaml lists %s, which holds no resource", r)
		}
	}
	for file, kinds := range m.files {
		if file != "kustomization.yaml" && !slices.Contains(m.kustomization.Resources, file) {
			t.Errorf("%s (%s) is missing from kustomization.yaml's resources", file, strings.Join(kinds, ", "))
		}
	}
}

func TestDeploymentProbesServedRoutes(t *testing.T) {
	m := loadManifests(t)
	if r := m.deployment.Spec.Replicas; r < 2 {
		t.Errorf("Deployment replicas = %d, want at least 2", r)
	}
	if !selects(m.deployment.Spec.Selector.MatchLabels, m.podLabels()) {
		t.Errorf("Deployment selector %v does not match its pods' labels %v", m.deployment.Spec.Selector.MatchLabels, m.podLabels())
	}
	routes := httpapiSource(t)
	c := m.klaxon()
	for _, tc := range []struct {
		name  string
		probe *probe
		want  string
	}{
		{"startupProbe", c.StartupProbe, "/healthz"},
		{"readinessProbe", c.ReadinessProbe, "/readyz"}, // out of the Service while the database is down
		{"livenessProbe", c.LivenessProbe, "/healthz"},  // never restarted for the database
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.probe == nil {
				t.Fatal("missing")
			}
			get := tc.probe.HTTPGet
			if get.Path != tc.want {
				t.Errorf("path = %q, want %q", get.Path, tc.want)
			}
			if !strings.Contains(routes, `"GET `+get.Path+`"`) {
				t.Errorf("internal/httpapi registers no GET %s", get.Path)
			}
			if _, ok := port(c, get.Port); !ok {
				t.Errorf("port %q is none of the container's ports", get.Port)
			}
		})
	}
	grace := time.Duration(m.deployment.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	preStop := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	if grace <= preStop+shutdownTimeout {
		t.Errorf("terminationGracePeriodSeconds = %s, want more than the preStop sleep (%s) and the %s shutdown", grace, preStop, shutdownTimeout)
	}
}

// httpapiSource returns internal/httpapi's Go source, where the routes are
// registered: reading it is cheaper than starting a server with a store.
func httpapiSource(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob("../internal/httpapi/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no source in ../internal/httpapi (%v)", err)
	}
	var src strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	return src.String()
}

func TestServiceAndBudgetSelectThePods(t *testing.T) {
	m := loadManifests(t)
	if !selects(m.service.Spec.Selector, m.podLabels()) {
		t.Errorf("Service selector %v does not match the pods' labels %v", m.service.Spec.Selector, m.podLabels())
	}
	for _, p := range m.service.Spec.Ports {
		if _, ok := port(m.klaxon(), p.TargetPort); !ok {
			t.Errorf("Service targetPort %q is none of the container's ports", p.TargetPort)
		}
	}
	spec := m.budget.Spec
	if !selects(spec.Selector.MatchLabels, m.podLabels()) {
		t.Errorf("PodDisruptionBudget selector %v does not match the pods' labels %v", spec.Selector.MatchLabels, m.podLabels())
	}
	// The budget must protect the service and still let a node drain.
	replicas := m.deployment.Spec.Replicas
	switch {
	case spec.MaxUnavailable != nil && (*spec.MaxUnavailable < 1 || *spec.MaxUnavailable >= replicas):
		t.Errorf("PodDisruptionBudget maxUnavailable = %d, want 1 to %d", *spec.MaxUnavailable, replicas-1)
	case spec.MinAvailable != nil && (*spec.MinAvailable < 1 || *spec.MinAvailable >= replicas):
		t.Errorf("PodDisruptionBudget minAvailable = %d, want 1 to %d", *spec.MinAvailable, replicas-1)
	case spec.MaxUnavailable == nil && spec.MinAvailable == nil:
		t.Error("PodDisruptionBudget sets neither maxUnavailable nor minAvailable")
	}
}

func TestDatabaseURLFromCloudNativePG(t *testing.T) {
	m := loadManifests(t)
	// CloudNativePG writes the owner's credentials to <cluster>-app; its
	// key uri is a postgresql:// URL.
	_, secret, key := env(t, m.klaxon(), "DATABASE_URL")
	if want := m.clusterName + "-app"; secret != want || key != "uri" {
		t.Errorf("DATABASE_URL comes from secret %q key %q, want %q key \"uri\"", secret, key, want)
	}
	spec := m.cluster.Spec
	if spec.Instances < 2 {
		t.Errorf("Cluster instances = %d, want at least 2 for failover", spec.Instances)
	}
	if spec.Bootstrap.Initdb.Database == "" || spec.Bootstrap.Initdb.Owner == "" {
		t.Errorf("Cluster bootstrap.initdb names no database or owner: %+v", spec.Bootstrap.Initdb)
	}
}

func TestShippedConfigLoads(t *testing.T) {
	m := loadManifests(t)
	c := m.klaxon()
	if v, _, _ := env(t, c, "KLAXON_CONFIG"); v != configPath {
		t.Errorf("KLAXON_CONFIG = %q, want %q", v, configPath)
	}
	secret := mountedSecret(t, m, path.Dir(configPath))
	file := generatedFile(t, m.kustomization, secret, path.Base(configPath))

	data, err := os.ReadFile(filepath.Join(kubernetesDir, file))
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	lookup := func(name string) (string, bool) {
		asked = append(asked, name)
		if name == "DATABASE_URL" {
			return "postgresql://klaxon:secret@klaxon-db-rw:5432/klaxon", true
		}
		return "deploy-test-value-of-" + name, true // distinct: tokens must be unique
	}
	cfg, err := config.Parse(file, data, lookup, app.Check)
	if err != nil {
		t.Fatalf("the shipped configuration does not load:\n%v", err)
	}
	if !slices.Contains(asked, "DATABASE_URL") {
		t.Errorf("the configuration does not use ${DATABASE_URL}, which the Deployment sets")
	}
	if kind, _, _ := config.ParseDatabase(cfg.Database); kind != "postgres" {
		t.Errorf("database is %s; %d replicas need PostgreSQL", kind, m.deployment.Spec.Replicas)
	}
	_, listenPort, _ := net.SplitHostPort(cfg.Listen)
	if _, ok := port(c, listenPort); !ok {
		t.Errorf("listen %q is on none of the container's ports", cfg.Listen)
	}
}

// mountedSecret returns the secret volume the container mounts at dir.
func mountedSecret(t *testing.T, m *manifests, dir string) string {
	t.Helper()
	for _, vm := range m.klaxon().VolumeMounts {
		if vm.MountPath != dir {
			continue
		}
		for _, v := range m.deployment.Spec.Template.Spec.Volumes {
			if v.Name == vm.Name && v.Secret.SecretName != "" {
				return v.Secret.SecretName
			}
		}
	}
	t.Fatalf("the container mounts no secret at %s", dir)
	return ""
}

// generatedFile returns the file kustomize puts under key in the generated
// secret called name.
func generatedFile(t *testing.T, kust kustomization, name, key string) string {
	t.Helper()
	for _, g := range kust.SecretGenerator {
		if g.Name != name {
			continue
		}
		for _, f := range g.Files {
			// An entry is FILE (its key is the base name) or KEY=FILE.
			if k, file, ok := strings.Cut(f, "="); ok && k == key {
				return file
			} else if !ok && path.Base(f) == key {
				return f
			}
		}
	}
	t.Fatalf("kustomization.yaml generates no secret %s with key %s", name, key)
	return ""
}

func TestSystemdUnitAndDocsAgree(t *testing.T) {
	unit, err := os.ReadFile("systemd/klaxon.service")
	if err != nil {
		t.Fatal(err)
	}
	var environment []string
	var stopTimeout time.Duration
	for line := range strings.Lines(string(unit)) {
		key, value, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch key {
		case "Environment":
			environment = append(environment, strings.Fields(value)...)
		case "TimeoutStopSec":
			if stopTimeout, err = time.ParseDuration(value); err != nil {
				t.Errorf("TimeoutStopSec=%s: %v", value, err)
			}
		}
	}
	if want := "KLAXON_CONFIG=" + configPath; !slices.Contains(environment, want) {
		t.Errorf("klaxon.service sets Environment %v, want %s", environment, want)
	}
	if stopTimeout <= shutdownTimeout {
		t.Errorf("TimeoutStopSec = %s, want more than the %s shutdown", stopTimeout, shutdownTimeout)
	}
	docs, err := os.ReadFile("../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(docs), configPath) {
		t.Errorf("docs/deploy.md never names %s", configPath)
	}
}

func TestContainerExposesTheDeploymentPort(t *testing.T) {
	m := loadManifests(t)
	containerfile, err := os.ReadFile("container/Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	p, ok := port(m.klaxon(), "http")
	if !ok {
		t.Fatal("the Deployment's container has no port named http")
	}
	for _, want := range []string{fmt.Sprintf("EXPOSE %d", p), fmt.Sprintf("--listen=:%d", p)} {
		if !strings.Contains(string(containerfile), want) {
			t.Errorf("Containerfile lacks %q", want)
		}
	}
}

package loadgen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// Payload formats the load tool can send.
const (
	FormatAlertmanager = "alertmanager" // Alertmanager webhook v4, POST /api/v1/ingest/alertmanager
	FormatGeneric      = "generic"      // Klaxon's generic JSON array, POST /api/v1/ingest/generic
)

// endpoint is the ingest path of each format.
var endpoint = map[string]string{
	FormatAlertmanager: "/api/v1/ingest/alertmanager",
	FormatGeneric:      "/api/v1/ingest/generic",
}

// Workload is every request body of a run, generated before the clock starts
// so that generating them never bounds the measurement. Alert seq (0-based)
// is in request seq/Batch and has the key Key(Run, seq): every alert of every
// run is distinct, so each one creates a new alert on the server.
type Workload struct {
	Run    uint32
	Format string
	Alerts int
	Batch  int
	Bodies [][]byte
}

// Key is the fingerprint (Alertmanager) or key (generic) of alert seq of run:
// 16 hex digits like Alertmanager's own fingerprints, the first 8 naming the
// run so runs never collide with each other.
func Key(run uint32, seq int) string {
	return fmt.Sprintf("%08x%08x", run, uint32(seq))
}

// parseKey is Key's inverse; ok is false for a key of another run.
func parseKey(run uint32, key string) (seq int, ok bool) {
	if len(key) != 16 || key[:8] != fmt.Sprintf("%08x", run) {
		return 0, false
	}
	n, err := strconv.ParseUint(key[8:], 16, 32)
	if err != nil {
		return 0, false
	}
	return int(n), true
}

// Requests is the number of requests of the workload.
func (w *Workload) Requests() int { return len(w.Bodies) }

// RequestAlerts is the number of alerts in request i (the last may be short).
func (w *Workload) RequestAlerts(i int) int {
	return min(w.Batch, w.Alerts-i*w.Batch)
}

// Generate builds the bodies of a run of alerts alerts in requests of batch,
// in parallel on every CPU. The same arguments give the same bytes except for
// timestamps.
func Generate(run uint32, format string, alerts, batch int) (*Workload, error) {
	if _, ok := endpoint[format]; !ok {
		return nil, fmt.Errorf("format: got %q, want %s or %s", format, FormatAlertmanager, FormatGeneric)
	}
	if alerts < 1 || batch < 1 {
		return nil, fmt.Errorf("alerts and batch must be at least 1 (got %d and %d)", alerts, batch)
	}
	if int64(alerts) > 1<<32 {
		return nil, fmt.Errorf("alerts: at most %d per run", int64(1)<<32)
	}
	w := &Workload{Run: run, Format: format, Alerts: alerts, Batch: batch}
	w.Bodies = make([][]byte, (alerts+batch-1)/batch)
	now := time.Now().UTC().Truncate(time.Millisecond)
	var (
		wg      sync.WaitGroup
		errOnce sync.Once
		genErr  error
	)
	workers := runtime.GOMAXPROCS(0)
	for wk := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := wk; i < len(w.Bodies); i += workers {
				b, err := w.body(i, now)
				if err != nil {
					errOnce.Do(func() { genErr = err })
					return
				}
				w.Bodies[i] = b
			}
		}()
	}
	wg.Wait()
	if genErr != nil {
		return nil, genErr
	}
	return w, nil
}

// rule is an alerting rule of the kind kube-prometheus and service teams
// ship: the generated alerts are spread over these.
type rule struct {
	name, severity, summary, description string // description: %[1]s namespace, %[2]s pod, %[3]s container
	runbook                              string
}

var rules = []rule{
	{"KubePodCrashLooping", "critical", "Pod is crash looping.",
		`Pod %[1]s/%[2]s (%[3]s) is in waiting state (reason: "CrashLoopBackOff").`, "kubernetes/kubepodcrashlooping"},
	{"KubePodNotReady", "warning", "Pod has been in a non-ready state for more than 15 minutes.",
		"Pod %[1]s/%[2]s has been in a non-ready state for longer than 15 minutes.", "kubernetes/kubepodnotready"},
	{"KubeContainerWaiting", "warning", "Pod container waiting longer than 1 hour",
		"pod/%[2]s in namespace %[1]s on container %[3]s has been in waiting state for longer than 1 hour.", "kubernetes/kubecontainerwaiting"},
	{"CPUThrottlingHigh", "info", "Processes experience elevated CPU throttling.",
		"Throttling of CPU in namespace %[1]s for container %[3]s in pod %[2]s is above 25%%.", "kubernetes/cputhrottlinghigh"},
	{"KubeContainerOOMKilled", "warning", "Container was OOM killed.",
		"Container %[3]s in pod %[1]s/%[2]s was OOMKilled and restarted.", "kubernetes/kubecontaineroomkilled"},
	{"HTTPErrorRateHigh", "critical", "High rate of HTTP 5xx answers.",
		"%[1]s/%[2]s answers more than 5%% of requests with a 5xx status over the last 5 minutes.", "service/httperrorratehigh"},
	{"HTTPLatencyHigh", "warning", "p99 latency above SLO.",
		"p99 latency of %[1]s/%[2]s (%[3]s) is above 500ms over the last 10 minutes.", "service/httplatencyhigh"},
	{"PersistentVolumeFillingUp", "critical", "PersistentVolume is filling up.",
		"The volume claimed by %[2]s in namespace %[1]s is expected to fill up within four days.", "kubernetes/kubepersistentvolumefillingup"},
}

var namespaces = []string{"payments", "checkout", "search", "identity", "billing", "inventory",
	"notifications", "data-pipeline", "ingress-nginx", "monitoring"}

var workloads = []string{"api", "worker", "gateway", "consumer", "scheduler"}

const (
	alertmanagerURL = "http://alertmanager.monitoring.svc:9093"
	prometheusURL   = "http://prometheus-k8s-0.monitoring.svc:9090/graph?g0.expr="
	runbookBase     = "https://runbooks.prometheus-operator.dev/runbooks/"
)

// amMessage and amAlert are the webhook v4 body as Alertmanager sends it.
type amMessage struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            []amAlert         `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
}

type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// genericAlert is one element of a generic-format body.
type genericAlert struct {
	Key         string            `json:"key"`
	Status      string            `json:"status"`
	Summary     string            `json:"summary"`
	Severity    string            `json:"severity"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"starts_at"`
	URL         string            `json:"url"`
}

// body builds request i. Like an Alertmanager group (by alertname and
// namespace), one request carries alerts of one rule in one namespace, each
// about a different pod.
func (w *Workload) body(i int, now time.Time) ([]byte, error) {
	rnd := rand.New(rand.NewPCG(uint64(w.Run), uint64(i)))
	r := rules[rnd.IntN(len(rules))]
	ns := namespaces[rnd.IntN(len(namespaces))]
	cluster := fmt.Sprintf("bench-%08x", w.Run)
	startsAt := now.Add(-time.Duration(rnd.IntN(3600)) * time.Second)
	expr := prometheusURL + "sum+by+%28namespace%2C+pod%29+%28" + r.name + "%29+%3E+0&g0.tab=1"
	first := i * w.Batch
	n := w.RequestAlerts(i)

	labels := make([]map[string]string, n)
	annotations := make([]map[string]string, n)
	for j := range n {
		seq := first + j
		deploy := ns + "-" + workloads[rnd.IntN(len(workloads))]
		pod := fmt.Sprintf("%s-%08x-%s", deploy, rnd.Uint32(), strconv.FormatInt(int64(seq), 36))
		container := deploy
		labels[j] = map[string]string{
			"alertname": r.name,
			"cluster":   cluster,
			"namespace": ns,
			"pod":       pod,
			"container": container,
			"severity":  r.severity,
			"job":       "kube-state-metrics",
		}
		annotations[j] = map[string]string{
			"summary":     r.summary,
			"description": fmt.Sprintf(r.description, ns, pod, container),
			"runbook_url": runbookBase + r.runbook,
		}
	}

	switch w.Format {
	case FormatGeneric:
		out := make([]genericAlert, n)
		for j := range n {
			out[j] = genericAlert{
				Key:         Key(w.Run, first+j),
				Status:      "firing",
				Summary:     r.summary,
				Severity:    r.severity,
				Labels:      labels[j],
				Annotations: annotations[j],
				StartsAt:    startsAt,
				URL:         expr,
			}
		}
		return json.Marshal(out)
	default:
		m := amMessage{
			Receiver:          "klaxon",
			Status:            "firing",
			Alerts:            make([]amAlert, n),
			GroupLabels:       map[string]string{"alertname": r.name, "namespace": ns},
			CommonLabels:      map[string]string{"alertname": r.name, "cluster": cluster, "namespace": ns, "severity": r.severity, "job": "kube-state-metrics"},
			CommonAnnotations: map[string]string{"summary": r.summary, "runbook_url": runbookBase + r.runbook},
			ExternalURL:       alertmanagerURL,
			Version:           "4",
			GroupKey:          fmt.Sprintf(`{}/{severity=~"warning|critical"}:{alertname=%q, namespace=%q}`, r.name, ns),
		}
		for j := range n {
			m.Alerts[j] = amAlert{
				Status:       "firing",
				Labels:       labels[j],
				Annotations:  annotations[j],
				StartsAt:     startsAt,
				GeneratorURL: expr,
				Fingerprint:  Key(w.Run, first+j),
			}
		}
		return json.Marshal(m)
	}
}

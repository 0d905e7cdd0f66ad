package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Report is what a run did.
type Report struct {
	Targets     []string `json:"targets"` // the ingest URLs, one per server
	Format      string   `json:"format"`
	Run         string   `json:"run"` // the run's key prefix, in hex
	Batch       int      `json:"batch"`
	Concurrency int      `json:"concurrency"`
	Client      string   `json:"client"`
	// Planned is the alerts generated; a --duration may stop short of them.
	Planned  int       `json:"alerts_planned"`
	Generate Seconds   `json:"generate_seconds"` // before the clock started
	Start    time.Time `json:"start"`            // when the clock started
	Elapsed  Seconds   `json:"elapsed_seconds"`

	Requests       int `json:"requests"`
	RequestsOK     int `json:"requests_ok"`
	RequestsFailed int `json:"requests_failed"`
	AlertsSent     int `json:"alerts_sent"`
	AlertsAccepted int `json:"alerts_accepted"` // in requests answered 2xx
	AlertsFailed   int `json:"alerts_failed"`

	AlertsPerSec   float64 `json:"alerts_per_second"`   // accepted alerts
	RequestsPerSec float64 `json:"requests_per_second"` // 2xx requests
	Latency        Latency `json:"latency"`             // of every request, failed ones too

	// ClientCPU is the CPU this process used while sending: on the
	// server's machine, CPU the server did not get.
	ClientCPU Seconds `json:"client_cpu_seconds"`
	// MachineCPU is the CPU every process on this machine used meanwhile
	// (Linux), of MachineCores: with the server here too, what neither
	// used went to the database or to other work.
	MachineCPU   Seconds      `json:"machine_cpu_seconds,omitempty"`
	MachineCores int          `json:"machine_cores,omitempty"`
	Server       *ServerStats `json:"server,omitempty"` // from its /metrics, if readable

	Errors []ErrorCount  `json:"errors"`
	Verify *Verification `json:"verify,omitempty"`

	accepted []bool // by request index
}

// ServerStats is what the run cost the server, from the increase of its
// /metrics counters (so any other traffic at the time is included), summed
// over the servers when there are several.
type ServerStats struct {
	CPU Seconds `json:"cpu_seconds"` // process_cpu_seconds_total
	// Transactions is the store transactions (klaxon_store_duration_seconds
	// op="update"): with group commit, far fewer than requests.
	Transactions         int64   `json:"transactions"`
	AlertsPerTransaction float64 `json:"alerts_per_transaction"`
	// TransactionSeconds is the time spent in them. With SQLite's one
	// writer, TransactionSeconds/elapsed is how busy the writer was.
	TransactionSeconds Seconds `json:"transaction_seconds"`
}

// ErrorCount is one kind of failure.
type ErrorCount struct {
	What     string `json:"what"`
	Requests int    `json:"requests"`
	Alerts   int    `json:"alerts"`
	Sample   string `json:"sample,omitempty"` // start of one answer's body
}

// Seconds is a duration shown in JSON as seconds.
type Seconds time.Duration

// MarshalJSON writes the duration in seconds.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return json.Marshal(round(time.Duration(s).Seconds(), 3))
}

// MarshalJSON writes the latencies in milliseconds.
func (l Latency) MarshalJSON() ([]byte, error) {
	ms := func(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }
	return json.Marshal(struct {
		P50  float64 `json:"p50_ms"`
		P90  float64 `json:"p90_ms"`
		P99  float64 `json:"p99_ms"`
		Max  float64 `json:"max_ms"`
		Mean float64 `json:"mean_ms"`
	}{ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max), ms(l.Mean)})
}

func round(f float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(f*p) / p
}

// WriteText prints the report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "klaxon bench ingest: %s → %s\n", r.Format, strings.Join(r.Targets, ", "))
	fmt.Fprintf(&b, "  workload    %s alerts in requests of %d, %d workers, %s client (run %s; generated in %s before the clock)\n",
		group(r.Planned), r.Batch, r.Concurrency, r.Client, r.Run, fmtDur(time.Duration(r.Generate)))
	fmt.Fprintf(&b, "  elapsed     %s\n", fmtDur(time.Duration(r.Elapsed)))
	fmt.Fprintf(&b, "  throughput  %s alerts/s   %s requests/s\n", group(int(math.Round(r.AlertsPerSec))), group(int(math.Round(r.RequestsPerSec))))
	l := r.Latency
	fmt.Fprintf(&b, "  latency     p50 %s   p90 %s   p99 %s   max %s   (mean %s)\n",
		fmtDur(l.P50), fmtDur(l.P90), fmtDur(l.P99), fmtDur(l.Max), fmtDur(l.Mean))
	if el := time.Duration(r.Elapsed).Seconds(); el > 0 {
		cores := func(d Seconds) float64 { return time.Duration(d).Seconds() / el }
		b.WriteString("  cpu         ")
		if s := r.Server; s != nil {
			who := "server"
			if len(r.Targets) > 1 {
				who = fmt.Sprintf("%d servers", len(r.Targets))
			}
			fmt.Fprintf(&b, "%s %.2f cores, ", who, cores(s.CPU))
		}
		fmt.Fprintf(&b, "client %.2f cores", cores(r.ClientCPU))
		if r.MachineCores > 0 {
			fmt.Fprintf(&b, ", whole machine %.2f of %d cores", cores(r.MachineCPU), r.MachineCores)
		}
		b.WriteString("\n")
		if s := r.Server; s != nil && s.Transactions > 0 {
			fmt.Fprintf(&b, "  writes      %s transactions (%.1f alerts each); time in transactions %.0f%% of the run (summed over writers)\n",
				group(int(s.Transactions)), s.AlertsPerTransaction, 100*cores(s.TransactionSeconds))
		}
	}
	fmt.Fprintf(&b, "  accepted    %s alerts in %s requests (2xx)\n", group(r.AlertsAccepted), group(r.RequestsOK))
	fmt.Fprintf(&b, "  failed      %s alerts in %s requests\n", group(r.AlertsFailed), group(r.RequestsFailed))
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "    %-28s %s requests, %s alerts", e.What, group(e.Requests), group(e.Alerts))
		if e.Sample != "" {
			fmt.Fprintf(&b, "  e.g. %s", e.Sample)
		}
		b.WriteString("\n")
	}
	if v := r.Verify; v != nil {
		status := "OK"
		if !v.OK {
			status = "FAILED"
		}
		fmt.Fprintf(&b, "  verify      %s: created counter +%s for %s accepted alerts", status, group(int(v.CreatedDelta)), group(r.AlertsAccepted))
		if v.StoreChecked {
			fmt.Fprintf(&b, "; read back %s/%s accepted alerts from the store (%s missing, %s duplicated, %s scanned in %s)",
				group(v.Stored), group(r.AlertsAccepted), group(v.Missing), group(v.Duplicates), group(v.Scanned), fmtDur(time.Duration(v.ScanTime)))
		} else {
			b.WriteString(" (give --api-token to also read them back from the store)")
		}
		b.WriteString("\n")
		if v.StoredOfFailed > 0 {
			fmt.Fprintf(&b, "    %s alerts of failed requests were committed anyway\n", group(v.StoredOfFailed))
		}
		for _, p := range v.Problems {
			fmt.Fprintf(&b, "    %s\n", p)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fmtDur shows a duration with about three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	case d >= 10*time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
	case d >= time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
	default:
		return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 0, 64) + "µs"
	}
}

// group writes n with thousands separators: 1,234,567.
func group(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

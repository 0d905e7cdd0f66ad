package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Verification is the check that every alert the server accepted was
// committed. Two independent witnesses:
//
//   - the server's klaxon_alerts_received_total{outcome="created"} counter,
//     which Klaxon increments only after the transaction committed: its
//     increase over the run must be at least the alerts accepted (it is
//     summed over integrations, so other traffic during the run shows as
//     extra);
//   - with an API token, the alerts themselves, read back through
//     GET /api/v1/alerts from the store: every accepted alert's key must be
//     there exactly once.
type Verification struct {
	OK bool `json:"ok"`
	// CreatedDelta is the increase of the created counter over the run.
	CreatedDelta int64 `json:"created_counter_delta"`
	// StoreChecked says the alerts were read back (an API token was given).
	StoreChecked bool `json:"store_checked"`
	// Stored is how many accepted alerts were found in the store.
	Stored int `json:"stored"`
	// Missing is how many accepted alerts were not found: lost writes.
	Missing int `json:"missing"`
	// Duplicates is how many keys of the run were stored more than once.
	Duplicates int `json:"duplicates"`
	// StoredOfFailed is how many alerts of requests that failed on the
	// client (a timeout, say) were committed anyway; not an error.
	StoredOfFailed int      `json:"stored_of_failed"`
	Scanned        int      `json:"scanned"` // alerts read back
	ScanTime       Seconds  `json:"scan_seconds"`
	Problems       []string `json:"problems,omitempty"`
}

type verifier struct {
	client    *http.Client
	base      string
	apiToken  string
	created0  float64
	newestID0 int64
}

// before notes where the alerts and the counter stand; m0 is the /metrics
// scrape taken before the run.
func (v *verifier) before(ctx context.Context, m0 *metrics, err error) error {
	if err != nil {
		return err
	}
	v.created0 = m0.created
	if v.apiToken != "" {
		page, err := v.page(ctx, 1, 0)
		if err != nil {
			return err
		}
		if len(page.Alerts) > 0 {
			v.newestID0 = page.Alerts[0].ID
		}
	}
	return nil
}

// after checks the run; m1 is the /metrics scrape taken after it.
func (v *verifier) after(ctx context.Context, w *Workload, rep *Report, m1 *metrics, err error) *Verification {
	out := &Verification{}
	if err != nil {
		out.Problems = append(out.Problems, err.Error())
		return out
	}
	out.CreatedDelta = int64(m1.created - v.created0)
	switch {
	case out.CreatedDelta < int64(rep.AlertsAccepted):
		out.Problems = append(out.Problems, fmt.Sprintf(
			"created counter rose by %d, but %d alerts were accepted: %d accepted alerts were not committed",
			out.CreatedDelta, rep.AlertsAccepted, int64(rep.AlertsAccepted)-out.CreatedDelta))
	case out.CreatedDelta > int64(rep.AlertsAccepted) && rep.AlertsFailed == 0:
		out.Problems = append(out.Problems, fmt.Sprintf(
			"created counter rose by %d, more than the %d alerts accepted: other ingest traffic during the run?",
			out.CreatedDelta, rep.AlertsAccepted))
	}
	if v.apiToken != "" {
		if err := v.scan(ctx, w, rep, out); err != nil {
			out.Problems = append(out.Problems, "reading alerts back: "+err.Error())
		}
	}
	// Extra created alerts from other traffic are reported, but do not fail
	// the check: only a lost or duplicated accepted alert does.
	out.OK = out.CreatedDelta >= int64(rep.AlertsAccepted) && out.Missing == 0 && out.Duplicates == 0 &&
		(v.apiToken == "" || out.StoreChecked)
	return out
}

// metrics is what the tool reads from the server's /metrics.
type metrics struct {
	created    float64 // klaxon_alerts_received_total{outcome="created"}, all integrations
	cpu        float64 // process_cpu_seconds_total
	txns       float64 // klaxon_store_duration_seconds_count{op="update"}: transactions
	txnSeconds float64 // klaxon_store_duration_seconds_sum{op="update"}
}

// scrapeAll reads every server's /metrics and adds them up: with replicas,
// what the run cost them all, and the alerts they all created.
func scrapeAll(ctx context.Context, client *http.Client, bases []string) (*metrics, error) {
	var sum metrics
	for _, base := range bases {
		m, err := scrape(ctx, client, base)
		if err != nil {
			return nil, err
		}
		sum.created += m.created
		sum.cpu += m.cpu
		sum.txns += m.txns
		sum.txnSeconds += m.txnSeconds
	}
	return &sum, nil
}

// scrape reads the server's /metrics.
func scrape(ctx context.Context, client *http.Client, base string) (*metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read %s/metrics: %w", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // keep the connection
		return nil, fmt.Errorf("read %s/metrics: %s", base, resp.Status)
	}
	return parseMetrics(resp.Body)
}

// parseMetrics picks the samples the tool uses from Prometheus' text
// exposition format.
func parseMetrics(r io.Reader) (*metrics, error) {
	var m metrics
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var dst *float64
		switch {
		case strings.HasPrefix(line, "klaxon_alerts_received_total{") && strings.Contains(line, `outcome="created"`):
			dst = &m.created
		case strings.HasPrefix(line, "process_cpu_seconds_total "):
			dst = &m.cpu
		case strings.HasPrefix(line, "klaxon_store_duration_seconds_count{") && strings.Contains(line, `op="update"`):
			dst = &m.txns
		case strings.HasPrefix(line, "klaxon_store_duration_seconds_sum{") && strings.Contains(line, `op="update"`):
			dst = &m.txnSeconds
		default:
			continue
		}
		fields := strings.Fields(line[strings.LastIndexByte(line, '}')+1:])
		if strings.HasPrefix(line, "process_") {
			fields = strings.Fields(line)[1:]
		}
		if len(fields) == 0 {
			return nil, fmt.Errorf("metrics: no value in %q", line)
		}
		f, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: %q: %w", line, err)
		}
		*dst += f
	}
	return &m, sc.Err()
}

type alertPage struct {
	Alerts []struct {
		ID  int64  `json:"id"`
		Key string `json:"key"`
	} `json:"alerts"`
	Next int64 `json:"next"`
}

// scan reads back, newest first, every alert created since the run began
// and matches the run's keys against the requests that were accepted.
func (v *verifier) scan(ctx context.Context, w *Workload, rep *Report, out *Verification) error {
	start := time.Now()
	defer func() { out.ScanTime = Seconds(time.Since(start)) }()
	found := make([]uint8, w.Alerts)
	before := int64(0)
	for {
		page, err := v.page(ctx, 1000, before)
		if err != nil {
			return err
		}
		done := len(page.Alerts) == 0 || page.Next == 0
		for _, a := range page.Alerts {
			if a.ID <= v.newestID0 {
				done = true
				break
			}
			out.Scanned++
			seq, ok := parseKey(w.Run, a.Key)
			if !ok || seq >= w.Alerts {
				continue // another sender's alert
			}
			if found[seq] < 255 {
				found[seq]++
			}
		}
		if done {
			break
		}
		before = page.Next
	}
	for seq, n := range found {
		accepted := rep.accepted[seq/w.Batch]
		switch {
		case n > 1:
			out.Duplicates++
		case n == 1 && accepted:
			out.Stored++
		case n == 1:
			out.StoredOfFailed++
		case accepted:
			out.Missing++
		}
	}
	if out.Missing > 0 {
		out.Problems = append(out.Problems, fmt.Sprintf("%d accepted alerts are not in the store", out.Missing))
	}
	if out.Duplicates > 0 {
		out.Problems = append(out.Problems, fmt.Sprintf("%d alerts are stored more than once", out.Duplicates))
	}
	out.StoreChecked = true
	return nil
}

func (v *verifier) page(ctx context.Context, limit int, before int64) (*alertPage, error) {
	u := v.base + "/api/v1/alerts?state=all&limit=" + strconv.Itoa(limit)
	if before > 0 {
		u += "&before=" + strconv.FormatInt(before, 10)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+v.apiToken)
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return nil, fmt.Errorf("list alerts: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	var p alertPage
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return &p, nil
}

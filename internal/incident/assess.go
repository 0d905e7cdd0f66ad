package incident

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/klaxon-oss/klaxon"
)

// Assessment is what a responder knows of the impact, for the severity
// helper: can users reach the service at all, and what share of requests
// fails.
type Assessment struct {
	Unreachable bool
	// Failing is the percentage of requests failing, 0–100; negative:
	// not known.
	Failing float64
}

// Suggest walks the severity decision tree: no user can reach the service
// → level 0 (SEV1); else by the share of failing requests: over 50% → 0,
// 10–50% → 1, 5–10% → 2, below 5% → 3. It suggests; people decide. why
// explains the suggestion in a sentence.
func Suggest(a Assessment) (l klaxon.Level, why string) {
	switch {
	case a.Unreachable:
		return 0, "users cannot reach the service at all"
	case a.Failing < 0:
		return 1, "no failure rate given; assuming a partial outage"
	case a.Failing > 50:
		return 0, fmt.Sprintf("%s of requests failing is over 50%%", percent(a.Failing))
	case a.Failing >= 10:
		return 1, fmt.Sprintf("%s of requests failing is 10–50%%", percent(a.Failing))
	case a.Failing >= 5:
		return 2, fmt.Sprintf("%s of requests failing is 5–10%%", percent(a.Failing))
	}
	return 3, fmt.Sprintf("%s of requests failing is under 5%%", percent(a.Failing))
}

// ParseFailing reads a failure rate as people type it: "35%", "35", "2.5%".
func ParseFailing(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || v < 0 || v > 100 {
		return 0, klaxon.Errorf(klaxon.EINVALID, "%q is not a failure rate: give a percentage from 0 to 100, e.g. 35%%", s)
	}
	return v, nil
}

func percent(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "%" }

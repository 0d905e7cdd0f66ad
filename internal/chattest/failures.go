package chattest

import "net/http"

// failures is the next requests' injected failure: n of them answer status,
// with a Retry-After header when retryAfter is set. Its owner guards it.
type failures struct {
	n, status  int
	retryAfter string
}

func (f *failures) set(n, status int, retryAfter string) { *f = failures{n, status, retryAfter} }

// take uses up one failure, setting Retry-After on w, and returns its
// status; 0 when there is none left and the request goes through.
func (f *failures) take(w http.ResponseWriter) int {
	if f.n <= 0 {
		return 0
	}
	f.n--
	if f.retryAfter != "" {
		w.Header().Set("Retry-After", f.retryAfter)
	}
	return f.status
}

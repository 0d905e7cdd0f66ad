package alerting

// SetSearchWindow shrinks the search window for a test.
func SetSearchWindow(n int64) (restore func()) {
	old := searchWindow
	searchWindow = n
	return func() { searchWindow = old }
}

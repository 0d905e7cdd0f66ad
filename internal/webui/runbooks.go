package webui

import "net/http"

func (u *UI) runbookRoutes(mux *http.ServeMux) {}

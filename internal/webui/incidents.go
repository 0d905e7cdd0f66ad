package webui

import "net/http"

func (u *UI) incidentRoutes(mux *http.ServeMux) {}

package webui

import "net/http"

func (u *UI) insightsRoutes(mux *http.ServeMux) {}

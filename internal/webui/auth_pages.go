package webui

import "net/http"

func (u *UI) authRoutes(mux *http.ServeMux) {}

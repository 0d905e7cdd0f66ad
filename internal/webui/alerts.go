package webui

import "net/http"

func (u *UI) alertRoutes(mux *http.ServeMux) {}

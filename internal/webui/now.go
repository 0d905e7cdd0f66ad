package webui

import "net/http"

func (u *UI) nowRoutes(mux *http.ServeMux) {}

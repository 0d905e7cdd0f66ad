package webui

import "net/http"

func (u *UI) onCallRoutes(mux *http.ServeMux) {}

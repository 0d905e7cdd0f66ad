package auth

import (
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddr is the address failed sign-ins are counted against: the
// connection's peer, unless that peer is a trusted proxy, in which case the
// nearest X-Forwarded-For entry that is not itself a trusted proxy. Entries
// further left are the client's to write, so they are never believed.
func (s *Service) ClientAddr(r *http.Request) string {
	peer := remoteHost(r.RemoteAddr)
	addr, err := netip.ParseAddr(peer)
	if err != nil || !s.trusted(addr) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !s.trusted(hop) {
			return hop.Unmap().String()
		}
	}
	return peer
}

func (s *Service) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

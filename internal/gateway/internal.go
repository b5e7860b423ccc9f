package gateway

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// serveInternal serves minicloud's own endpoints:
//
//	GET  /_minicloud/health  version, uptime, every service and its state
//	POST /_minicloud/reset   wipe all state and stop everything minicloud started
//	POST /moto-api/reset     the same, for tooling written against moto
//	GET  /_minicloud/diagram the architecture of ?account= (default
//	                         000000000000) in ?region= (default us-east-1),
//	                         as Mermaid text drawn from live state
//	…                        Config.Endpoints, served by their owners
func (g *Gateway) serveInternal(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_minicloud/health" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		writeJSON(w, http.StatusOK, g.health())
	case r.URL.Path == "/_minicloud/reset" || r.URL.Path == "/moto-api/reset":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST"})
			return
		}
		if g.cfg.Reset != nil {
			if err := g.cfg.Reset(r.Context()); err != nil {
				g.log.Error("reset failed", "error", err)
				writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
				return
			}
		}
		g.log.Info("state reset")
		writeJSON(w, http.StatusOK, map[string]any{"reset": true})
	case r.URL.Path == "/_minicloud/diagram" && g.cfg.Diagram != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		g.serveDiagram(w, r)
	case g.cfg.Endpoints[r.URL.Path] != nil:
		g.cfg.Endpoints[r.URL.Path].ServeHTTP(w, r)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such minicloud endpoint: " + r.URL.Path})
	}
}

func (g *Gateway) serveDiagram(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	account, region := q.Get("account"), q.Get("region")
	if account == "" {
		account = DefaultAccount
	}
	if region == "" {
		region = DefaultRegion
	}
	if len(account) != 12 || strings.Trim(account, "0123456789") != "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "account must be 12 digits: " + account})
		return
	}
	if g.cfg.KnownRegion != nil && !g.cfg.KnownRegion(region) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unknown region " + strconv.Quote(region) + " (see aws ec2 describe-regions --all-regions)"})
		return
	}
	text, err := g.cfg.Diagram(r.Context(), account, region)
	if err != nil {
		g.log.Error("diagram failed", "account", account, "region", region, "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(text))
}

// health never loads a model: it must stay cheap, as tools poll it to learn
// that minicloud is up.
func (g *Gateway) health() map[string]any {
	services := map[string]any{}
	for _, b := range g.router.backends {
		state := "available"
		if len(b.Handlers) == 0 {
			state = "not implemented"
		}
		ops := make([]string, 0, len(b.Handlers))
		for name := range b.Handlers {
			ops = append(ops, name)
		}
		sort.Strings(ops)
		services[b.Info.Name] = map[string]any{"state": state, "protocols": b.Info.Protocols, "operations": ops}
	}
	h := map[string]any{
		"version":  g.cfg.Version,
		"uptime":   time.Since(g.started).Round(time.Millisecond).String(),
		"services": services,
	}
	if g.cfg.Health != nil {
		for k, v := range g.cfg.Health() {
			h[k] = v
		}
	}
	return h
}

// WriteJSON answers with v as indented JSON, as every /_minicloud/
// endpoint does.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

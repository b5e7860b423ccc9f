package server

import (
	"net/http"
	"path/filepath"

	"github.com/minicloud/minicloud/internal/gateway"
	"github.com/minicloud/minicloud/internal/pki"
)

// CAPath serves the root certificate of minicloud's certificate authority
// (PEM), which signs the certificates ACM issues: what `minicloud ca`
// prints and a client trusts (curl --cacert, SSL_CERT_FILE). Asking for it
// makes the CA if no request has needed it yet.
const CAPath = "/_minicloud/ca.pem"

// CADir is where the CA of the state directory stateDir lives.
func CADir(stateDir string) string { return filepath.Join(stateDir, "ca") }

// caDir is the server's CA directory, "" (in memory) with --ephemeral.
func caDir(cfg Config) string {
	if cfg.Ephemeral {
		return ""
	}
	return CADir(cfg.StateDir)
}

func caHandler(ca *pki.Authority) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET")
			gateway.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET"})
			return
		}
		b, err := ca.RootPEM()
		if err != nil {
			gateway.WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(b)
	})
}

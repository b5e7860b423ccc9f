package server

import (
	"cmp"
	"net/http"

	"github.com/minicloud/minicloud/internal/codec"
	"github.com/minicloud/minicloud/internal/gateway"
	"github.com/minicloud/minicloud/internal/service/route53"
)

// DelegationPath is the endpoint that plays the registrar of public hosted
// zones that share a name (route53's delegation rule):
//
//	GET  /_minicloud/route53/delegation            the names several public zones share:
//	                                               which zone answers, which are shadowed
//	POST /_minicloud/route53/delegation?zone=ID    delegate the zone's name to zone ID
const DelegationPath = "/_minicloud/route53/delegation"

func delegationHandler(r53 *route53.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			list := r53.Delegations()
			if list == nil {
				list = []route53.Delegation{}
			}
			gateway.WriteJSON(w, http.StatusOK, list)
		case http.MethodPost:
			zone := r.URL.Query().Get("zone")
			if zone == "" {
				gateway.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "name the hosted zone to delegate to: ?zone=ID"})
				return
			}
			d, err := r53.Delegate(r.Context(), zone)
			if err != nil {
				e := codec.AsError(err)
				gateway.WriteJSON(w, cmp.Or(e.Status, http.StatusInternalServerError), map[string]string{"error": e.Code + ": " + e.Message})
				return
			}
			gateway.WriteJSON(w, http.StatusOK, d)
		default:
			w.Header().Set("Allow", "GET, POST")
			gateway.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET or POST"})
		}
	})
}

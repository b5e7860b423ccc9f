package rds

import (
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// clusterHealth is the "clusters" list of /_minicloud/health's "rds"
// entry: per DB cluster its status, writer and endpoint names, and the
// loopback addresses of its cluster endpoint (the writer) and reader
// endpoint (round-robin over the readers), which reach it from this host,
// and its custom endpoints ("customEndpoints": id, status, endpoint and
// loopback, round-robin over the members each selects).
func (s *Service) clusterHealth(tx state.Tx) []map[string]any {
	var list []map[string]any
	_ = tx.Scan("", func(key string, _ []byte) error {
		sc, id, ok := records.Clusters.ParseKey(key)
		if !ok {
			return nil
		}
		cl, found, err := records.Clusters.Get(tx, sc, id)
		if err != nil || !found {
			return err
		}
		e := map[string]any{"account": sc.Account, "region": sc.Region, "id": id, "status": deref(cl.Status), "writer": cl.Writer()}
		port := itoa(int(deref(cl.Port)))
		if n := deref(cl.Endpoint); n != "" {
			e["endpoint"] = n + ":" + port
		}
		if n := deref(cl.ReaderEndpoint); n != "" {
			e["readerEndpoint"] = n + ":" + port
		}
		if cl.WriterPort != 0 {
			e["loopback"] = "127.0.0.1:" + itoa(cl.WriterPort)
		}
		if cl.ReaderPort != 0 {
			e["readerLoopback"] = "127.0.0.1:" + itoa(cl.ReaderPort)
		}
		var custom []map[string]any
		for _, addr := range cl.CustomEndpoints {
			ep, found, err := records.ClusterEndpoints.Get(tx, sc, records.EndpointID(addr))
			if err != nil || !found {
				continue
			}
			ce := map[string]any{"id": ep.ID, "status": ep.Status, "type": ep.Type, "endpoint": ep.Address + ":" + port}
			if ep.Port != 0 {
				ce["loopback"] = "127.0.0.1:" + itoa(ep.Port)
			}
			custom = append(custom, ce)
		}
		if custom != nil {
			e["customEndpoints"] = custom
		}
		list = append(list, e)
		return nil
	})
	return list
}

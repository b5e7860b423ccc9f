package rds

import (
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// clusterHealth is the "clusters" list of /_minicloud/health's "rds"
// entry: per DB cluster its status, writer and endpoint names, and the
// loopback addresses of its cluster endpoint (the writer) and reader
// endpoint (round-robin over the readers), which reach it from this host.
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
		list = append(list, e)
		return nil
	})
	return list
}

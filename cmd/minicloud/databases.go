package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// databaseRow is one DB instance as /_minicloud/health lists it under
// rds.instances.
type databaseRow struct {
	Account  string `json:"account"`
	Region   string `json:"region"`
	ID       string `json:"id"`
	Status   string `json:"status"`
	Endpoint string `json:"endpoint"`
	Loopback string `json:"loopback"`
	VPC      *struct {
		Address string `json:"address"`
	} `json:"vpc"`
	Error string `json:"error"`
}

// clusterRow is one DB cluster as /_minicloud/health lists it under
// rds.clusters.
type clusterRow struct {
	Account        string `json:"account"`
	Region         string `json:"region"`
	ID             string `json:"id"`
	Status         string `json:"status"`
	Writer         string `json:"writer"`
	Endpoint       string `json:"endpoint"`
	ReaderEndpoint string `json:"readerEndpoint"`
	Loopback       string `json:"loopback"`
	ReaderLoopback string `json:"readerLoopback"`
}

// databases lists the running server's DB instances with the loopback
// address where a developer on this machine reaches each one: the endpoint
// name is for clients inside the VPC (or through minicloud's DNS), the
// loopback address works from the host with no DNS or routing set up.
func databases(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("databases", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", defaultServer(), "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rows, clusters, err := fetchDatabases(context.Background(), *endpoint)
	if err != nil {
		fmt.Fprintf(stderr, "minicloud databases: %v\n", err)
		return 1
	}
	writeDatabases(stdout, rows)
	writeClusters(stdout, clusters)
	return 0
}

// fetchDatabases reads the DB instances and DB clusters from a running
// minicloud's health endpoint at addr (host:port or a URL).
func fetchDatabases(ctx context.Context, addr string) ([]databaseRow, []clusterRow, error) {
	b, err := getFromServer(ctx, addr, "/_minicloud/health")
	if err != nil {
		return nil, nil, err
	}
	var health struct {
		RDS struct {
			Instances []databaseRow `json:"instances"`
			Clusters  []clusterRow  `json:"clusters"`
		} `json:"rds"`
	}
	if err := json.Unmarshal(b, &health); err != nil {
		return nil, nil, fmt.Errorf("decode %s/_minicloud/health: %w", serverURL(addr), err)
	}
	clusters := health.RDS.Clusters
	sort.Slice(clusters, func(i, j int) bool {
		a, b := clusters[i], clusters[j]
		return a.Account+"/"+a.Region+"/"+a.ID < b.Account+"/"+b.Region+"/"+b.ID
	})
	rows := health.RDS.Instances
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return a.ID < b.ID
	})
	return rows, clusters, nil
}

// writeClusters lists the DB clusters (nothing when there are none) with
// the loopback addresses of their cluster endpoint (the writer) and reader
// endpoint (new connections spread over the readers).
func writeClusters(w io.Writer, rows []clusterRow) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tREGION\tDB CLUSTER\tSTATUS\tWRITER\tCLUSTER LOOPBACK\tREADER LOOPBACK\tENDPOINT\tREADER ENDPOINT")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Account, r.Region, r.ID, r.Status, orDash(r.Writer),
			orDash(r.Loopback), orDash(r.ReaderLoopback), orDash(r.Endpoint), orDash(r.ReaderEndpoint))
	}
	_ = tw.Flush()
}

func writeDatabases(w io.Writer, rows []databaseRow) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "no DB instances")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tREGION\tDB INSTANCE\tSTATUS\tLOOPBACK (from this machine)\tVPC ADDRESS\tENDPOINT")
	for _, r := range rows {
		vpc := "-"
		if r.VPC != nil && r.VPC.Address != "" {
			vpc = r.VPC.Address
		}
		status := r.Status
		if r.Error != "" {
			status += " (" + r.Error + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Account, r.Region, r.ID, status, orDash(r.Loopback), vpc, orDash(r.Endpoint))
	}
	_ = tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

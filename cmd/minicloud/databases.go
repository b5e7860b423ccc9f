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
	rows, err := fetchDatabases(context.Background(), *endpoint)
	if err != nil {
		fmt.Fprintf(stderr, "minicloud databases: %v\n", err)
		return 1
	}
	writeDatabases(stdout, rows)
	return 0
}

// fetchDatabases reads the DB instances from a running minicloud's health
// endpoint at addr (host:port or a URL).
func fetchDatabases(ctx context.Context, addr string) ([]databaseRow, error) {
	b, err := getFromServer(ctx, addr, "/_minicloud/health")
	if err != nil {
		return nil, err
	}
	var health struct {
		RDS struct {
			Instances []databaseRow `json:"instances"`
		} `json:"rds"`
	}
	if err := json.Unmarshal(b, &health); err != nil {
		return nil, fmt.Errorf("decode %s/_minicloud/health: %w", serverURL(addr), err)
	}
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
	return rows, nil
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

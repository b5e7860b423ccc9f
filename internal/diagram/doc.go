// Package diagram draws an account's architecture from live state as
// Mermaid text, in the style of the reference architectures' notes
// (docs/seed.md): the user, Route 53's names, Elastic IPs, instances and
// databases inside their VPC, with availability zones and subnets as
// subgraphs.
//
// It reads through three small interfaces (Network, Databases, Records)
// that minicloud's server implements with the services' own read-only
// Describe/List operations, so this package knows no service's internals
// and a service never reaches into another's. Build is pure: the same
// state always gives the same text, which the table tests pin down.
//
// It owns the drawing: which nodes, subgraphs and edges the state gives,
// and their Mermaid text. It must not read the store or a service's records,
// and must not decide what is true of the architecture beyond what the
// services report (an edge instance ↔ database is drawn from the security
// groups' rules as EC2 describes them).
package diagram

// Package guestlimit bounds what guests (instances, and anything else that
// runs on a VPC) can take of the minicloud services they reach from inside
// their VPC — the metadata service (internal/instance/imds) and the VPC
// resolver (internal/vpcdns) — so that one guest cannot starve minicloud or
// its neighbours. It provides three mechanisms and knows no protocol:
//
//   - Budget: the process-wide number of file descriptors that guests'
//     connections (and the sockets minicloud opens on their behalf, such as
//     a resolver's upstream queries) may hold at once. Process reads
//     RLIMIT_NOFILE once and sets the budget well below it — a quarter of
//     it, at most MaxBudget — so that the API, the store, the data plane
//     and the database servers keep the rest whatever guests do. A guest
//     that issue 12's session flooded the metadata service with 24,000
//     half-open requests ran minicloud out of descriptors; with the budget
//     such a flood is refused at accept once it holds its share.
//   - Slots: concurrent holders (connections, queries in flight) counted per
//     key (an instance, a source address), with a cap per key and a cap in
//     all, each holder also drawing one descriptor from a Budget. Listen
//     wraps a listener so that a connection over a cap is closed as soon as
//     it is accepted: it never reaches the server, holds nothing, and the
//     guest sees its connection closed.
//   - Rate: a token bucket per key (requests or packets per second with a
//     burst). Its table of keys is bounded: a guest that sends from ever
//     new source addresses shares one overflow bucket instead of growing
//     it.
//
// Keys are what the caller says a guest is: the metadata service counts
// per instance (the instance that owns the source address), the resolver
// per source address, as AWS counts per ENI.
package guestlimit

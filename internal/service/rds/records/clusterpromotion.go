package records

import "github.com/minicloud/minicloud/internal/state"

// MemberPromotions records, per cluster member, that it was made its
// cluster's writer while its server ran as a reader and has yet to be
// promoted in place (table MemberPromotions, id the member's
// DBInstanceIdentifier). It is written in the same transaction as the
// role change: by the controller's failover (swapWriter) and by the API
// when the writer is deleted (the next writer chosen); the controller
// removes it once the member is promoted and the other members follow it.
// A member's server started after a restart of minicloud comes up from its
// data, which is still a reader's: without this record nothing would say
// that it must still be promoted.
var MemberPromotions = state.Table[MemberPromotion]{Service: "rds", Kind: "dbclusterpromotion"}

// MemberPromotion is a pending promotion of a cluster's new writer.
type MemberPromotion struct {
	// Cluster is the member's DBClusterIdentifier when it was recorded.
	Cluster string `json:"cluster"`
}
